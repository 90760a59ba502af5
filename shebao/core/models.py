"""The embedded core (内置核心系统): what the province's core social-insurance-fee
system (金三社保费核心系统) holds, kept in our own database when no real core is
configured: agencies and tax offices, the payer and their enrolments,
declarations and tax receipts. The national reference data (cities, insurance
types, document and person types) is ``shebao.reference``'s."""

from __future__ import annotations

from django.db import models

from shebao.common.fields import BlindIndexField, EncryptedTextField
from shebao.reference.models import City, IdType, InsuranceType, PersonType


class Agency(models.Model):
    """Social security agency (社保经办机构)."""

    code = models.CharField("机构代码", max_length=16, unique=True)
    name = models.CharField("名称", max_length=64)
    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="agencies", verbose_name="地市")

    class Meta:
        verbose_name = verbose_name_plural = "社保经办机构"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class TaxOffice(models.Model):
    """Tax office in charge (主管税务机关); 11-digit tax-organ code."""

    code = models.CharField("税务机关代码", max_length=16, unique=True)
    name = models.CharField("名称", max_length=64)
    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="tax_offices", verbose_name="地市")

    class Meta:
        verbose_name = verbose_name_plural = "主管税务机关"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Payer(models.Model):
    """A fee payer registered at the core (缴费人登记), found by the three elements.

    Personal data is encrypted at rest; lookups use the blind index of
    (id_type, id_number)."""

    public_id = models.CharField(max_length=32, unique=True, editable=False)
    registration_no = models.CharField("登记序号", max_length=20, unique=True)
    person_no = models.CharField("人员编号", max_length=20, unique=True)
    name = EncryptedTextField("姓名")
    id_type = models.CharField("证件类型", max_length=3, choices=IdType.choices)
    id_number = EncryptedTextField("证件号码")
    id_index = BlindIndexField(unique=True, purpose="identity", of=("id_type", "id_number"))
    nationality = models.CharField("国籍（地区）", max_length=3, default="156")
    person_type = models.CharField("人员类型", max_length=16, choices=PersonType.choices)
    special_category = models.CharField("特殊人员类别", max_length=32, blank=True, default="无")
    city = models.ForeignKey(City, on_delete=models.PROTECT, verbose_name="参保地")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, verbose_name="社保经办机构")
    tax_office = models.ForeignKey(TaxOffice, on_delete=models.PROTECT, verbose_name="主管税务机关")
    registered_on = models.DateField("登记日期")

    class Meta:
        verbose_name = verbose_name_plural = "缴费人（内置核心）"

    def __str__(self) -> str:
        return f"缴费人 {self.registration_no}"


class EnrolmentState(models.TextChoices):
    ACTIVE = "active", "参保缴费"
    SUSPENDED = "suspended", "暂停缴费"
    ENDED = "ended", "终止参保"


class Enrolment(models.Model):
    """A payer's enrolment in one insurance type (参保信息) with its rate."""

    payer = models.ForeignKey(Payer, on_delete=models.CASCADE, related_name="enrolments")
    insurance_type = models.ForeignKey(InsuranceType, on_delete=models.PROTECT, verbose_name="险种")
    state = models.CharField("参保状态", max_length=16, choices=EnrolmentState.choices, default=EnrolmentState.ACTIVE)
    rate = models.DecimalField("费率", max_digits=6, decimal_places=4)
    started_on = models.DateField("参保日期")

    class Meta:
        verbose_name = verbose_name_plural = "参保信息"
        constraints = [
            models.UniqueConstraint(fields=["payer", "insurance_type"], name="enrolment_payer_type_unique"),
            models.CheckConstraint(condition=models.Q(rate__gte=0) & models.Q(rate__lte=1), name="enrolment_rate_range"),
        ]

    def __str__(self) -> str:
        return f"{self.insurance_type} ({self.get_state_display()})"


class DeclarationMode(models.TextChoices):
    SELF = "self", "自主申报"
    ASSESSED = "assessed", "社保核定（特殊缴费）"


class DeclarationState(models.TextChoices):
    DECLARED = "declared", "已申报待缴费"
    PAID = "paid", "已缴费"
    VOIDED = "voided", "已作废"


class Declaration(models.Model):
    """A declaration (申报) held by the core: one insurance type, one contribution
    year, a run of fee periods (费款所属期), the base and rate used, the amount.
    Self-declared ones come from the payer; assessed ones are pushed by the social
    security agency through the special channel (社保核定)."""

    TRANSITIONS = {
        DeclarationState.DECLARED: {DeclarationState.PAID, DeclarationState.VOIDED},
        DeclarationState.PAID: set(),
        DeclarationState.VOIDED: set(),
    }

    public_id = models.CharField(max_length=32, unique=True, editable=False)
    declaration_no = models.CharField("应征凭证序号", max_length=24, unique=True)
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="declarations")
    insurance_type = models.ForeignKey(InsuranceType, on_delete=models.PROTECT, verbose_name="险种")
    contribution_year = models.PositiveSmallIntegerField("缴费年度")
    period_from = models.CharField("费款所属期起", max_length=6)
    period_to = models.CharField("费款所属期止", max_length=6)
    base_amount = models.DecimalField("缴费基数", max_digits=14, decimal_places=2, null=True, blank=True)
    rate = models.DecimalField("费率", max_digits=6, decimal_places=4, null=True, blank=True)
    amount = models.DecimalField("应缴金额", max_digits=14, decimal_places=2)
    mode = models.CharField("申报方式", max_length=16, choices=DeclarationMode.choices)
    rule_refs = models.JSONField("依据规则", default=list)
    state = models.CharField("状态", max_length=16, choices=DeclarationState.choices, default=DeclarationState.DECLARED)
    declared_at = models.DateTimeField("申报时间")
    tax_receipt = models.ForeignKey("TaxReceipt", on_delete=models.PROTECT, null=True, blank=True, related_name="declarations")

    class Meta:
        verbose_name = verbose_name_plural = "申报（内置核心）"
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="declaration_amount_positive")]

    def __str__(self) -> str:
        return f"申报 {self.declaration_no}"


class DeclarationLine(models.Model):
    """One fee period of a declaration. While the declaration is live (declared
    or paid) its periods are unique per payer and insurance type: a period can
    be paid only once (security.md §6.2 invariant 3, enforced by the database)."""

    declaration = models.ForeignKey(Declaration, on_delete=models.CASCADE, related_name="lines")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT)
    insurance_type = models.ForeignKey(InsuranceType, on_delete=models.PROTECT)
    period = models.CharField("费款所属期", max_length=6)
    amount = models.DecimalField("金额", max_digits=14, decimal_places=2)
    live = models.BooleanField(default=True)
    # A supplementary declaration (补充申报, e.g. a base raised afterwards: 5000 then +1000)
    # adds lines to a period already declared; the period is still declared once.
    supplementary = models.BooleanField("补充申报", default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["payer", "insurance_type", "period"], condition=models.Q(live=True, supplementary=False),
                name="declaration_line_period_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.amount}"


class TaxReceiptState(models.TextChoices):
    PAID = "paid", "已缴费"
    REMITTED = "remitted", "已上解未入库"
    IN_TREASURY = "in_treasury", "已入库"


class TaxReceipt(models.Model):
    """A tax receipt (税票 / 电子缴款凭证) issued by the core when a payment is
    recorded. Exactly one per channel transaction (``source_ref`` unique)."""

    TRANSITIONS = {
        TaxReceiptState.PAID: {TaxReceiptState.REMITTED},
        TaxReceiptState.REMITTED: {TaxReceiptState.IN_TREASURY},
        TaxReceiptState.IN_TREASURY: set(),
    }

    public_id = models.CharField(max_length=32, unique=True, editable=False)
    receipt_no = models.CharField("电子缴款凭证号", max_length=24, unique=True)
    verify_code = models.CharField("验证码", max_length=16, unique=True)
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="tax_receipts")
    source_ref = models.CharField("支付来源", max_length=96, unique=True)  # "<channel>:<transaction id>"
    channel = models.CharField("缴费渠道", max_length=32)
    bank_serial_no = models.CharField("银行流水号", max_length=64)
    amount = models.DecimalField("金额", max_digits=14, decimal_places=2)
    paid_at = models.DateTimeField("缴费时间")
    state = models.CharField("状态", max_length=16, choices=TaxReceiptState.choices, default=TaxReceiptState.PAID)
    remitted_at = models.DateTimeField("上解时间", null=True, blank=True)
    in_treasury_at = models.DateTimeField("入库时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "税票（内置核心）"
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="tax_receipt_amount_positive")]

    def __str__(self) -> str:
        return f"税票 {self.receipt_no}"


class NoRefundPerson(models.Model):
    """The no-refund special-person list (不予退费特殊人员名单) that staff of a locality keep
    in the back office: the core refuses every refund application of a person on it."""

    public_id = models.CharField(max_length=32, unique=True, editable=False)
    city = models.ForeignKey(City, on_delete=models.PROTECT, verbose_name="地市")
    id_type = models.CharField("证件类型", max_length=3, choices=IdType.choices)
    id_index = BlindIndexField(purpose="identity", of=("id_type", "id_number"))
    id_number = EncryptedTextField("证件号码")
    name = EncryptedTextField("姓名")
    reason = models.CharField("列入原因", max_length=100)
    added_at = models.DateTimeField("列入时间")

    class Meta:
        verbose_name = verbose_name_plural = "不予退费特殊人员（内置核心）"
        constraints = [models.UniqueConstraint(fields=["city", "id_index"], name="no_refund_person_once_per_city")]

    def __str__(self) -> str:
        return f"不予退费人员 {self.public_id}"


class CoreRefundState(models.TextChoices):
    SUBMITTED = "submitted", "已提交"
    SUCCEEDED = "succeeded", "退库成功"
    FAILED = "failed", "退库失败"


class CoreRefund(models.Model):
    """A refund application as the core holds it (退费申请 and its 退库 result): one
    insurance item of one fee period of a payer. While submitted it is the item's one live
    refund (database constraint); the amounts submitted and succeeded never exceed what was
    paid for the item (checked under the payer's row lock); a failed one frees its amount."""

    TRANSITIONS = {
        CoreRefundState.SUBMITTED: {CoreRefundState.SUCCEEDED, CoreRefundState.FAILED},
        CoreRefundState.SUCCEEDED: set(),
        CoreRefundState.FAILED: set(),
    }

    public_id = models.CharField(max_length=32, unique=True, editable=False)
    refund_no = models.CharField("退费申请序号", max_length=24, unique=True)
    application_ref = models.CharField("申请来源", max_length=64, unique=True)  # the service's application: idempotent per ref
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="refunds")
    kind = models.CharField("退费类型", max_length=16)
    insurance_type = models.ForeignKey(InsuranceType, on_delete=models.PROTECT, verbose_name="险种")
    period = models.CharField("费款所属期", max_length=6)
    amount = models.DecimalField("退费金额", max_digits=14, decimal_places=2)
    state = models.CharField("状态", max_length=16, choices=CoreRefundState.choices, default=CoreRefundState.SUBMITTED)
    reason = models.CharField("结果说明", max_length=100, blank=True)
    virtual_account = models.ForeignKey("VirtualAccount", on_delete=models.PROTECT, null=True, blank=True, verbose_name="虚拟户")
    sheet = models.ForeignKey("RefundSheet", on_delete=models.PROTECT, null=True, blank=True, verbose_name="核定退费单")
    submitted_at = models.DateTimeField("提交时间")
    decided_at = models.DateTimeField("退库时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "退费申请（内置核心）"
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="core_refund_amount_positive"),
            models.UniqueConstraint(fields=["payer", "insurance_type", "period"], condition=models.Q(state="submitted"),
                                    name="core_refund_one_live_per_item"),
            # a sheet is used by one refund; one that failed at the treasury frees it
            models.UniqueConstraint(fields=["sheet"], condition=~models.Q(state="failed"), name="core_refund_sheet_once"),
        ]

    def __str__(self) -> str:
        return f"退费 {self.refund_no}"


class VirtualAccountKind(models.TextChoices):
    VILLAGE = "village", "村（居）民委员会"
    COMMUNITY = "community", "社区"
    SCHOOL = "school", "学校"


class VirtualAccount(models.Model):
    """A virtual account (虚拟户): a village committee, community or school that collects
    residents' fees and declares them in bulk. It is never a payer: the residents are."""

    identifier = models.CharField("虚拟户识别号", max_length=20, unique=True)  # XN + 18 digits
    name = models.CharField("虚拟户名称", max_length=100, db_index=True)
    kind = models.CharField("类型", max_length=16, choices=VirtualAccountKind.choices)
    city = models.ForeignKey(City, on_delete=models.PROTECT, verbose_name="地市")

    class Meta:
        verbose_name = verbose_name_plural = "虚拟户（内置核心）"

    def __str__(self) -> str:
        return f"{self.name}（{self.identifier}）"


class VirtualDeclaration(models.Model):
    """A virtual account's bulk declaration of one insurance type and year, listing residents
    and amounts; paid at once with the virtual account's own tax receipt (税票)."""

    declaration_no = models.CharField("申报序号", max_length=24, unique=True)
    virtual_account = models.ForeignKey(VirtualAccount, on_delete=models.PROTECT, related_name="declarations")
    insurance_type = models.ForeignKey(InsuranceType, on_delete=models.PROTECT, verbose_name="险种")
    contribution_year = models.PositiveSmallIntegerField("缴费年度")
    declared_at = models.DateTimeField("申报时间")
    receipt_no = models.CharField("电子缴款凭证号", max_length=24, blank=True)
    paid_at = models.DateTimeField("缴费时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "虚拟户申报（内置核心）"

    def __str__(self) -> str:
        return f"虚拟户申报 {self.declaration_no}"


class VirtualDeclarationLine(models.Model):
    """What a virtual account declared for one resident for one fee period. A period of a
    resident is declared once, by the resident or by one virtual account (the declare flow's
    ``periods_taken`` counts these lines too)."""

    declaration = models.ForeignKey(VirtualDeclaration, on_delete=models.CASCADE, related_name="lines")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="virtual_lines")
    insurance_type = models.ForeignKey(InsuranceType, on_delete=models.PROTECT)
    period = models.CharField("费款所属期", max_length=6)
    amount = models.DecimalField("金额", max_digits=14, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["payer", "insurance_type", "period"], name="virtual_line_period_once"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="virtual_line_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.amount}"


class RefundSheet(models.Model):
    """A refund assessment sheet (核定退费单) issued by the social security agency: the
    assessed refund of one insurance item of one fee period of a payer (a sheet over several
    months is issued as one sheet per month here). Used by one refund at most."""

    sheet_no = models.CharField("核定退费单号", max_length=24, unique=True)
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="refund_sheets")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, verbose_name="社保经办机构")
    insurance_type = models.ForeignKey(InsuranceType, on_delete=models.PROTECT, verbose_name="险种")
    period = models.CharField("费款所属期", max_length=6)
    paid_amount = models.DecimalField("已缴金额", max_digits=14, decimal_places=2)
    amount = models.DecimalField("核定退费金额", max_digits=14, decimal_places=2)
    reason = models.CharField("退费原因", max_length=100)
    assessed_on = models.DateField("核定日期")
    handler = models.CharField("经办人", max_length=32)

    class Meta:
        verbose_name = verbose_name_plural = "核定退费单（内置核心）"
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0) & models.Q(amount__lte=models.F("paid_amount")),
                                   name="refund_sheet_amount_within_paid"),
        ]

    def __str__(self) -> str:
        return f"核定退费单 {self.sheet_no}"
