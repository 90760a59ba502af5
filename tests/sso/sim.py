"""The partner simulator as the SSO tests drive it (a real server on loopback: ``sims``)."""

from __future__ import annotations

import httpx

from shebao.common import clock
from shebao.sso.simulated import simulated_partners_register
from tests import actors


def register_simulated(sims) -> None:
    simulated_partners_register(base_url=f"{sims.url}/sim/partner", actor=actors.system("test"), now=clock.now())


def sim_ticket(sims, partner: str = "etax", person: dict | None = None, **claims) -> tuple[str, str]:
    """(ticket, partner session) the simulated partner issues."""
    body = {"person": person, "claims": claims} if person else {"claims": claims}
    data = httpx.post(f"{sims.url}/sim/partner/{partner}/_tickets", json=body, timeout=5).raise_for_status().json()
    return data["ticket"], data["sid"]


def sim_revoke(sims, partner: str = "etax", sid: str | None = None) -> None:
    httpx.post(f"{sims.url}/sim/partner/{partner}/_revoke", json={"sid": sid} if sid else {}, timeout=5).raise_for_status()


def sim_checks(sims, partner: str = "etax") -> list[dict]:
    return httpx.get(f"{sims.url}/sim/partner/{partner}/_checks", timeout=5).raise_for_status().json()


def sim_control(sims, partner: str, mode: str) -> None:
    httpx.post(f"{sims.url}/sim/partner/{partner}/_control", json={"mode": mode}, timeout=5).raise_for_status()
