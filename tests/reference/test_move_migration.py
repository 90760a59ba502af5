"""City and InsuranceType moved from ``core`` to ``reference`` in the migration state
only: a database at the migrations before the move keeps every row, every foreign
key and the staff permissions on the two models when it migrates forward."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from shebao.reference.models import City, InsuranceType
from shebao.rules.models import ContributionRule

pytestmark = pytest.mark.django_db(transaction=True)

MAIN = [("core", "0003_blind_index_key_id"), ("rules", "0002_load_customer_rules_2020_2021")]  # before the move


def _migrate(*, before: bool):
    """Migrate the test database to main's state before the move (or to the latest); the
    historical models of that state."""
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    if before:
        executor.migrate([*MAIN, ("reference", None)])
        nodes = [n for n in leaves if n[0] not in ("core", "rules", "reference")] + MAIN
    else:
        executor.migrate(leaves)
        nodes = leaves
    return MigrationExecutor(connection).loader.project_state(nodes).apps


def _seed_before(old):
    """Rows as main held them: a city, an insurance type, an agency and a rule using them, and
    a staff group allowed to change cities (content type ``core.city``; the test
    database has it already when migrating back relabelled it)."""
    city = old.get_model("core", "City").objects.create(division_code="459900", name="测试市")
    itype = old.get_model("core", "InsuranceType").objects.create(
        code="99999-T",
        name="测试险种",
        person_type="flexible",
        collection_item_code="99999",
        collection_item="测试",
        collection_subitem_code="999990000",
        collection_subitem="测试",
        default_rate=Decimal("0.1000"),
    )
    old.get_model("core", "Agency").objects.create(code="SB459900", name="测试社保局", city=city)
    old.get_model("rules", "ContributionRule").objects.create(
        city=city,
        insurance_type=itype,
        contribution_year=2026,
        valid_from=dt.date(2026, 1, 1),
        calculation="fixed",
        declaration_mode="self",
        grades=["100.00"],
        rate=Decimal("0"),
        collection_opens_on=dt.date(2026, 1, 1),
        policy_ref="测试文号",
        approved_by="测试",
        created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    ContentType = old.get_model("contenttypes", "ContentType")
    content_type, _ = ContentType.objects.get_or_create(app_label="core", model="city")
    permission, _ = old.get_model("auth", "Permission").objects.get_or_create(
        codename="change_city", content_type=content_type, defaults={"name": "Can change 地市"}
    )
    old.get_model("auth", "Group").objects.create(name="参考数据维护").permissions.add(permission)
    return city.pk, itype.pk


def test_migrating_forward_keeps_rows_foreign_keys_and_permissions():
    old = _migrate(before=True)
    assert old.get_model("core", "City")._meta.db_table == "core_city"
    with pytest.raises(LookupError):
        old.get_model("reference", "City")
    city_pk, itype_pk = _seed_before(old)

    new = _migrate(before=False)

    city = City.objects.get(division_code="459900")
    assert (city.pk, city.name) == (city_pk, "测试市")
    assert InsuranceType.objects.get(code="99999-T").pk == itype_pk
    assert list(new.get_model("core", "Agency").objects.filter(city_id=city_pk).values_list("code", flat=True)) == ["SB459900"]
    rule = ContributionRule.objects.select_related("city", "insurance_type").get(policy_ref="测试文号")
    assert (rule.city, rule.insurance_type) == (city, InsuranceType.objects.get(pk=itype_pk))
    ContentType = new.get_model("contenttypes", "ContentType")
    assert list(ContentType.objects.filter(model="city").values_list("app_label", flat=True)) == ["reference"]
    group = new.get_model("auth", "Group").objects.get(name="参考数据维护")
    assert list(group.permissions.values_list("content_type__app_label", "codename")) == [("reference", "change_city")]


def test_the_move_runs_no_schema_change():
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    for app, name in [
        ("reference", "0001_city_and_insurance_type_from_core"),
        ("rules", "0003_rule_fks_to_reference"),
        ("core", "0004_city_and_insurance_type_to_reference"),
    ]:
        state = executor.loader.project_state((app, name), at_end=False)
        with connection.schema_editor(collect_sql=True, atomic=False) as editor:
            executor.loader.graph.nodes[(app, name)].apply(state, editor, collect_sql=True)
        assert [sql for sql in editor.collected_sql if not sql.startswith("--")] == [], (app, name)
