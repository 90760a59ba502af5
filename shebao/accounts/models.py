"""User centre (用户中心): accounts of registered people, SMS challenges, WeChat bindings.

Staff accounts share the table (``is_staff``) so the back office uses Django's
admin and permissions; citizen accounts carry the real-name identity."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models

from shebao.common.fields import BlindIndexField, EncryptedTextField
from shebao.reference.models import IdType, PersonType


class AccountManager(BaseUserManager):
    def create_superuser(self, username, password=None, **extra):
        """``created_at`` has no default (the services stamp it from the clock),
        so ``manage.py createsuperuser`` must stamp it here or the insert fails."""
        from shebao.common import clock, crypto

        extra.setdefault("created_at", clock.now())
        user = self.model(username=username, public_id=crypto.random_token(12), is_staff=True, is_superuser=True, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user


class Account(AbstractBaseUser, PermissionsMixin):
    """A login. Citizens: real-name identity (encrypted) + blind indexes;
    ``username`` is an opaque token for them. Staff: a personal username."""

    public_id = models.CharField(max_length=32, unique=True, editable=False)
    username = models.CharField("登录名", max_length=64, unique=True)
    person_type = models.CharField("用户类型", max_length=16, choices=PersonType.choices, blank=True)
    name = EncryptedTextField("姓名", blank=True)
    id_type = models.CharField("证件类型", max_length=3, choices=IdType.choices, blank=True)
    id_number = EncryptedTextField("证件号码", blank=True)
    id_index = BlindIndexField(null=True, unique=True, purpose="identity", of=("id_type", "id_number"))
    mobile = EncryptedTextField("手机号码", blank=True)
    mobile_index = BlindIndexField(blank=True, db_index=True, purpose="mobile", of=("mobile",))
    address = EncryptedTextField("联系地址", blank=True)
    is_staff = models.BooleanField("工作人员", default=False)
    is_active = models.BooleanField("有效", default=True)
    real_name_verified = models.BooleanField("已实名", default=False)
    # The last carrier real-name check (实名核验) that let this account in or changed its mobile:
    # the outcome, the vendor's request id and when — never the vendor's answer or the values sent.
    identity_check_result = models.CharField("实名核验结果", max_length=16, choices=[("consistent", "核验一致")], blank=True)
    identity_check_ref = models.CharField("实名核验流水号", max_length=64, blank=True)
    identity_verified_at = models.DateTimeField("实名核验时间", null=True, blank=True)
    created_at = models.DateTimeField("注册时间")

    objects = AccountManager()
    USERNAME_FIELD = "username"

    class Meta:
        verbose_name = verbose_name_plural = "账号"

    def __str__(self) -> str:
        return self.username if self.is_staff else f"账号 {self.public_id}"


class SmsPurpose(models.TextChoices):
    REGISTER = "register", "注册"
    LOGIN = "login", "登录"
    CHANGE_MOBILE = "change_mobile", "更换手机号"
    STEP_UP = "step_up", "办理业务确认"


class SmsSendState(models.TextChoices):
    QUEUED = "queued", "发送中"
    SENT = "sent", "已发送"
    FAILED = "failed", "发送失败"


class SmsChallenge(models.Model):
    """One SMS code: bound to a number and a purpose, stored hashed, single use,
    5 minutes, at most 5 wrong tries (ASVS v5.0.0-6.5.1..6.6.3).

    The code goes out by a job (``shebao.accounts.tasks.send_sms_code``): until the gateway
    took it, the number and the code wait on this row encrypted for it (``mobile``,
    ``code_sealed``), never in the job's arguments; once sent (or failed) both are erased
    and only the hash stays. ``send_error`` is the refusal in the person's words."""

    public_id = models.CharField(max_length=32, unique=True)
    mobile_index = BlindIndexField(db_index=True)
    purpose = models.CharField(max_length=16, choices=SmsPurpose.choices)
    code_hash = models.CharField(max_length=100)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    provider_ref = models.CharField(max_length=64, blank=True)
    send_state = models.CharField(max_length=8, choices=SmsSendState.choices, default=SmsSendState.QUEUED)
    sent_at = models.DateTimeField(null=True, blank=True)
    send_error = models.CharField(max_length=100, blank=True)
    mobile = EncryptedTextField(blank=True)
    code_sealed = EncryptedTextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["mobile_index", "created_at"], name="sms_mobile_created_idx")]

    def __str__(self) -> str:
        return f"验证码 {self.public_id}"


class SmsNotice(models.Model):
    """One notice by SMS (e.g. 手机号已变更 to the old number), sent by a job
    (``shebao.accounts.tasks.send_sms_notice``); the number waits encrypted on the row and
    is erased once the gateway answered. ``params`` hold only what the message shows
    (masked values)."""

    public_id = models.CharField(max_length=32, unique=True)
    notice = models.CharField(max_length=32)
    subject_ref = models.CharField(max_length=64, blank=True)
    mobile = EncryptedTextField(blank=True)
    mobile_masked = models.CharField(max_length=16)
    params = models.JSONField(default=dict)
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()
    send_state = models.CharField(max_length=8, choices=SmsSendState.choices, default=SmsSendState.QUEUED)
    sent_at = models.DateTimeField(null=True, blank=True)
    send_error = models.CharField(max_length=100, blank=True)
    provider_ref = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"短信通知 {self.notice} {self.mobile_masked}"


class SmsNumberGate(models.Model):
    """One row per mobile number that was ever sent a code: the lock that makes the
    per-number send limits race-free (``otp.otp_send`` locks it, checks the limits and
    creates the challenge that counts, in one transaction)."""

    mobile_index = BlindIndexField(unique=True)

    def __str__(self) -> str:
        return f"短信发送锁 {self.pk}"


class WechatBinding(models.Model):
    """An openid (per appid) bound to an account, for notices (not for login)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="wechat_bindings")
    appid = models.CharField(max_length=32)
    openid_index = BlindIndexField(purpose="openid", of=("appid", "openid"))
    # No public id here: the ciphertext is bound to (account, appid), fixed at creation.
    openid = EncryptedTextField(bind=("account_id", "appid"))
    bound_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["appid", "openid_index"], name="wechat_binding_openid_unique")]

    def __str__(self) -> str:
        return f"微信绑定 {self.pk}"

