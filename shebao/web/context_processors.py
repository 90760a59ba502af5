from shebao.web.views import ELDERLY_COOKIE


def site(request):
    return {"elderly": request.COOKIES.get(ELDERLY_COOKIE) == "1", "site_name": "个人社保费掌上办"}
