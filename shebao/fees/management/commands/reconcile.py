"""manage.py reconcile [--date YYYY-MM-DD]: the channel's statement against our payments."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from shebao.adapters.payment import get_payment_channel
from shebao.adapters.payment.port import PaymentError
from shebao.common import clock
from shebao.fees.reconcile import reconcile_day
from shebao.fees.services import attempts_resolve_unknown


class Command(BaseCommand):
    help = "对账：比对支付渠道的交易账单与本系统入账、税票，列出每一处差异"

    def add_arguments(self, parser):
        parser.add_argument("--date", help="账单日期 YYYY-MM-DD（默认昨天）")
        parser.add_argument("--channel", default="wechatpay")

    def handle(self, *args, **opts):
        day = dt.date.fromisoformat(opts["date"]) if opts["date"] else clock.today() - dt.timedelta(days=1)
        channel = get_payment_channel(opts["channel"])
        resolved = attempts_resolve_unknown(now=clock.now(), channel_name=channel.name)
        if any(resolved.values()):
            self.stdout.write(f"处理中的支付已查询：已支付 {resolved['paid']} 笔，未支付 {resolved['not_paid']} 笔，"
                              f"仍未知 {resolved['unknown']} 笔")
        try:
            statement, attempts, diffs = reconcile_day(channel=channel, day=day)
        except PaymentError as exc:
            raise CommandError(f"获取账单失败：{exc}（{exc.code}）") from exc
        self.stdout.write(f"{day} {channel.label}：渠道账单 {len(statement)} 笔，本系统入账 {len(attempts)} 笔")
        for d in diffs:
            self.stdout.write(f"  差异 [{d.label}] 商户订单号 {d.out_trade_no} 渠道交易号 {d.transaction_id or '-'}：{d.detail}")
        if diffs:
            raise CommandError(f"对账不平：{len(diffs)} 处差异，请人工核查")
        self.stdout.write(self.style.SUCCESS("对账平衡，无差异"))
