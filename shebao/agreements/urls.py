from django.urls import path

from shebao.agreements import views

app_name = "agreements"
urlpatterns = [
    path("payable-amount", views.payable_amount, name="payable_amount"),
]
