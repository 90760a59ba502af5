"""manage.py close_stale_payments: query and close attempts past their expiry (run every few minutes)."""

from django.core.management.base import BaseCommand

from shebao.common import clock
from shebao.fees.services import attempts_close_stale


class Command(BaseCommand):
    help = "查询并关闭已过支付期限的订单（已支付的补记入账）"

    def handle(self, *args, **opts):
        counts = attempts_close_stale(now=clock.now())
        self.stdout.write(f"补记入账 {counts['credited']} 笔，关闭 {counts['closed']} 笔，查询失败 {counts['errors']} 笔")
