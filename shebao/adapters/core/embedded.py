"""The embedded core: answers the CoreSystem port from our own tables."""

from __future__ import annotations

from shebao.adapters.core.embedded_fees import EmbeddedFeeCore
from shebao.adapters.core.embedded_refunds import EmbeddedRefundCore
from shebao.adapters.core.port import InsuredInfo, InsuredItem
from shebao.core import selectors


class EmbeddedCore(EmbeddedFeeCore, EmbeddedRefundCore):
    def registration_find(self, *, name: str, id_type: str, id_number: str) -> str | None:
        """All three elements must match (name compared after decryption)."""
        payer = selectors.payer_get_by_identity(id_type=id_type, id_number=id_number)
        if payer is None or payer.name != name:
            return None
        return payer.registration_no

    def registration_name_matches(self, *, name: str, id_type: str, id_number: str) -> bool | None:
        payer = selectors.payer_get_by_identity(id_type=id_type, id_number=id_number)
        return None if payer is None else payer.name == name

    def insured_info(self, *, registration_no: str) -> InsuredInfo:
        payer = selectors.payer_get_by_registration_no(registration_no=registration_no)
        items = tuple(
            InsuredItem(
                insurance_type_code=e.insurance_type.code,
                insurance_type=e.insurance_type.name,
                person_type=e.insurance_type.person_type,
                collection_item=e.insurance_type.collection_item,
                collection_subitem=e.insurance_type.collection_subitem,
                state=e.get_state_display(),
                rate=e.rate,
                started_on=e.started_on,
            )
            for e in payer.enrolments.all()
        )
        return InsuredInfo(
            registration_no=payer.registration_no,
            person_no=payer.person_no,
            person_type=payer.get_person_type_display(),
            special_category=payer.special_category,
            agency=payer.agency.name,
            tax_office=payer.tax_office.name,
            city=payer.city.name,
            items=items,
        )
