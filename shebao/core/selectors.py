"""Reads of the embedded core."""

from __future__ import annotations

from types import MappingProxyType

from shebao.common import crypto
from shebao.common.refcache import ProcessCache
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


def _load_insurance_types() -> MappingProxyType:
    from shebao.core.models import InsuranceType

    return MappingProxyType({code: (pk, name) for pk, code, name in InsuranceType.objects.values_list("pk", "code", "name")})


_insurance_types: ProcessCache[MappingProxyType] = ProcessCache("insurance_types", _load_insurance_types)


def watch_reference_tables() -> None:
    """Connect the insurance-type copy to its table (CoreConfig.ready)."""
    from shebao.core.models import InsuranceType

    _insurance_types.watch(InsuranceType)


def insurance_type_names() -> dict[str, str]:
    """Code → name of every insurance type (from the per-process copy, shebao.common.refcache)."""
    return {code: name for code, (_pk, name) in _insurance_types.get().items()}


def insurance_type_id(code: str) -> int | None:
    """Primary key of the insurance type with this code, or None (per-process copy)."""
    found = _insurance_types.get().get(code)
    return found[0] if found else None
