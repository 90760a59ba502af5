"""The back office for rules: staff change a rule by adding a new version
(never by editing a saved row), every save is audited, and an overlap is a
form error that changes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from django.urls import reverse

from shebao.audit.models import AuditEvent
from shebao.rules.models import ContributionRule
from shebao.rules.services import rule_save
from tests import actors
from tests.rules.factories import FROZEN_NOW, rule_make, staff_create
from tests.staff import verified_client

pytestmark = pytest.mark.django_db

ADD = reverse("admin:rules_contributionrule_add")


@pytest.fixture
def staff_client(client):
    staff = staff_create()
    verified_client(staff, client)
    client.staff = staff
    return client


@pytest.fixture
def rule() -> ContributionRule:
    return rule_save(rule=rule_make(), actor=actors.system(), now=FROZEN_NOW)


def form_data(form) -> dict[str, str]:
    """What the browser would post back for the form as rendered."""
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None:
            continue
        data[name] = "on" if value is True else ("" if value is False else str(value.pk if hasattr(value, "pk") else value))
    return {k: v for k, v in data.items() if v != ""}


def test_changelist_filters_and_search(staff_client, rule):
    url = reverse("admin:rules_contributionrule_changelist")

    by_year = staff_client.get(url, {"contribution_year": "2030"})
    by_ref = staff_client.get(url, {"q": "测试规则"})
    by_mode = staff_client.get(url, {"declaration_mode": "assessed"})

    assert [r.pk for r in by_year.context["cl"].result_list] == [rule.pk]
    assert [r.pk for r in by_ref.context["cl"].result_list] == [rule.pk]
    assert by_mode.context["cl"].result_count == 12 + 8  # shipped assessed rows: 12 of 2020, 8 of 2021


def test_saved_rule_is_read_only_with_a_new_version_link(staff_client, rule):
    url = reverse("admin:rules_contributionrule_change", args=[rule.pk])

    page = staff_client.get(url)
    post = staff_client.post(url, {"min_base": "1.00"})
    delete = staff_client.post(reverse("admin:rules_contributionrule_delete", args=[rule.pk]), {"post": "yes"})

    assert page.status_code == 200 and f"{ADD}?copy_from={rule.pk}" in page.content.decode()
    assert (post.status_code, delete.status_code) == (403, 403)
    assert ContributionRule.objects.get(pk=rule.pk).min_base == D("4000.00")


def test_copy_as_new_version_action_opens_a_prefilled_add_form(staff_client, rule):
    response = staff_client.post(
        reverse("admin:rules_contributionrule_changelist"), {"action": "copy_as_new_version", "_selected_action": [rule.pk]}
    )

    assert response.status_code == 302 and response["Location"] == f"{ADD}?copy_from={rule.pk}"
    form = staff_client.get(response["Location"]).context["adminform"].form
    assert (form["min_base"].value(), form["grades"].value(), form["valid_from"].value()) == (
        D("4000.00"),
        "4000.00, 20000.00",
        None,
    )


def test_new_version_through_the_admin_closes_the_old_window_and_is_audited(staff_client, rule):
    url = f"{ADD}?copy_from={rule.pk}"
    data = form_data(staff_client.get(url).context["adminform"].form)
    data |= {"valid_from": "2030-08-01", "min_base": "4500.00", "grades": "4500, 20000", "approved_by": "张科长"}

    response = staff_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    rule.refresh_from_db()
    new = ContributionRule.objects.get(supersedes=rule)
    assert (rule.valid_to, new.valid_from, new.min_base, new.grades) == (
        dt.date(2030, 8, 1),
        dt.date(2030, 8, 1),
        D("4500.00"),
        ["4500.00", "20000.00"],
    )
    event = AuditEvent.objects.get(subject_ref=str(new.pk))
    assert (event.action, event.actor, event.actor_kind) == ("rules.change", staff_client.staff, "staff")
    assert event.changes["previous.valid_to"] == {"old": None, "new": "2030-08-01"}


def test_an_overlapping_version_is_a_form_error_and_changes_nothing(staff_client, rule):
    url = f"{ADD}?copy_from={rule.pk}"
    data = form_data(staff_client.get(url).context["adminform"].form) | {"valid_from": "2030-08-01", "approved_by": "张科长"}
    staff_client.post(url, data)
    before = (ContributionRule.objects.count(), AuditEvent.objects.count())

    response = staff_client.post(ADD, data)  # a brand-new rule over the same window

    assert response.status_code == 200
    assert "与已有规则的有效期重叠" in str(response.context["adminform"].form.errors)
    assert (ContributionRule.objects.count(), AuditEvent.objects.count()) == before


def test_a_new_rule_through_the_admin(staff_client, rule):
    data = form_data(staff_client.get(f"{ADD}?copy_from={rule.pk}").context["adminform"].form)
    data |= {"contribution_year": "2031", "valid_from": "2031-01-01", "collection_opens_on": "2031-01-01", "collection_closes_on": "2032-01-31",
             "declaration_mode": "mixed", "assessed_groups": "失地农民\n达到法定退休年龄人员", "approved_by": "张科长"}  # fmt: skip

    response = staff_client.post(ADD, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    new = ContributionRule.objects.get(contribution_year=2031)
    assert (new.supersedes, new.assessed_groups) == (None, ["失地农民", "达到法定退休年龄人员"])
    assert AuditEvent.objects.filter(action="rules.change", subject_ref=str(new.pk)).count() == 1


def test_the_empty_add_form_renders(staff_client):
    response = staff_client.get(ADD)

    assert response.status_code == 200
    assert "缴费档次" in response.content.decode() and "supersedes" not in response.context["adminform"].form.fields
