"""The blind index of a person's document (purpose ``identity`` over
``id_type:id_number``): the key for uniqueness and lookup of accounts and payers,
the same value ``BlindIndexField(purpose="identity", of=("id_type", "id_number"))``
stores."""

from __future__ import annotations

from shebao.common import crypto


def identity_index(*, id_type: str, id_number: str) -> str:
    """Blind index of a person's document: the key for uniqueness and lookup."""
    return crypto.blind_index(f"{id_type}:{id_number}", purpose="identity")
