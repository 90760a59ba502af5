from django.urls import path

from shebao.sso import views

app_name = "sso"
urlpatterns = [
    path("ticket", views.ticket_arrive, name="ticket"),
    path("arrive/<str:code>", views.arrival_redeem, name="arrive"),
    path("oidc/<slug:identifier>/start", views.oidc_start, name="oidc_start"),
    path("oidc/<slug:identifier>/callback", views.oidc_callback, name="oidc_callback"),
]
