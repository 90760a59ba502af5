"""ContributionRule.city / .insurance_type point at ``reference`` (the models moved
there from ``core`` in the state only, reference.0001): a state-only change, the
columns and their foreign-key constraints to ``core_city`` / ``core_insurancetype``
stay as they are."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reference", "0001_city_and_insurance_type_from_core"),
        ("rules", "0002_load_customer_rules_2020_2021"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="contributionrule",
                    name="city",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="contribution_rules",
                        to="reference.city",
                        verbose_name="地市",
                    ),
                ),
                migrations.AlterField(
                    model_name="contributionrule",
                    name="insurance_type",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="contribution_rules",
                        to="reference.insurancetype",
                        verbose_name="险种",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
