from django.urls import path

from shebao.core import views

app_name = "query"
urlpatterns = [
    path("", views.index, name="index"),
    path("insured/<str:kind>", views.insured, name="insured"),
]
