"""Model fields for personal data: encrypted at rest with the crypto module.

Lookups never use the ciphertext (a fresh nonce each time); they go through a
separate blind-index column that the service layer fills with
:func:`shebao.common.crypto.blind_index`."""

from __future__ import annotations

from django.db import models

from shebao.common import crypto


class EncryptedTextField(models.TextField):
    """Stores ``crypto.encrypt(value, aad="<app_label>.<model>.<field>")``."""

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        self._aad = f"{cls._meta.label_lower}.{name}"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return crypto.decrypt(value, aad=self._aad)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(value, aad=self._aad)


class BlindIndexField(models.CharField):
    """Hex HMAC of a personal value; 64 characters."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)
