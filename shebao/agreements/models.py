"""Bank deduction (REQUIREMENTS §2.4–2.6): the deduction agreements (委托扣款缴费协议, §2.4)
— three-party (payer, tax bureau, bank) and two-party (payer and bank, through the core) —
and the resident's payable amount (城乡居民应缴费额确定, §2.5), the grade the next batch
deduction takes; every choice kept (the newest is the one in force), archived and audited.

Account numbers and names are personal data: encrypted at rest, shown masked."""

from __future__ import annotations

from django.db import models

from shebao.common.fields import EncryptedTextField


class VerifyMethod(models.TextChoices):
    ELECTRONIC = "electronic", "电子验证"
    PAPER = "paper", "纸质协议（银行柜面签约）"


class ThreePartyState(models.TextChoices):
    PENDING = "pending", "待验证"
    AWAITING_COUNTER = "awaiting_counter", "待银行柜面签约"
    VERIFIED = "verified", "已生效"
    FAILED = "failed", "验证未通过"
    CANCELLED = "cancelled", "已解除"


class ThreePartyAgreement(models.Model):
    """三方协议: the payer lets the bank pay the tax bureau what it deducts. Made usable by the
    bank's agreement check (BankGateway ``verify_agreement``) — electronically, or after the
    payer signed it on paper at the bank counter."""

    TRANSITIONS = {
        ThreePartyState.PENDING: {ThreePartyState.VERIFIED, ThreePartyState.FAILED, ThreePartyState.CANCELLED},
        ThreePartyState.AWAITING_COUNTER: {ThreePartyState.VERIFIED, ThreePartyState.FAILED, ThreePartyState.CANCELLED},
        ThreePartyState.VERIFIED: {ThreePartyState.CANCELLED},
        ThreePartyState.FAILED: set(),
        ThreePartyState.CANCELLED: set(),
    }

    public_id = models.CharField(max_length=32, unique=True, editable=False)
    agreement_no = models.CharField("协议书号", max_length=32, unique=True)
    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="three_party_agreements")
    registration_no = models.CharField("登记序号", max_length=20)
    payer_name = EncryptedTextField("缴费人姓名")
    id_type = models.CharField("证件类型", max_length=3)
    id_number = EncryptedTextField("证件号码")
    tax_org_code = models.CharField("征收机关代码", max_length=12)
    bank_code = models.CharField("开户银行", max_length=8)
    bank_name = models.CharField("开户银行名称", max_length=32)
    account_number = EncryptedTextField("银行账号")
    account_masked = models.CharField("银行账号（脱敏）", max_length=40)
    account_name = EncryptedTextField("账户名称")
    method = models.CharField("验证方式", max_length=16, choices=VerifyMethod.choices)
    state = models.CharField("状态", max_length=20, choices=ThreePartyState.choices)
    failure_reason = models.CharField("未通过原因", max_length=100, blank=True)
    bank_check_no = models.CharField("验证流水号", max_length=32, blank=True)
    signed = models.BooleanField("电子签名", default=False)
    created_at = models.DateTimeField("签署时间")
    verified_at = models.DateTimeField("生效时间", null=True, blank=True)
    cancelled_at = models.DateTimeField("解除时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "三方协议"
        indexes = [models.Index(fields=["account", "-created_at"], name="three_party_account_idx"),
                   models.Index(fields=["registration_no", "state"], name="three_party_payer_idx")]

    def __str__(self) -> str:
        return f"三方协议 {self.agreement_no}"


class TwoPartyState(models.TextChoices):
    PENDING = "pending", "银行审核中"
    ACTIVE = "active", "已生效（可扣款）"
    FAILED = "failed", "银行审核未通过"
    CANCELLED = "cancelled", "已解除"


# A pending agreement becomes deduction-enabled without the payer acting again: it counts.
DEDUCTION_ENABLED_TWO_PARTY = (TwoPartyState.PENDING, TwoPartyState.ACTIVE)


class TwoPartyAgreement(models.Model):
    """两两协议: the signer lets their bank deduct the fees of one payer (themselves or another
    person, ``for_self``), sent to the bank through the core. At most one deduction-enabled
    agreement per payer (the registration number): a partial unique index."""

    TRANSITIONS = {
        TwoPartyState.PENDING: {TwoPartyState.ACTIVE, TwoPartyState.FAILED, TwoPartyState.CANCELLED},
        TwoPartyState.ACTIVE: {TwoPartyState.CANCELLED},
        TwoPartyState.FAILED: set(),
        TwoPartyState.CANCELLED: set(),
    }

    public_id = models.CharField(max_length=32, unique=True, editable=False)
    agreement_no = models.CharField("协议编号", max_length=32, unique=True)
    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="two_party_agreements")
    for_self = models.BooleanField("为本人签约")
    registration_no = models.CharField("缴费人登记序号", max_length=20)
    payer_name = EncryptedTextField("缴费人姓名")
    id_type = models.CharField("缴费人证件类型", max_length=3)
    id_number = EncryptedTextField("缴费人证件号码")
    bank_code = models.CharField("开户银行", max_length=8)
    bank_name = models.CharField("开户银行名称", max_length=32)
    account_number = EncryptedTextField("银行卡号")
    account_masked = models.CharField("银行卡号（脱敏）", max_length=40)
    account_name = EncryptedTextField("持卡人姓名")
    state = models.CharField("状态", max_length=16, choices=TwoPartyState.choices)
    failure_reason = models.CharField("未通过原因", max_length=100, blank=True)
    bank_check_no = models.CharField("验证流水号", max_length=32, blank=True)
    signed = models.BooleanField("电子签名", default=False)
    created_at = models.DateTimeField("签署时间")
    activated_at = models.DateTimeField("生效时间", null=True, blank=True)
    cancelled_at = models.DateTimeField("解除时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "两两协议"
        constraints = [models.UniqueConstraint(fields=["registration_no"], condition=models.Q(state__in=["pending", "active"]),
                                               name="two_party_one_deduction_enabled_per_payer")]
        indexes = [models.Index(fields=["account", "-created_at"], name="two_party_account_idx")]

    def __str__(self) -> str:
        return f"两两协议 {self.agreement_no}"


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


from shebao.agreements.batch_models import (  # noqa: E402,F401 - the app's batch deduction models
    BatchChunkState,
    BatchDeductionChunk,
    BatchDeductionItem,
    BatchDeductionTask,
    BatchItemState,
    BatchTaskState,
)
