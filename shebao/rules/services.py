"""The only writers of contribution rules (STYLE "Rules"; REQUIREMENTS §2.1
"rules are data with effective dates, maintained by staff without a code
change").

Rules are append-only for staff: ``rule_save`` adds a rule that has no
predecessor, ``rule_new_version`` adds a later version and closes the old
version's window at the new ``valid_from``; no value of a saved row is ever
rewritten, so a declaration that recorded a row keeps its meaning. Windows
of the same (city, contribution year, insurance type) may not overlap
("与已有规则的有效期重叠"): checked here on every database, and by the
exclusion constraint on PostgreSQL. Each write records an audit event
("rules.change") in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q

from shebao.audit.services import audit_record
from shebao.common.actor import Actor
from shebao.rules.models import Calculation, ContributionRule, DeclarationMode
from shebao.rules.money import FEN

OVERLAP_MESSAGE = "与已有规则的有效期重叠"
EXCLUSION_CONSTRAINT = "rule_windows_no_overlap"

AUDITED_FIELDS = (
    "city", "contribution_year", "insurance_type", "valid_from", "valid_to", "supersedes", "calculation",
    "declaration_mode", "assessed_groups", "min_base", "max_base", "grades", "rate", "collection_opens_on",
    "collection_closes_on", "base_published_on", "base_expected_on", "pay_only_up_to_current_month_until_published",
    "policy_ref", "source_note", "approved_by",
)  # fmt: skip


def rule_validate(*, rule: ContributionRule, replacing: ContributionRule | None = None) -> None:
    """Raise a ValidationError (Chinese, by field) unless ``rule`` may be saved:
    the row's own consistency, then no overlap with other versions of the same
    rule (``replacing``, whose window the new version will close, excepted)."""
    _normalize(rule)
    errors: dict[str, list[str]] = {}
    for field, message in _consistency_errors(rule, replacing):
        errors.setdefault(field, []).append(message)
    if errors:
        raise ValidationError(errors)
    rule.full_clean(exclude=["created_at"] if rule.created_at is None else None)
    overlapping = _overlapping(rule, replacing).first()
    if overlapping is not None:
        raise ValidationError({"valid_from": f"{OVERLAP_MESSAGE}：{overlapping}"})


@transaction.atomic
def rule_save(
    *, rule: ContributionRule, actor: Actor, now: dt.datetime
) -> ContributionRule:
    """Add a rule with no predecessor (a new city × year × insurance type, or a
    later window of one). A saved row is never changed here: use
    ``rule_new_version``."""
    if rule.pk is not None:
        raise ValidationError({NON_FIELD_ERRORS: "已保存的缴费规则不能修改，请“复制为新版本”"})
    rule.supersedes = None
    rule.created_at = now
    rule_validate(rule=rule)
    _insert(rule)
    _audit(rule, previous_values=None, closed=None, actor=actor, now=now)
    return rule


@transaction.atomic
def rule_new_version(
    *,
    previous: ContributionRule,
    rule: ContributionRule,
    actor: Actor,
    now: dt.datetime,
) -> ContributionRule:
    """Add a new version of ``previous`` valid from ``rule.valid_from`` and
    close ``previous``'s window there (its only field that changes). The new
    version must be for the same city, year and insurance type and start
    after the previous one starts."""
    previous = ContributionRule.objects.select_for_update().get(pk=previous.pk)
    if rule.pk is not None:
        raise ValidationError({NON_FIELD_ERRORS: "新版本必须是一条新规则"})
    rule.supersedes = previous
    rule.created_at = now
    rule_validate(rule=rule, replacing=previous)
    closed = None
    if previous.valid_to is None or previous.valid_to > rule.valid_from:
        closed = (previous.valid_to, rule.valid_from)
        previous.valid_to = rule.valid_from
        previous.save(update_fields=["valid_to"])
    _insert(rule)
    _audit(rule, previous_values=_values(previous), closed=closed, actor=actor, now=now)
    return rule


def _normalize(rule: ContributionRule) -> None:
    """Grades as sorted, distinct two-place strings; group names trimmed, distinct."""
    if isinstance(rule.grades, list):
        try:
            amounts = sorted({Decimal(str(g)).quantize(FEN) for g in rule.grades})
        except (InvalidOperation, TypeError, ValueError):
            return  # _consistency_errors explains it
        rule.grades = [str(a) for a in amounts]
    if isinstance(rule.assessed_groups, list):
        names = [str(g).strip() for g in rule.assessed_groups]
        rule.assessed_groups = list(dict.fromkeys(n for n in names if n))


def _grades(rule: ContributionRule) -> list[Decimal] | None:
    if not isinstance(rule.grades, list):
        return None
    try:
        return [Decimal(str(g)) for g in rule.grades]
    except (InvalidOperation, TypeError, ValueError):
        return None


def _consistency_errors(rule: ContributionRule, replacing: ContributionRule | None) -> list[tuple[str, str]]:
    errors = []
    grades = _grades(rule)
    if grades is None or any(not g.is_finite() or g <= 0 for g in grades):
        errors.append(("grades", "缴费档次应为正数金额列表"))
        grades = []
    if not isinstance(rule.assessed_groups, list):
        errors.append(("assessed_groups", "社保核定人群应为名称列表"))
    elif rule.declaration_mode == DeclarationMode.MIXED and not rule.assessed_groups:
        errors.append(("assessed_groups", "申报方式为“自主申报（所列人群由社保核定）”时须列出核定人群"))
    if rule.calculation == Calculation.BASE_RATE:
        if rule.min_base is None or rule.max_base is None:
            errors.append(("min_base", "按基数计算时须设置最低和最高缴费基数"))
        elif rule.min_base <= 0 or rule.max_base < rule.min_base:
            errors.append(("max_base", "最高缴费基数不得低于最低缴费基数，且基数须大于0"))
        elif any(not rule.min_base <= g <= rule.max_base for g in grades):
            errors.append(("grades", f"可选基数须在{rule.min_base}元至{rule.max_base}元之间"))
        if rule.rate is not None and rule.rate <= 0:
            errors.append(("rate", "按基数计算时费率须大于0"))
    elif rule.calculation == Calculation.FIXED_GRADE and not grades:
        errors.append(("grades", "按档次缴费时须设置至少一个档次"))
    elif rule.calculation == Calculation.FIXED and len(grades) != 1:
        errors.append(("grades", "固定缴费额须设置且只设置一个金额"))
    if replacing is not None:
        same = (replacing.city_id, replacing.contribution_year, replacing.insurance_type_id)
        if (rule.city_id, rule.contribution_year, rule.insurance_type_id) != same:
            errors.append((NON_FIELD_ERRORS, "新版本须与原规则的地市、缴费年度、险种相同"))
        if rule.valid_from is not None and rule.valid_from <= replacing.valid_from:
            errors.append(("valid_from", f"新版本的生效日期须晚于原版本的生效日期（{replacing.valid_from:%Y-%m-%d}）"))
    return errors


def _overlapping(rule: ContributionRule, replacing: ContributionRule | None):
    """Other versions whose [valid_from, valid_to) meets the rule's window."""
    others = ContributionRule.objects.filter(
        city_id=rule.city_id, contribution_year=rule.contribution_year, insurance_type_id=rule.insurance_type_id
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gt=rule.valid_from))
    if rule.valid_to is not None:
        others = others.filter(valid_from__lt=rule.valid_to)
    if rule.pk is not None:
        others = others.exclude(pk=rule.pk)
    if replacing is not None:
        # replacing's window is closed at rule.valid_from, so it ends where the new one starts
        others = others.exclude(pk=replacing.pk)
    return others.select_related("city", "insurance_type").order_by("valid_from")


def _insert(rule: ContributionRule) -> None:
    """Insert; a concurrent overlapping insert caught by PostgreSQL's
    exclusion constraint becomes the same ValidationError."""
    try:
        with transaction.atomic():
            rule.save(force_insert=True)
    except IntegrityError as exc:
        if EXCLUSION_CONSTRAINT in str(exc):
            raise ValidationError({"valid_from": OVERLAP_MESSAGE}) from exc
        raise


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _values(rule: ContributionRule) -> dict[str, Any]:
    values = {
        name: _plain(getattr(rule, name)) for name in AUDITED_FIELDS if name not in ("city", "insurance_type", "supersedes")
    }
    values["city"] = rule.city.division_code
    values["insurance_type"] = rule.insurance_type.code
    values["supersedes"] = rule.supersedes_id
    return values


def _audit(
    rule: ContributionRule,
    *,
    previous_values: dict[str, Any] | None,
    closed: tuple[dt.date | None, dt.date] | None,
    actor: Actor,
    now: dt.datetime,
) -> None:
    new = _values(rule)
    old = previous_values or {}
    changes = {name: {"old": old.get(name), "new": value} for name, value in new.items() if old.get(name) != value}
    if closed is not None:
        changes["previous.valid_to"] = {"old": _plain(closed[0]), "new": _plain(closed[1])}
    audit_record(
        actor=actor,
        action="rules.change",
        subject_type="contribution_rule",
        subject_ref=str(rule.pk),
        changes=changes,
        now=now,
    )
