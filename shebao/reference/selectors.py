"""Reads of the reference data: the per-process copy of the insurance types
(shebao.common.refcache)."""

from __future__ import annotations

from types import MappingProxyType

from shebao.common.refcache import ProcessCache


def _load_insurance_types() -> MappingProxyType:
    from shebao.reference.models import InsuranceType

    return MappingProxyType({code: (pk, name) for pk, code, name in InsuranceType.objects.values_list("pk", "code", "name")})


_insurance_types: ProcessCache[MappingProxyType] = ProcessCache("insurance_types", _load_insurance_types)


def watch_reference_tables() -> None:
    """Connect the insurance-type copy to its table (ReferenceConfig.ready)."""
    from shebao.reference.models import InsuranceType

    _insurance_types.watch(InsuranceType)


def insurance_type_names() -> dict[str, str]:
    """Code → name of every insurance type (from the per-process copy, shebao.common.refcache)."""
    return {code: name for code, (_pk, name) in _insurance_types.get().items()}


def insurance_type_id(code: str) -> int | None:
    """Primary key of the insurance type with this code, or None (per-process copy)."""
    found = _insurance_types.get().get(code)
    return found[0] if found else None
