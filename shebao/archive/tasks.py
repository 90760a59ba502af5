"""Background job of the archive app (registered in shebao.jobs.schedule.PERIODIC)."""

from __future__ import annotations

try:  # Django 6: the framework is built in; the backport keeps the same API
    from django.tasks import task
except ImportError:  # Django 5.2
    from django_tasks import task


@task()
def export_signed_heads() -> dict[str, int]:
    """Copy each log's latest signed head to the append-only files outside the database
    (shebao.archive.heads.heads_export; skipped when unchanged): the last_seq written per
    log, 0 when unchanged."""
    from shebao.archive.heads import heads_export

    return heads_export()
