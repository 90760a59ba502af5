"""Back office: partner channels (合作渠道), registered and changed by staff through
``channels.partner_channel_save`` (audited); the ticket key and the OIDC secret are
write-only in the form (blank keeps the stored value) and never listed."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db import models

from shebao.common import clock
from shebao.common.actor import request_actor
from shebao.common.admin_base import ReadOnlyAdmin
from shebao.sso import channels
from shebao.sso.models import PartnerChannel, SsoLogin

WRITE_ONLY = ("encryption_key", "oidc_client_secret")


def _formfield(field, **kwargs):
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class PartnerChannelForm(forms.ModelForm):
    encryption_key = forms.CharField(label="票据加密密钥（十六进制；留空则不变）", required=False, widget=forms.PasswordInput)
    oidc_client_secret = forms.CharField(label="OIDC client_secret（留空则不变）", required=False, widget=forms.PasswordInput)

    class Meta:
        model = PartnerChannel
        formfield_callback = _formfield
        fields = ("identifier", "name", "enabled", "protocol", "signature_algorithm", "public_key", "encryption_algorithm",
                  "encryption_key", "allowed_return_urls", "check_url", "oidc_issuer", "oidc_client_id", "oidc_client_secret",
                  "oidc_authorize_url", "oidc_token_url", "oidc_jwks_url")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._previous = channels.channel_snapshot(self.instance) if self.instance.pk else None

    def _post_clean(self):
        kept = {f: getattr(self.instance, f) for f in WRITE_ONLY} if self.instance.pk else {}
        super()._post_clean()
        for field, value in kept.items():
            if not self.cleaned_data.get(field):
                setattr(self.instance, field, value)
        try:
            channels.channel_validate(self.instance)
        except channels.ChannelInvalid as exc:
            self.add_error(None, str(exc))


@admin.register(PartnerChannel)
class PartnerChannelAdmin(admin.ModelAdmin):
    form = PartnerChannelForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ("identifier", "name", "protocol", "signature_algorithm", "encryption_algorithm", "enabled", "updated_at")
    list_filter = ("enabled", "protocol")
    actions = None

    def has_delete_permission(self, request, obj=None):
        return False  # switch a channel off instead: its logins keep pointing at it

    def save_model(self, request, obj, form, change):
        channels.partner_channel_save(channel=obj, previous=form._previous, actor=request_actor(request), now=clock.now())


@admin.register(SsoLogin)
class SsoLoginAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "channel", "created_at", "ended_at", "end_reason")
    list_filter = ("channel", "end_reason")
    exclude = ("account", "session_key", "partner_session")
