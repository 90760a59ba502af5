"""Reference data of the embedded core for Guangxi: the agencies and tax offices
(``Agency``, ``TaxOffice``; a real core names them itself). Loaded by
``manage.py seed_demo`` (idempotent).

The national codes (cities, insurance types) are ``shebao.reference.reference_data``'s;
they are re-exported here for one release, for code that still imports them from here."""

from __future__ import annotations

from shebao.reference.reference_data import CITIES, INSURANCE_TYPES, REGION

__all__ = ["CITIES", "DISTRICT_TAX_OFFICES", "INSURANCE_TYPES", "REGION", "agency_for", "tax_office_for"]

# (code, name, city division code): district offices beside the city bureaus
DISTRICT_TAX_OFFICES = [
    ("14501030000", "国家税务总局南宁市青秀区税务局", "450100"),
    ("14501020000", "国家税务总局南宁市兴宁区税务局", "450100"),
    ("14503050000", "国家税务总局桂林市七星区税务局", "450300"),
]


def agency_for(division_code: str, name: str) -> tuple[str, str]:
    return f"SB{division_code}", f"{name}社会保险事业局" if division_code != REGION[0] else "广西壮族自治区社会保险事业局"


def tax_office_for(division_code: str, name: str) -> tuple[str, str]:
    if division_code == REGION[0]:
        return "14500000000", "国家税务总局广西壮族自治区税务局"
    return f"1{division_code}0000", f"国家税务总局{name}税务局"
