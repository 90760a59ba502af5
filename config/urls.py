from django.contrib import admin
from django.urls import include, path

from config.api import api
from shebao.fees import views as fees_views
from shebao.manual import views as manual_views
from shebao.web import views as web_views

# admin.site is shebao.common.backoffice.StaffAdminSite: TOTP, throttled and audited logins

urlpatterns = [
    path("", web_views.home, name="home"),
    path("healthz", web_views.healthz, name="healthz"),
    path("favicon.ico", web_views.favicon, name="favicon"),
    path("readyz", web_views.readyz, name="readyz"),
    path("elderly", web_views.toggle_elderly, name="toggle_elderly"),
    path("m/<str:key>", web_views.module, name="module"),
    path("manual", manual_views.manual, name="manual"),
    path("manual.pdf", manual_views.manual_pdf, name="manual_pdf"),
    path("manual/verify", manual_views.manual_verify, name="manual_verify"),
    path("accounts/", include("shebao.accounts.urls")),
    path("query/", include("shebao.query.urls")),
    path("fees/", include("shebao.fees.urls")),
    path("refunds/", include("shebao.refunds.urls")),
    path("agreements/", include("shebao.agreements.urls")),
    path("notices/", include("shebao.notices.urls")),
    path("sso/", include("shebao.sso.urls")),
    path("verify/<str:code>", fees_views.receipt_verify, name="receipt_verify"),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]
