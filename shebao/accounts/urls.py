from django.urls import path

from shebao.accounts import views, wechat_views

app_name = "accounts"
urlpatterns = [
    path("register", views.register, name="register"),
    path("login", views.login_view, name="login"),
    path("login/verify", views.login_verify, name="login_verify"),
    path("logout", views.logout_view, name="logout"),
    path("me", views.me, name="me"),
    path("me/mobile", views.change_mobile, name="change_mobile"),
    path("me/address", views.change_address, name="change_address"),
    path("records", views.records, name="records"),
    path("records/<str:public_id>", views.record_detail, name="record_detail"),
    path("step-up", views.step_up, name="step_up"),
    path("sms/status", views.sms_status, name="sms_status"),
    path("wechat/bind", wechat_views.wechat_bind_start, name="wechat_bind"),
    path("wechat/identify", wechat_views.wechat_identify_start, name="wechat_identify"),
    path("wechat/callback", wechat_views.wechat_callback, name="wechat_callback"),
    path("wechat/unbind", wechat_views.wechat_unbind, name="wechat_unbind"),
]
