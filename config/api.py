"""The JSON API (django-ninja) and its OpenAPI document at /api/openapi.json: the payment
callbacks (shebao.fees.api) and the partner API v1 (shebao.sso.api), one error shape."""

from ninja import NinjaAPI

from shebao.fees.api import router as fees_router
from shebao.sso.api import router as partner_router
from shebao.sso.api_auth import install_error_handlers

PAYMENT_CHANNELS = ["wechatpay"]


class ShebaoApi(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        """The document names the payment channels there are in the callbacks' path (the
        handlers answer any other with their channel contract's 400 FAIL)."""
        schema = super().get_openapi_schema(*args, **kwargs)
        for path, item in schema["paths"].items():
            if path.startswith("/api/pay/{channel}/"):
                for operation in item.values():
                    for parameter in operation.get("parameters", []):
                        if parameter["name"] == "channel":
                            parameter["schema"]["enum"] = PAYMENT_CHANNELS
        return schema


api = ShebaoApi(title="个人社保费掌上办 API", version="1", urls_namespace="api", docs_url=None)
api.add_router("/", fees_router)
api.add_router("/", partner_router)
install_error_handlers(api)
