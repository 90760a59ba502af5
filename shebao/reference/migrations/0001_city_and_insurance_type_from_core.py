"""City and InsuranceType move here from the embedded core, in the migration state
only: the tables ``core_city`` and ``core_insurancetype`` and their rows stay where
they are (``db_table``), so no row moves and nothing is locked. ``core.0004`` removes
the two models from the core's state, ``rules.0003`` points the rule FKs here.

The content types (and with them staff permissions and admin history) are renamed
from ``core`` to ``reference`` when they exist. Renaming the tables is a later,
separate migration."""

from django.db import migrations, models

MOVED = ("city", "insurancetype")


def _relabel(apps, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not ContentType.objects.filter(app_label=new, model=model).exists():
            ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


def forwards(apps, schema_editor):
    _relabel(apps, "core", "reference")


def backwards(apps, schema_editor):
    _relabel(apps, "reference", "core")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0003_blind_index_key_id"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="City",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("division_code", models.CharField(max_length=6, unique=True, verbose_name="行政区划代码")),
                        ("name", models.CharField(max_length=32, verbose_name="名称")),
                        ("is_region_level", models.BooleanField(default=False, verbose_name="自治区本级")),
                    ],
                    options={
                        "verbose_name": "地市",
                        "verbose_name_plural": "地市",
                        "db_table": "core_city",
                        "ordering": ["division_code"],
                    },
                ),
                migrations.CreateModel(
                    name="InsuranceType",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("code", models.CharField(max_length=16, unique=True, verbose_name="险种代码")),
                        ("name", models.CharField(max_length=32, verbose_name="险种名称")),
                        (
                            "person_type",
                            models.CharField(
                                choices=[("resident", "城乡居民"), ("flexible", "灵活就业人员")],
                                max_length=16,
                                verbose_name="适用人员",
                            ),
                        ),
                        ("collection_item_code", models.CharField(max_length=16, verbose_name="征收项目代码")),
                        ("collection_item", models.CharField(max_length=32, verbose_name="征收项目")),
                        ("collection_subitem_code", models.CharField(max_length=16, verbose_name="征收品目代码")),
                        ("collection_subitem", models.CharField(max_length=32, verbose_name="征收品目")),
                        ("default_rate", models.DecimalField(decimal_places=4, max_digits=6, verbose_name="默认费率")),
                    ],
                    options={
                        "verbose_name": "险种",
                        "verbose_name_plural": "险种",
                        "db_table": "core_insurancetype",
                        "ordering": ["code"],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
