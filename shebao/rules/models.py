"""Contribution rules (缴费规则) as dated data (REQUIREMENTS §2.1; STYLE "Rules").

One row says, for a city (or the autonomous-region level, the City with
division code 450000) × contribution year × insurance type, how the year is
declared and collected, valid in the half-open window [valid_from, valid_to).
Staff never rewrite a row: a change is a new row whose window starts later
(``services.rule_new_version`` closes the old window), so a declaration that
recorded the row it used keeps its meaning. Windows of the same
(city, year, insurance type) may not overlap: ``services`` checks it on every
database, and on PostgreSQL an exclusion constraint (migration 0001) does too.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Calculation(models.TextChoices):
    BASE_RATE = "base_rate", "基数×费率×月数"
    FIXED_GRADE = "fixed_grade", "按档次的年缴费额"
    FIXED = "fixed", "固定年缴费额"


class DeclarationMode(models.TextChoices):
    SELF = "self", "自主申报"
    ASSESSED = "assessed", "社保核定"
    MIXED = "mixed", "自主申报（所列人群由社保核定）"


class ContributionRule(models.Model):
    """A version of the rule for one city × contribution year × insurance type."""

    city = models.ForeignKey("reference.City", on_delete=models.PROTECT, related_name="contribution_rules", verbose_name="地市")
    contribution_year = models.PositiveSmallIntegerField("缴费年度")
    insurance_type = models.ForeignKey(
        "reference.InsuranceType", on_delete=models.PROTECT, related_name="contribution_rules", verbose_name="险种"
    )
    valid_from = models.DateField("生效日期", help_text="含当日")
    valid_to = models.DateField("失效日期", null=True, blank=True, help_text="不含当日；留空表示长期有效")
    supersedes = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by", verbose_name="取代的版本"
    )
    calculation = models.CharField("计算方式", max_length=16, choices=Calculation.choices)
    declaration_mode = models.CharField("申报方式", max_length=16, choices=DeclarationMode.choices)
    assessed_groups = models.JSONField(
        "社保核定人群", default=list, blank=True, help_text='人群名称列表，如 ["达到法定退休年龄人员", "失地农民"]'
    )
    min_base = models.DecimalField("最低缴费基数（元）", max_digits=14, decimal_places=2, null=True, blank=True)
    max_base = models.DecimalField("最高缴费基数（元）", max_digits=14, decimal_places=2, null=True, blank=True)
    grades = models.JSONField(
        "缴费档次", default=list, blank=True, help_text="金额字符串列表：按基数计算时为可选基数，按档次/固定时为年缴费额（元）"
    )
    rate = models.DecimalField("费率", max_digits=6, decimal_places=4)
    collection_opens_on = models.DateField("开始征收日期")
    collection_closes_on = models.DateField("截止征收日期", null=True, blank=True, help_text="含当日；留空表示未定")
    base_published_on = models.DateField("缴费基数公布日期", null=True, blank=True, help_text="留空表示尚未公布")
    base_expected_on = models.DateField("缴费基数预计公布日期", null=True, blank=True)
    pay_only_up_to_current_month_until_published = models.BooleanField("基数公布前只能缴纳至当月", default=False)
    policy_ref = models.CharField("政策依据（文号）", max_length=128)
    source_note = models.TextField("来源说明", blank=True)
    approved_by = models.CharField("审批人", max_length=64)
    created_at = models.DateTimeField("录入时间")

    class Meta:
        verbose_name = verbose_name_plural = "缴费规则"
        ordering = ["city__division_code", "-contribution_year", "insurance_type__code", "-valid_from"]
        indexes = [models.Index(fields=["city", "insurance_type", "contribution_year", "valid_from"], name="rule_lookup_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")), name="rule_window_not_empty"
            ),
            models.CheckConstraint(condition=Q(rate__gte=0) & Q(rate__lte=1), name="rule_rate_range"),
            models.CheckConstraint(
                condition=Q(collection_closes_on__isnull=True) | Q(collection_closes_on__gte=models.F("collection_opens_on")),
                name="rule_collection_window",
            ),
            models.CheckConstraint(
                condition=~Q(calculation="base_rate") | (Q(min_base__gt=0) & Q(max_base__gte=models.F("min_base"))),
                name="rule_base_range",
            ),
            models.CheckConstraint(
                condition=Q(contribution_year__gte=2000) & Q(contribution_year__lte=2100), name="rule_year_range"
            ),
        ]

    def __str__(self) -> str:
        until = f"{self.valid_to:%Y-%m-%d}" if self.valid_to else "长期"
        return f"{self.city}{self.contribution_year}年度{self.insurance_type}（{self.valid_from:%Y-%m-%d}起至{until}）"
