"""Reads of the embedded core."""

from __future__ import annotations

from shebao.common.identity import identity_index
from shebao.core.models import Payer


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
