"""Partner channels (合作渠道) and what single sign-on keeps: one-time nonces and the links
between a partner's session and ours (REQUIREMENTS §1.4, issue 13)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from shebao.common.fields import EncryptedTextField


class Protocol(models.TextChoices):
    TICKET = "ticket", "签名票据"
    OIDC = "oidc", "OpenID Connect"


class SignatureAlgorithm(models.TextChoices):
    SM2 = "sm2", "SM2（国密）"
    ED25519 = "ed25519", "Ed25519"


class EncryptionAlgorithm(models.TextChoices):
    SM4GCM = "sm4gcm", "SM4-GCM（国密）"
    AESGCM = "aesgcm", "AES-GCM"


class PartnerChannel(models.Model):
    """An integrated channel (电子税务局, 政务服务 app, a bank...) registered in the back office:
    how it signs (its public key), how its tickets are encrypted (the key, encrypted at rest),
    where it may send people back to, and where we ask it whether a person is still signed in."""

    public_id = models.CharField(max_length=32, unique=True, editable=False)
    identifier = models.SlugField("渠道标识", max_length=32, unique=True)
    name = models.CharField("渠道名称", max_length=64)
    enabled = models.BooleanField("启用", default=True)
    protocol = models.CharField("接入方式", max_length=8, choices=Protocol.choices, default=Protocol.TICKET)
    signature_algorithm = models.CharField("签名算法", max_length=8, choices=SignatureAlgorithm.choices, default=SignatureAlgorithm.SM2)
    public_key = models.TextField("渠道签名公钥（十六进制）")
    encryption_algorithm = models.CharField("票据加密算法", max_length=8, choices=EncryptionAlgorithm.choices,
                                            default=EncryptionAlgorithm.SM4GCM)
    encryption_key = EncryptedTextField("票据加密密钥", blank=True)
    allowed_return_urls = models.TextField("允许的返回地址（每行一个）", blank=True)
    check_url = models.URLField("身份复核地址", max_length=300)
    oidc_issuer = models.CharField("OIDC issuer", max_length=300, blank=True)
    oidc_client_id = models.CharField("OIDC client_id", max_length=128, blank=True)
    oidc_client_secret = EncryptedTextField("OIDC client_secret", blank=True)
    oidc_authorize_url = models.URLField("OIDC 授权地址", max_length=300, blank=True)
    oidc_token_url = models.URLField("OIDC 令牌地址", max_length=300, blank=True)
    oidc_jwks_url = models.URLField("OIDC JWKS 地址", max_length=300, blank=True)
    created_at = models.DateTimeField("登记时间")
    updated_at = models.DateTimeField("修改时间")

    class Meta:
        verbose_name = verbose_name_plural = "合作渠道"

    def __str__(self) -> str:
        return f"{self.name}（{self.identifier}）"

    def return_urls(self) -> list[str]:
        return [line.strip() for line in self.allowed_return_urls.splitlines() if line.strip()]


class NonceScope(models.TextChoices):
    TICKET = "ticket", "单点登录票据"
    API = "api", "接口请求"


class PartnerNonce(models.Model):
    """A nonce a partner used once: claimed by a unique insert in the transaction that acts on
    it, so two copies of one ticket (or request) racing each other sign in (act) once."""

    channel = models.ForeignKey(PartnerChannel, on_delete=models.CASCADE, related_name="nonces")
    scope = models.CharField(max_length=8, choices=NonceScope.choices)
    nonce = models.CharField(max_length=64)
    seen_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "scope", "nonce"], name="partner_nonce_unique")]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.scope}:{self.nonce}"


class SsoLogin(models.Model):
    """One sign-on through a channel: our session bound to the partner's session reference
    (``partner_session``, opaque to us), so a back-channel answer or a partner's logout ends
    exactly that session."""

    public_id = models.CharField(max_length=32, unique=True, editable=False)
    channel = models.ForeignKey(PartnerChannel, on_delete=models.PROTECT, related_name="logins")
    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_logins")
    partner_session = models.CharField(max_length=128)
    session_key = models.CharField(max_length=64, blank=True, db_index=True)
    return_url = models.CharField(max_length=300, blank=True)
    # A login made by the partner API's ticket exchange waits for the browser to redeem its
    # arrival code (once, until arrival_expires_at); a front-channel arrival is redeemed at once.
    arrival_expires_at = models.DateTimeField(null=True, blank=True)
    arrival_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, blank=True)

    class Meta:
        indexes = [models.Index(fields=["channel", "partner_session"], name="sso_login_partner_session_idx")]

    def __str__(self) -> str:
        return f"单点登录 {self.public_id}"
