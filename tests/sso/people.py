"""The demo people as a partner's ticket names them (shebao.core.demo_data)."""

from __future__ import annotations

from shebao.core.demo_data import DEMO_PEOPLE, demo_id


def person_claims(who: str, /, **over) -> dict:
    """Ticket claims of the demo person ``who`` (mobile 13900000000 when they have none)."""
    p = next(p for p in DEMO_PEOPLE if p[0] == who)
    return {"name": p[0], "id_type": "201", "id_number": demo_id(p), "nationality": "CHN", "mobile": p[4] or "13912345670",
            "return_url": "https://etax.example.cn/back", **over}
