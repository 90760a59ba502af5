"""Model fields for personal data: encrypted at rest with the crypto module.

Row binding
-----------
Each ciphertext is bound to its row: the associated data is
``app.model.field|<row id>``, the row id being the model's ``public_id`` (or
the attributes named by ``bind=``). A ciphertext copied into another row --
by raw SQL, a restored dump, a bad ``UPDATE`` -- then fails to decrypt, and the
read raises :class:`~shebao.common.crypto.DecryptionError` ("数据校验失败…")
instead of showing another person's name. The row id must therefore exist
before the first save and never change (``public_id`` is a random token set by
the code that creates the row, ``editable=False``).

Django's ``get_prep_value`` and ``from_db_value`` never see the model
instance, so the work moves to where the instance is known:

* writing: :meth:`EncryptedTextField.pre_save` encrypts with the instance's
  row id and hands a :class:`Ciphertext` marker on; ``get_prep_value`` passes
  markers through and **refuses plain text**, so ``queryset.update(name=...)``
  or ``bulk_update`` (which have no row) fail loudly instead of writing an
  unbound ciphertext. Use ``save(update_fields=[...])``.
* reading: ``from_db_value`` returns a :class:`Sealed` (the token, not yet
  checked); the field's descriptor opens it on first access with the row id
  of the instance it was read into, and caches the plain text on the
  instance. ``values()`` / ``values_list()`` have no instance: they give
  :class:`Sealed` objects, opened with :meth:`EncryptedTextField.open` and the
  row id selected alongside.
* saving a row whose ciphertext was never read keeps the stored token unless
  it is under a non-current kid or in the first-version format; then it is
  opened and re-sealed (a save upgrades the row during a rotation).

Lookups never use the ciphertext (a fresh nonce each time); they go through a
separate blind-index column (:class:`BlindIndexField`) that the service layer
fills with :func:`shebao.common.crypto.blind_index`. Its ``exact`` and ``in``
lookups match a :class:`~shebao.common.crypto.BlindIndex` under every readable
kid, so lookups keep working during a key rotation. ``purpose`` and ``of``
name how the index is computed from the row, which is what lets
``manage.py rotate_field_keys`` recompute it; indexes of values the row does
not hold (an SMS code's mobile, a login throttle's identifier) have no
source and simply expire."""

from __future__ import annotations

from django.db import models
from django.db.models import lookups
from django.db.models.query_utils import DeferredAttribute

from shebao.common import crypto
from shebao.common.crypto import DecryptionError


class Sealed:
    """A ciphertext as read from the database, not yet checked against its row."""

    __slots__ = ("token",)

    def __init__(self, token: str) -> None:
        self.token = token

    def __repr__(self) -> str:
        return "<Sealed ciphertext>"

    def __str__(self) -> str:  # never the ciphertext, never someone's data
        return "〔加密数据〕"


class Ciphertext(str):
    """A token sealed for its row by :meth:`EncryptedTextField.seal` (safe to store)."""


class _OpenOnAccess(DeferredAttribute):
    """Loads the attribute like Django does, then opens a :class:`Sealed` with the instance's row id."""

    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if isinstance(value, Sealed):
            value = self.field.open(value, self.field.row_id(instance))
            instance.__dict__[self.field.attname] = value
        return value

    def __set__(self, instance, value):
        # A data descriptor (unlike DeferredAttribute), so __get__ runs even when the value is in __dict__.
        instance.__dict__[self.field.attname] = value


class EncryptedTextField(models.TextField):
    """Stores ``crypto.encrypt(value, aad="<app_label>.<model>.<field>|<row id>")``.

    ``bind`` names the attributes that make the row id (default
    ``("public_id",)``); they must be set before the first save and never change."""

    descriptor_class = _OpenOnAccess

    def __init__(self, *args, bind: tuple[str, ...] = ("public_id",), **kwargs):
        self.bind = tuple(bind)
        super().__init__(*args, **kwargs)

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        self.context = f"{cls._meta.label_lower}.{name}"  # the first version's whole AAD

    # ---- row binding
    def row_id(self, instance, *, strict: bool = False) -> str:
        parts = [getattr(instance, attr) for attr in self.bind]
        if strict and any(p in (None, "") for p in parts):
            raise ValueError(f"{self.context}: 加密前须先设定行编号 {'/'.join(self.bind)}")
        return "|".join("" if p is None else str(p) for p in parts)

    def seal(self, plaintext: str, row_id: str) -> Ciphertext:
        return Ciphertext(crypto.encrypt(plaintext, aad=f"{self.context}|{row_id}"))

    def open(self, value, row_id: str):
        """Plain text of ``value`` (a :class:`Sealed` or raw token) read from the row ``row_id``."""
        if not isinstance(value, Sealed | Ciphertext):
            return value
        token = value.token if isinstance(value, Sealed) else str(value)
        try:
            return crypto.decrypt(token, aad=f"{self.context}|{row_id}", legacy_aad=self.context)
        except DecryptionError as exc:
            raise DecryptionError(f"数据校验失败：{self.context} 的密文与本行不符或密钥不可用（{exc}）") from exc

    # ---- database round trip
    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return Sealed(value)

    def to_python(self, value):
        if isinstance(value, Sealed):
            return value
        return super().to_python(value)

    def pre_save(self, model_instance, add):
        value = model_instance.__dict__.get(self.attname) if self.attname in model_instance.__dict__ else getattr(model_instance, self.attname)
        if value is None or value == "" or isinstance(value, Ciphertext):
            return value
        if isinstance(value, Sealed):
            if crypto.ciphertext_kid(value.token) == crypto.pii_keyring().current:
                return Ciphertext(value.token)
            value = self.open(value, self.row_id(model_instance))
        return self.seal(str(value), self.row_id(model_instance, strict=True))

    def get_prep_value(self, value):
        if value is None or value == "":
            return value
        if isinstance(value, Ciphertext):
            return str(value)
        if isinstance(value, Sealed):
            return value.token
        raise ValueError(f"{getattr(self, 'context', self.name)}: 加密字段只能经 save() 写入（密文须绑定所在行）")


class BlindIndexField(models.CharField):
    """``<kid>:<hex HMAC>`` of a personal value (up to 96 characters).

    ``purpose`` and ``of`` (attribute names, joined with ``:``) say how the
    index is computed from the row, for :meth:`compute`; leave them out when
    the row does not hold the value."""

    def __init__(self, *args, purpose: str = "", of: tuple[str, ...] = (), **kwargs):
        self.purpose = purpose
        self.of = tuple(of)
        kwargs.setdefault("max_length", 96)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def compute(self, instance) -> crypto.BlindIndex | None:
        """The index of the row's current values (current kid), or None (no source, or no value)."""
        if not self.purpose:
            return None
        values = [getattr(instance, attr) for attr in self.of]
        if any(v in (None, "") for v in values):
            return None
        return crypto.blind_index(":".join(str(v) for v in values), purpose=self.purpose)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return str(value) if isinstance(value, crypto.BlindIndex) else value


@BlindIndexField.register_lookup
class _AnyKidExact(lookups.Exact):
    """``field=blind_index(...)`` matches the value under every readable kid."""

    lookup_name = "exact"

    def get_prep_lookup(self):
        self.forms = getattr(self.rhs, "forms", None)
        return super().get_prep_lookup()

    def as_sql(self, compiler, connection):
        if self.forms and len(self.forms) > 1:
            return lookups.In(self.lhs, list(self.forms)).as_sql(compiler, connection)
        return super().as_sql(compiler, connection)


@BlindIndexField.register_lookup
class _AnyKidIn(lookups.In):
    """``field__in=[blind_index(...), ...]`` matches each value under every readable kid."""

    lookup_name = "in"

    def get_prep_lookup(self):
        if isinstance(self.rhs, list | tuple | set | frozenset):
            self.rhs = list(dict.fromkeys(form for v in self.rhs for form in getattr(v, "forms", (v,))))
        return super().get_prep_lookup()
