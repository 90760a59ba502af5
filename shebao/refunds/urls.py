from django.urls import path

from shebao.refunds import views

app_name = "refunds"
urlpatterns = [
    path("", views.index, name="index"),
    path("normal", views.normal, name="normal"),
    path("<str:public_id>", views.detail, name="detail"),
]
