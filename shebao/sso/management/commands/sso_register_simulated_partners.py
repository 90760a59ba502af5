"""Register the partner simulator's channels (etax, gov, bank) in development."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from shebao.common import clock
from shebao.common.actor import Actor, Door


class Command(BaseCommand):
    help = "登记合作渠道模拟器（电子税务局、政务服务、合作银行）的渠道信息（仅开发环境）"

    def handle(self, *args, **options):
        if not settings.SIMULATORS_ENABLED:
            raise CommandError("模拟器未启用（SIMULATORS_ENABLED=0）")
        from shebao.sso.simulated import simulated_partners_register

        channels = simulated_partners_register(base_url=f"{settings.SELF_URL}/sim/partner",
                                               actor=Actor.system("sso_register_simulated_partners", door=Door.COMMAND), now=clock.now())
        for channel in channels:
            self.stdout.write(f"{channel.identifier}: {channel.name}")
