"""通知公告 (REQUIREMENTS §4.1): notices written by staff, their audience as rows, attachments,
and the read state of the people who read them.

Audience is stored per notice as a few rows (everyone; a person type in a city or in every
city; a named account), never as a row per person per notice: who is due a notice is worked
out at login from these rows and the person's own read rows (``selectors.notices_due``).
Every write bumps :class:`NoticeVersion`, the key of each process's copy of the live notices."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from shebao.reference.models import PersonType


class NoticeLevel(models.IntegerChoices):
    """Smaller is more important, so sorting by level is sorting by the number."""

    CRITICAL = 1, "非常重要"
    IMPORTANT = 2, "重要"
    NORMAL = 3, "一般"


class PushFrequency(models.TextChoices):
    EVERY_LOGIN = "every_login", "每次登录推送"
    FIRST_LOGIN = "first_login", "首次登录推送"


class NoticeState(models.TextChoices):
    DRAFT = "draft", "草稿"
    PUBLISHED = "published", "已发布"
    WITHDRAWN = "withdrawn", "已撤回"


class NoticeCategory(models.Model):
    """A category of notices (政策法规, 业务通知, …): rows, so staff add one without a code change."""

    code = models.SlugField("代码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=32, unique=True)
    sort_order = models.PositiveSmallIntegerField("排序", default=100)

    class Meta:
        verbose_name = verbose_name_plural = "公告类别"
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class Notice(models.Model):
    TRANSITIONS = {
        NoticeState.DRAFT: {NoticeState.PUBLISHED},
        NoticeState.PUBLISHED: {NoticeState.WITHDRAWN},
        NoticeState.WITHDRAWN: {NoticeState.PUBLISHED},
    }

    public_id = models.CharField(max_length=32, unique=True, editable=False)
    title = models.CharField("标题", max_length=120)
    document_number = models.CharField("发文字号", max_length=64, blank=True)
    level = models.PositiveSmallIntegerField("重要程度", choices=NoticeLevel.choices, default=NoticeLevel.NORMAL)
    category = models.ForeignKey(NoticeCategory, on_delete=models.PROTECT, verbose_name="类别")
    body = models.TextField("正文", help_text="保存和显示时都会清除脚本、事件属性和 javascript: 链接")
    valid_from = models.DateTimeField("生效时间")
    valid_until = models.DateTimeField("失效时间", null=True, blank=True, help_text="不填为长期有效")
    push_frequency = models.CharField("推送频率", max_length=16, choices=PushFrequency.choices, default=PushFrequency.FIRST_LOGIN)
    state = models.CharField("状态", max_length=16, choices=NoticeState.choices, default=NoticeState.DRAFT, editable=False)
    published_at = models.DateTimeField("发布时间", null=True, blank=True, editable=False)
    created_at = models.DateTimeField("创建时间", editable=False)
    updated_at = models.DateTimeField("修改时间", editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False,
                                   null=True, verbose_name="创建人")  # None: written by a command (seed_demo)

    class Meta:
        verbose_name = verbose_name_plural = "通知公告"
        ordering = ["-valid_from", "-id"]
        indexes = [models.Index(fields=["state", "valid_from"], name="notice_live_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(valid_until__isnull=True) | Q(valid_until__gt=F("valid_from")),
                                   name="notice_window_ordered"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_critical(self) -> bool:
        return self.level == NoticeLevel.CRITICAL


class AudienceKind(models.TextChoices):
    EVERYONE = "everyone", "所有人"
    GROUP = "group", "按人员类型和地市"
    PERSON = "person", "指定人员"


class NoticeAudience(models.Model):
    """One audience row of a notice. ``group``: a person type (blank: both) in a city (the
    division code; blank: every city). ``person``: one named account."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="audience", verbose_name="公告")
    kind = models.CharField("对象", max_length=16, choices=AudienceKind.choices)
    person_type = models.CharField("人员类型", max_length=16, choices=PersonType.choices, blank=True)
    city_code = models.CharField("地市", max_length=6, blank=True)
    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                                verbose_name="指定人员")

    class Meta:
        verbose_name = verbose_name_plural = "推送对象"
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="person", account__isnull=False) | (~Q(kind="person") & Q(account__isnull=True))),
                name="notice_audience_person_has_account"),
            # also the index of a person's named notices at login (account first)
            models.UniqueConstraint(fields=["account", "notice"], condition=Q(kind="person"), name="notice_audience_person_once"),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()


class NoticeAttachment(models.Model):
    """A file of a notice, its type checked by content (``attachments.attachment_check``);
    kept in the database so every app process on every machine serves it."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="attachments", verbose_name="公告")
    public_id = models.CharField(max_length=32, unique=True, editable=False)
    file_name = models.CharField("文件名", max_length=120)
    content_type = models.CharField("类型", max_length=128)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField(max_length=64)
    data = models.BinaryField()
    created_at = models.DateTimeField("上传时间")

    class Meta:
        verbose_name = verbose_name_plural = "附件"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.file_name


class NoticeRead(models.Model):
    """Written only when a person reads (opens, or closes the popup of) or acknowledges a notice."""

    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="reads")
    read_at = models.DateTimeField("阅读时间")
    acknowledged_at = models.DateTimeField("确认知晓时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "阅读记录"
        constraints = [models.UniqueConstraint(fields=["account", "notice"], name="notice_read_once")]

    def __str__(self) -> str:
        return f"阅读记录 {self.pk}"


class NoticeVersion(models.Model):
    """One row (pk 1): bumped in the transaction of every notice write; each process keeps the
    live notices keyed by it (``selectors.live_notices``)."""

    value = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"公告版本 {self.value}"
