"""manage.py staff_totp USERNAME: bind a TOTP authenticator (django-otp) to a staff account;
prints the otpauth:// address and its QR code for the phone's authenticator app. A new
binding replaces the old one (a lost phone). Audited."""

from __future__ import annotations

import segno
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from shebao.audit.services import audit_record
from shebao.common import clock
from shebao.common.actor import Actor


class Command(BaseCommand):
    help = "为后台工作人员绑定动态口令（TOTP 身份验证器），输出二维码；重新绑定会使旧的失效"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--no-qr", action="store_true", help="只输出 otpauth 地址")

    def handle(self, *args, **opts):
        user = get_user_model().objects.filter(username=opts["username"], is_staff=True).first()
        if user is None:
            raise CommandError(f"没有用户名为“{opts['username']}”的后台工作人员")
        with transaction.atomic():
            TOTPDevice.objects.filter(user=user).delete()
            device = TOTPDevice.objects.create(user=user, name="身份验证器", confirmed=True)
            audit_record(actor=Actor.system("staff_totp"), action="staff.totp_bound", subject_type="account", subject_ref=user.public_id,
                         now=clock.now())
        uri = device.config_url
        self.stdout.write(f"已为 {user.username} 绑定动态口令。请用身份验证器扫描二维码，或输入：\n{uri}")
        if not opts["no_qr"]:
            segno.make(uri, error="m").terminal(out=self.stdout, compact=True)
