"""manage.py core_advance_receipts: the embedded core's treasury steps (已上解 / 已入库) that are due."""

from django.core.management.base import BaseCommand

from shebao.adapters.core import get_core
from shebao.common import clock


class Command(BaseCommand):
    help = "内置核心：推进到期的税票状态（已缴费 → 已上解未入库 → 已入库）"

    def handle(self, *args, **opts):
        self.stdout.write(f"推进税票 {get_core().receipts_advance(now=clock.now())} 张")
