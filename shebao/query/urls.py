from django.urls import path

from shebao.query import views

app_name = "query"
urlpatterns = [
    path("", views.index, name="index"),
    path("insured/<str:kind>", views.insured, name="insured"),
    path("virtual", views.virtual_results, name="virtual"),
]
