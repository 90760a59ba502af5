"""Batch deduction (批量扣款, REQUIREMENTS §2.6): a task staff launch for one insurance type,
contribution year and city; its pending list (待批扣清册, one item per payer) built from
the verified agreements and the payable amounts; the items deducted through the
BankGateway in chunks that workers claim.

Imported by ``shebao.agreements.models`` (one app, its models in two modules)."""

from __future__ import annotations

from django.db import models


class BatchTaskState(models.TextChoices):
    DRAFT = "draft", "待生成清册"
    BUILDING = "building", "清册生成中"
    BUILT = "built", "清册已生成（待扣款）"
    RUNNING = "running", "扣款中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class BatchDeductionTask(models.Model):
    """批量扣款任务. The counts are filled as the list is built and deducted (the
    reconciliation report counts the items themselves)."""

    TRANSITIONS = {
        BatchTaskState.DRAFT: {BatchTaskState.BUILDING, BatchTaskState.FAILED},
        BatchTaskState.BUILDING: {BatchTaskState.BUILT, BatchTaskState.FAILED},
        BatchTaskState.BUILT: {BatchTaskState.RUNNING, BatchTaskState.FAILED},
        BatchTaskState.RUNNING: {BatchTaskState.DONE, BatchTaskState.FAILED},
        BatchTaskState.DONE: set(),
        BatchTaskState.FAILED: set(),
    }

    public_id = models.CharField(max_length=32, unique=True, editable=False)
    insurance_type_code = models.CharField("险种代码", max_length=16)
    insurance_type = models.CharField("险种", max_length=64)
    contribution_year = models.PositiveSmallIntegerField("缴费年度")
    city_code = models.CharField("地市（行政区划代码）", max_length=12)
    city_name = models.CharField("地市", max_length=32)
    deduction_on = models.DateField("扣款日期")
    state = models.CharField("状态", max_length=16, choices=BatchTaskState.choices, default=BatchTaskState.DRAFT)
    item_count = models.PositiveIntegerField("清册人数", default=0)
    chunk_count = models.PositiveIntegerField("分块数", default=0)
    total_amount = models.DecimalField("清册金额（元）", max_digits=16, decimal_places=2, default=0)
    failure_reason = models.CharField("失败原因", max_length=200, blank=True)
    created_by = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="batch_tasks", verbose_name="发起人")
    created_at = models.DateTimeField("发起时间")
    built_at = models.DateTimeField("清册生成时间", null=True, blank=True)
    started_at = models.DateTimeField("开始扣款时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    reminded_at = models.DateTimeField("扣款提醒发送时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "批量扣款任务"
        indexes = [models.Index(fields=["state", "deduction_on"], name="batch_task_due_idx")]

    def __str__(self) -> str:
        return f"{self.city_name}{self.contribution_year}年度{self.insurance_type}批量扣款（{self.deduction_on:%Y-%m-%d}）"


class BatchChunkState(models.TextChoices):
    PENDING = "pending", "待处理"
    RUNNING = "running", "处理中"
    DONE = "done", "已处理"


class BatchDeductionChunk(models.Model):
    """A run of a task's items (``chunk_no``) that one worker deducts at a time: claimed under
    a row lock (SKIP LOCKED), the claim naming the job that holds it, so a job run again
    after its worker died resumes its own chunk and the watchdog frees the chunks of jobs
    that are no longer running."""

    task = models.ForeignKey(BatchDeductionTask, on_delete=models.CASCADE, related_name="chunks")
    chunk_no = models.PositiveIntegerField("分块号")
    state = models.CharField(max_length=8, choices=BatchChunkState.choices, default=BatchChunkState.PENDING)
    claimed_by = models.CharField("处理作业", max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "批量扣款分块"
        constraints = [models.UniqueConstraint(fields=["task", "chunk_no"], name="batch_chunk_once")]
        indexes = [models.Index(fields=["task", "state", "chunk_no"], name="batch_chunk_claim_idx")]

    def __str__(self) -> str:
        return f"{self.task_id}#{self.chunk_no} {self.state}"


class BatchItemState(models.TextChoices):
    PENDING = "pending", "待扣款"
    VOIDED = "voided", "已作废"
    DEDUCTING = "deducting", "扣款中"
    SUCCEEDED = "succeeded", "扣款成功"
    FAILED = "failed", "扣款失败"
    SKIPPED_PAID = "skipped_paid", "已通过其他渠道缴费，未扣款"


LIVE_ITEM_STATES = (BatchItemState.PENDING, BatchItemState.DEDUCTING, BatchItemState.SUCCEEDED)


class BatchDeductionItem(models.Model):
    """One payer on a task's pending list (待批扣清册). ``idempotency_key`` goes to the bank
    with every deduction of the item (the same key for each retry: money moves at most once).
    At most one live item (pending, deducting or succeeded) per payer, insurance type and
    year across all tasks: a partial unique index."""

    TRANSITIONS = {
        BatchItemState.PENDING: {BatchItemState.VOIDED, BatchItemState.DEDUCTING, BatchItemState.SKIPPED_PAID,
                                 BatchItemState.FAILED},
        BatchItemState.DEDUCTING: {BatchItemState.SUCCEEDED, BatchItemState.FAILED},
        BatchItemState.VOIDED: set(),
        BatchItemState.SUCCEEDED: set(),
        BatchItemState.FAILED: set(),
        BatchItemState.SKIPPED_PAID: set(),
    }

    public_id = models.CharField(max_length=32, unique=True, editable=False)
    # no index of their own: (task, registration no) and (account, state) lead with them
    task = models.ForeignKey(BatchDeductionTask, on_delete=models.PROTECT, related_name="items", db_index=False)
    chunk_no = models.PositiveIntegerField("分块号")
    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="batch_items", db_index=False)
    registration_no = models.CharField("缴费人登记序号", max_length=20)
    insurance_type_code = models.CharField("险种代码", max_length=16)
    contribution_year = models.PositiveSmallIntegerField("缴费年度")
    agreement_kind = models.CharField("协议类型", max_length=12)  # "three_party" | "two_party"
    agreement_id = models.PositiveBigIntegerField("协议")
    agreement_no = models.CharField("协议书号", max_length=32)
    amount = models.DecimalField("扣款金额（元）", max_digits=14, decimal_places=2)
    rule_ref = models.CharField("依据规则", max_length=40)
    idempotency_key = models.CharField(max_length=32, unique=True)
    state = models.CharField("状态", max_length=16, choices=BatchItemState.choices, default=BatchItemState.PENDING)
    failure_reason = models.CharField("未扣款原因", max_length=100, blank=True)
    declaration_no = models.CharField("申报序号", max_length=32, blank=True)
    bank_ref = models.CharField("银行流水号", max_length=32, blank=True)
    tax_receipt_no = models.CharField("完税凭证号", max_length=32, blank=True)
    finished_at = models.DateTimeField("处理时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "待批扣清册"
        constraints = [
            models.UniqueConstraint(fields=["task", "registration_no"], name="batch_item_once_per_task"),
            models.UniqueConstraint(fields=["registration_no", "insurance_type_code", "contribution_year"],
                                    condition=models.Q(state__in=["pending", "deducting", "succeeded"]),
                                    name="batch_item_one_live_per_payer_period"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="batch_item_amount_positive"),
        ]
        indexes = [models.Index(fields=["task", "chunk_no", "state"], name="batch_item_chunk_idx"),
                   models.Index(fields=["account", "state"], name="batch_item_account_idx")]

    def __str__(self) -> str:
        return f"待批扣 {self.registration_no} {self.amount}元"
