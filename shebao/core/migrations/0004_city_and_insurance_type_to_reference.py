"""City and InsuranceType leave the embedded core for ``reference`` (reference.0001),
in the migration state only: the core's foreign keys point there, then the two
models are removed from the core's state. The tables ``core_city`` and
``core_insurancetype`` and their rows are untouched (the reference models name them
in ``db_table``)."""

import django.db.models.deletion
from django.db import migrations, models


def _fk(to: str, **kw) -> models.ForeignKey:
    return models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, to=to, **kw)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_blind_index_key_id"),
        ("reference", "0001_city_and_insurance_type_from_core"),
        ("rules", "0003_rule_fks_to_reference"),  # no state reference to core.City may remain
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField("agency", "city", _fk("reference.city", related_name="agencies", verbose_name="地市")),
                migrations.AlterField(
                    "taxoffice", "city", _fk("reference.city", related_name="tax_offices", verbose_name="地市")
                ),
                migrations.AlterField("payer", "city", _fk("reference.city", verbose_name="参保地")),
                migrations.AlterField("enrolment", "insurance_type", _fk("reference.insurancetype", verbose_name="险种")),
                migrations.AlterField("declaration", "insurance_type", _fk("reference.insurancetype", verbose_name="险种")),
                migrations.AlterField("declarationline", "insurance_type", _fk("reference.insurancetype")),
                migrations.DeleteModel(name="City"),
                migrations.DeleteModel(name="InsuranceType"),
            ],
            database_operations=[],
        ),
    ]
