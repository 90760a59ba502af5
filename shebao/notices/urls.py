from django.urls import path

from shebao.notices import views

app_name = "notices"
urlpatterns = [
    path("", views.notice_list_view, name="list"),
    path("<str:public_id>", views.notice_detail, name="detail"),
    path("<str:public_id>/close", views.notice_close, name="close"),
    path("<str:public_id>/acknowledge", views.notice_acknowledge_view, name="acknowledge"),
    path("<str:public_id>/files/<str:file_id>", views.attachment_download, name="attachment"),
]
