from django.urls import path

from shebao.fees import views

app_name = "fees"
urlpatterns = [
    path("", views.index, name="index"),
    path("declare", views.declare, name="declare"),
    path("assessed", views.pay_assessed, name="pay_assessed"),
    path("payments", views.payments, name="payments"),
    path("orders/<str:public_id>", views.order, name="order"),
    path("orders/<str:public_id>/return", views.order_return, name="order_return"),
    path("orders/<str:public_id>/receipt", views.receipt, name="receipt"),
    path("orders/<str:public_id>/receipt.pdf", views.receipt_pdf, name="receipt_pdf"),
]
