from django.urls import path

from shebao.agreements import agreement_views, batch_views, views

app_name = "agreements"
urlpatterns = [
    path("payable-amount", views.payable_amount, name="payable_amount"),
    path("", agreement_views.agreement_list, name="list"),
    path("batch", batch_views.batch_void, name="batch_void"),
    path("batch/query", batch_views.batch_query, name="batch_query"),
    path("three-party/new", agreement_views.three_party_new, name="three_party_new"),
    path("three-party/<str:public_id>", agreement_views.three_party, name="three_party"),
    path("two-party/new", agreement_views.two_party_new, name="two_party_new"),
    path("two-party/<str:public_id>", agreement_views.two_party, name="two_party"),
]
