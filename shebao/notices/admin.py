"""Back office for notices (issue 12): staff of the role 公告编辑 write, publish and withdraw
notices. Thin: the form asks ``services.notice_validate`` and checks the attachment, then
``save_model`` calls ``notice_save`` (sanitising, audience rows, attachments, audit, version)
and the list actions call ``notice_publish`` / ``notice_withdraw``. A notice is withdrawn,
never deleted (people's read state points at it). Named persons are entered by their ID
number and shown only as a count."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from shebao.accounts.models import Account
from shebao.common import clock
from shebao.common.actor import request_actor
from shebao.common.identity import identity_index
from shebao.common.masking import mask_id_number
from shebao.common.states import TransitionError
from shebao.notices.attachments import attachment_check, max_bytes
from shebao.notices.models import AudienceKind, Notice, NoticeAttachment, NoticeCategory, NoticeState
from shebao.notices.services import AudienceSpec, category_save, notice_publish, notice_save, notice_validate, notice_withdraw
from shebao.reference.models import City, IdType, PersonType

NOTICE_FIELDS = ("title", "document_number", "level", "category", "body", "valid_from", "valid_until", "push_frequency")


class NoticeAdminForm(forms.ModelForm):
    audience_everyone = forms.BooleanField(label="推送给所有人", required=False)
    audience_person_types = forms.MultipleChoiceField(label="按人员类型", required=False, choices=PersonType.choices,
                                                      widget=forms.CheckboxSelectMultiple, help_text="不选为全部人员类型")
    audience_cities = forms.ModelMultipleChoiceField(label="按地市", required=False, queryset=City.objects.all(),
                                                     widget=forms.CheckboxSelectMultiple,
                                                     help_text="选了人员类型或地市即按人员类型和地市推送；地市不选为全区")
    audience_id_numbers = forms.CharField(label="指定人员证件号码", required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                          help_text="居民身份证号码，每行一个，须为已注册用户。修改时留空保持原指定人员，填写则替换")
    new_attachment = forms.FileField(label="添加附件", required=False,
                                     help_text="PDF、图片（JPG、PNG、GIF）或 Office 文件，按文件内容检查类型")
    remove_attachments = forms.ModelMultipleChoiceField(label="删除附件", required=False, queryset=NoticeAttachment.objects.none(),
                                                        widget=forms.CheckboxSelectMultiple)
    publish_now = forms.BooleanField(label="保存后立即发布", required=False)

    class Meta:
        model = Notice
        fields = NOTICE_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_attachment"].help_text += f"，不超过 {max_bytes() // (1024 * 1024)} MB"
        instance = self.instance
        self.named_count = 0
        if instance.pk:
            self.fields["remove_attachments"].queryset = NoticeAttachment.objects.filter(notice=instance).defer("data")
            rows = list(instance.audience.values_list("kind", "person_type", "city_code"))
            self.named_count = sum(1 for k, _, _ in rows if k == AudienceKind.PERSON)
            self.initial.setdefault("audience_everyone", any(k == AudienceKind.EVERYONE for k, _, _ in rows))
            self.initial.setdefault("audience_person_types", sorted({p for k, p, _ in rows if k == AudienceKind.GROUP and p}))
            self.initial.setdefault("audience_cities", list(City.objects.filter(
                division_code__in={c for k, _, c in rows if k == AudienceKind.GROUP and c})))
            self.fields["audience_id_numbers"].help_text = f"现指定 {self.named_count} 人。" + self.fields["audience_id_numbers"].help_text
            self.fields["publish_now"].widget = forms.HiddenInput() if instance.state == NoticeState.PUBLISHED else forms.CheckboxInput()
        else:
            self.initial.setdefault("audience_everyone", True)

    def clean_audience_id_numbers(self) -> list[Account] | None:
        lines = [line.strip().upper() for line in (self.cleaned_data.get("audience_id_numbers") or "").splitlines() if line.strip()]
        if not lines:
            return None
        found, missing = [], []
        for number in lines:
            account = Account.objects.filter(id_index=identity_index(id_type=IdType.RESIDENT_ID, id_number=number),
                                             is_active=True).exclude(person_type="").first()
            (found if account else missing).append(account or number)
        if missing:
            raise ValidationError("以下证件号码没有已注册的用户：" + "、".join(mask_id_number(n) for n in missing))
        return found

    def clean_new_attachment(self) -> tuple[str, bytes] | None:
        upload = self.cleaned_data.get("new_attachment")
        if not upload:
            return None
        if upload.size > max_bytes():
            raise ValidationError(f"附件“{upload.name}”超过大小上限 {max_bytes() // (1024 * 1024)} MB")
        data = upload.read()
        checked = attachment_check(file_name=upload.name, data=data)
        return checked.file_name, data

    def audience(self) -> list[AudienceSpec] | None:
        cleaned = self.cleaned_data
        specs = [AudienceSpec.everyone()] if cleaned.get("audience_everyone") else []
        types = cleaned.get("audience_person_types") or []
        cities = [c.division_code for c in cleaned.get("audience_cities") or []]
        if types or cities:
            specs += [AudienceSpec.group(person_type=p, city_code=c) for p in (types or [""]) for c in (cities or [""])]
        named = cleaned.get("audience_id_numbers")
        if named is None and self.instance.pk:
            named = [row.account for row in self.instance.audience.filter(kind=AudienceKind.PERSON).select_related("account")]
        specs += [AudienceSpec.person(account) for account in named or []]
        return specs

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        candidate = Notice(**{name: cleaned.get(name) for name in NOTICE_FIELDS})
        try:
            notice_validate(notice=candidate, audience=self.audience())
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                self.add_error(field if field in self.fields else NON_FIELD_ERRORS, errors)
        return cleaned


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    form = NoticeAdminForm
    list_display = ("title", "document_number", "level", "category", "state", "push_frequency", "valid_from", "valid_until",
                    "read_count")
    list_filter = ("state", "level", "category", "push_frequency")
    search_fields = ("title", "document_number")
    readonly_fields = ("state", "published_at", "attachment_list")
    actions = ("publish", "withdraw")
    fieldsets = (
        (None, {"fields": ("title", "document_number", "level", "category", "body")}),
        ("有效期和推送", {"fields": ("valid_from", "valid_until", "push_frequency", "publish_now", "state", "published_at")}),
        ("推送对象", {"fields": ("audience_everyone", "audience_person_types", "audience_cities", "audience_id_numbers")}),
        ("附件", {"fields": ("attachment_list", "new_attachment", "remove_attachments")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Notice]:
        return super().get_queryset(request).select_related("category").annotate(read_total=Count("reads"))

    @admin.display(description="已阅人数", ordering="read_total")
    def read_count(self, obj: Notice) -> int:
        return getattr(obj, "read_total", 0)

    @admin.display(description="现有附件")
    def attachment_list(self, obj: Notice) -> str:
        names = [f"{a.file_name}（{a.size} 字节）" for a in obj.attachments.defer("data")] if obj.pk else []
        return "；".join(names) or "无"

    def has_delete_permission(self, request: HttpRequest, obj: Notice | None = None) -> bool:
        return False  # withdraw instead: read state and the audit log point at the notice

    def save_model(self, request: HttpRequest, obj: Notice, form: NoticeAdminForm, change: bool) -> None:
        attachment = form.cleaned_data.get("new_attachment")
        notice_save(
            notice=obj, audience=form.audience(), actor=request_actor(request), now=clock.now(),
            new_attachments=[attachment] if attachment else [],
            remove_attachments=[a.public_id for a in form.cleaned_data.get("remove_attachments") or []],
            publish=bool(form.cleaned_data.get("publish_now")),
        )

    def save_related(self, request: HttpRequest, form: NoticeAdminForm, formsets: Any, change: bool) -> None:
        """Nothing: the audience and the attachments were written by ``notice_save``."""

    @admin.action(description="发布所选通知", permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Notice]) -> None:
        self._move(request, queryset, notice_publish, "已发布")

    @admin.action(description="撤回所选通知", permissions=["change"])
    def withdraw(self, request: HttpRequest, queryset: QuerySet[Notice]) -> None:
        self._move(request, queryset, notice_withdraw, "已撤回")

    def _move(self, request: HttpRequest, queryset: QuerySet[Notice], service: Any, done: str) -> None:
        moved, refused = 0, []
        for notice in queryset:
            try:
                service(notice=notice, actor=request_actor(request), now=clock.now())
                moved += 1
            except TransitionError:
                refused.append(notice.title)
        if moved:
            self.message_user(request, f"{done} {moved} 条通知")
        if refused:
            self.message_user(request, f"以下通知当前状态不能{done[1:]}：" + "、".join(refused), level=messages.WARNING)


@admin.register(NoticeCategory)
class NoticeCategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "sort_order")

    def has_delete_permission(self, request: HttpRequest, obj: NoticeCategory | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: NoticeCategory, form: forms.ModelForm, change: bool) -> None:
        category_save(category=obj, actor=request_actor(request), now=clock.now())
