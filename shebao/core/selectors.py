"""Reads of the embedded core."""

from __future__ import annotations

from shebao.common import crypto
from shebao.core.models import Payer


def identity_index(*, id_type: str, id_number: str) -> str:
    """Blind index of a person's document: the key for uniqueness and lookup."""
    return crypto.blind_index(f"{id_type}:{id_number}", purpose="identity")


def payer_get_by_identity(*, id_type: str, id_number: str) -> Payer | None:
    return (
        Payer.objects.select_related("agency", "tax_office", "city")
        .filter(id_index=identity_index(id_type=id_type, id_number=id_number))
        .first()
    )


def payer_get_by_registration_no(*, registration_no: str) -> Payer:
    return (
        Payer.objects.select_related("agency", "tax_office", "city")
        .prefetch_related("enrolments__insurance_type")
        .get(registration_no=registration_no)
    )


def insurance_type_names() -> dict[str, str]:
    from shebao.core.models import InsuranceType

    return dict(InsuranceType.objects.values_list("code", "name"))
