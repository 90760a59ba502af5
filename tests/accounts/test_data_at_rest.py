"""Personal data at rest: a raw dump of every table holds no ID number, mobile or address in clear text."""

from __future__ import annotations

import pytest
from django.db import connection

from shebao.core.demo_data import DEMO_PASSWORD, DEMO_PEOPLE, demo_id
from tests.accounts.helpers import login, new_person, register

pytestmark = pytest.mark.django_db

ADDRESS = "桂林市七星区漓江路88号"


def _raw_dump() -> str:
    chunks = []
    with connection.cursor() as cur:
        for table in connection.introspection.table_names(cur):
            cur.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - table names from introspection
            chunks.extend(repr(row) for row in cur.fetchall())
    return "\n".join(chunks)


def test_database_dump_contains_no_clear_personal_data(client, sims, demo_people):
    person = new_person(name="覃丽华")
    assert register(client, sims, person).status_code == 200
    zhang = DEMO_PEOPLE[0]
    login(client, sims, demo_id(zhang), DEMO_PASSWORD)
    client.post("/accounts/me/address", {"address": ADDRESS})
    dump = _raw_dump()
    assert len(dump) > 1000  # the dump really read the tables
    secrets = [person["id_number"], person["mobile"], ADDRESS, "漓江路"]
    for p in DEMO_PEOPLE:
        secrets.append(demo_id(p))
        if p[4]:
            secrets.append(p[4])
    for value in secrets:
        assert value not in dump, f"clear value found: {value[:3]}…"
    # names are personal data too
    assert "覃丽华" not in dump and "张伟" not in dump
