"""Bank deduction (REQUIREMENTS §2.4–2.6). So far: the resident's payable amount (城乡居民
应缴费额确定, §2.5), the grade the next batch deduction takes; every choice kept (the
newest is the one in force), archived and audited."""

from __future__ import annotations

from django.db import models


class PayableAmountChoice(models.Model):
    """A resident's choice of the yearly amount (档次) the next batch deduction takes for one
    insurance type and contribution year. Rows are only added: the newest one is in force."""

    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="payable_amounts")
    registration_no = models.CharField("登记序号", max_length=20)
    insurance_type_code = models.CharField("险种代码", max_length=16)
    insurance_type = models.CharField("险种", max_length=64)
    contribution_year = models.PositiveSmallIntegerField("缴费年度")
    amount = models.DecimalField("年缴费额（档次）", max_digits=14, decimal_places=2)
    rule_ref = models.CharField("依据规则", max_length=40)
    chosen_at = models.DateTimeField("确定时间")

    class Meta:
        verbose_name = verbose_name_plural = "城乡居民应缴费额确定"
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="payable_amount_positive")]
        indexes = [models.Index(fields=["registration_no", "insurance_type_code", "contribution_year", "-chosen_at"],
                                name="payable_amount_current_idx")]

    def __str__(self) -> str:
        return f"{self.insurance_type} {self.contribution_year}年度 {self.amount}元"
