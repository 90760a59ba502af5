from django.urls import path

from shebao.refunds import views

app_name = "refunds"
urlpatterns = [
    path("", views.index, name="index"),
    path("normal", views.normal, name="normal"),
    path("special", views.special, name="special"),
    path("special/sheet", views.special_sheet, name="special_sheet"),
    path("verify/<str:code>", views.verify, name="verify"),
    path("<str:public_id>/decision.pdf", views.decision_pdf, name="decision_pdf"),
    path("<str:public_id>", views.detail, name="detail"),
]
