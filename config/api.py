"""The JSON API (django-ninja) and its OpenAPI document at /api/openapi.json."""

from ninja import NinjaAPI

from shebao.fees.api import router as fees_router

api = NinjaAPI(title="个人社保费掌上办 API", version="1", urls_namespace="api", docs_url=None)
api.add_router("/", fees_router)
