"""Reads of the archive (REQUIREMENTS §6). Callers scope citizen reads to the
logged-in payer by passing their public id as ``subject_ref``."""

from __future__ import annotations

from django.db.models import QuerySet

from shebao.archive.models import ArchiveRecord


def archive_list(*, subject_ref: str) -> QuerySet[ArchiveRecord]:
    """One payer's archived businesses, newest first. The encrypted snapshot is
    deferred: it is decrypted only when a caller touches ``record.snapshot``."""
    return ArchiveRecord.objects.filter(subject_ref=subject_ref).defer("snapshot").order_by("-id")


def archive_get(*, public_id: str, subject_ref: str | None) -> ArchiveRecord | None:
    """One record by its opaque id, or None.

    ``subject_ref`` is required on purpose: a citizen-facing caller passes the
    logged-in payer's public id, so another person's record is "not found";
    only back-office code that has its own permission check passes ``None``."""
    records = ArchiveRecord.objects.filter(public_id=public_id)
    if subject_ref is not None:
        records = records.filter(subject_ref=subject_ref)
    return records.first()
