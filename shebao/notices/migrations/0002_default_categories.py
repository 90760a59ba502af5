"""The two categories of the customer's brief (政策法规, 业务通知) and the version row;
staff add more categories in the back office."""

from django.db import migrations

DEFAULTS = [("policy", "政策法规", 10), ("business", "业务通知", 20)]


def add_defaults(apps, schema_editor):
    category = apps.get_model("notices", "NoticeCategory")
    for code, name, order in DEFAULTS:
        category.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})
    apps.get_model("notices", "NoticeVersion").objects.get_or_create(pk=1, defaults={"value": 0})


class Migration(migrations.Migration):
    dependencies = [("notices", "0001_notices_audience_reads")]
    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
