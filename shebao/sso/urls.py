from django.urls import path

from shebao.sso import views

app_name = "sso"
urlpatterns = [
    path("ticket", views.ticket_arrive, name="ticket"),
]
