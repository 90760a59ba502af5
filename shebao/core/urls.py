from django.urls import path

app_name = "query"
urlpatterns: list = []
