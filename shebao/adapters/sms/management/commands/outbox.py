"""``manage.py outbox``: the SMS simulator's outbox, newest first (development tool).

Reads ``settings.SIM_STATE_DIR / "sms.sqlite3"``. Showing full numbers is acceptable
here: the simulator only ever holds messages sent in development and tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from shebao.adapters.sms.simulator import SHANGHAI, read_outbox


class Command(BaseCommand):
    help = "Print the SMS simulator's outbox (newest first): time (Asia/Shanghai), phone, text."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--phone", default=None, help="only messages to this number")
        parser.add_argument("--limit", type=int, default=20, help="how many messages (default 20)")

    def handle(self, *args: Any, phone: str | None, limit: int, **options: Any) -> None:
        state_path = Path(settings.SIM_STATE_DIR) / "sms.sqlite3"
        messages = read_outbox(state_path, phone=phone, limit=max(limit, 1))
        if not messages:
            self.stdout.write("（收件箱为空）")
            return
        for message in messages:
            sent_at = message["sent_at"].astimezone(SHANGHAI)
            self.stdout.write(f"{sent_at:%Y-%m-%d %H:%M:%S}  {message['phone']}  {message['text']}")
