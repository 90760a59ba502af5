"""Explicit state machines (DESIGN "Data rules": every business object with a
life cycle lists its allowed transitions in one place, and every transition is
recorded with who, when and why).

A model declares ``TRANSITIONS = {from_state: {to_state, ...}}`` beside its
status field; :func:`transition` is the only code that changes a status. It
locks the row, checks the map, saves, and writes a :class:`StateTransition`
row in the same transaction."""

from __future__ import annotations

import datetime as dt

from django.db import models, transaction


class TransitionError(Exception):
    """A transition the model's map does not allow."""


class StateTransition(models.Model):
    """Append-only history of status changes of every stateful business object."""

    model = models.CharField(max_length=64)
    object_ref = models.CharField(max_length=64, db_index=True)
    from_state = models.CharField(max_length=32)
    to_state = models.CharField(max_length=32)
    actor_ref = models.CharField(max_length=64)  # account public id, "system" or "channel:<name>"
    reason = models.CharField(max_length=255)
    at = models.DateTimeField()

    class Meta:
        app_label = "common"
        indexes = [models.Index(fields=["model", "object_ref"], name="transition_object_idx")]

    def __str__(self) -> str:
        return f"{self.model} {self.object_ref}: {self.from_state} → {self.to_state}"


def transition(obj: models.Model, to_state: str, *, actor_ref: str, reason: str, now: dt.datetime,
               field: str = "state", extra: dict | None = None, locked: bool = False) -> models.Model:
    """Move ``obj`` to ``to_state`` if its model's TRANSITIONS allow it.

    ``extra`` sets other fields in the same save (e.g. ``paid_at``). With
    ``locked=False`` the row is re-read under ``select_for_update`` first, so the
    check and the change are one atomic step (ASVS 15.4.2). Returns the fresh row."""
    model = type(obj)
    with transaction.atomic(savepoint=False):  # inside a caller's transaction: all or nothing with it, no savepoint
        row = obj if locked else model.objects.select_for_update().get(pk=obj.pk)
        current = getattr(row, field)
        allowed = model.TRANSITIONS.get(current, set())
        if to_state not in allowed:
            raise TransitionError(f"{model.__name__} {current} → {to_state} 不允许")
        setattr(row, field, to_state)
        for key, value in (extra or {}).items():
            setattr(row, key, value)
        row.save(update_fields=[field, *(extra or {}).keys()])
        StateTransition.objects.create(**_history(row, current, to_state, actor_ref=actor_ref, reason=reason, now=now))
    return row


def transition_locked_rows(rows: list[models.Model], to_state: str, *, actor_ref: str, reason: str, now: dt.datetime,
                           field: str = "state", extra: dict | None = None) -> None:
    """:func:`transition` for several rows of one model that the caller has already locked
    (``select_for_update`` in its transaction), all to ``to_state`` with the same ``extra``:
    every row is checked first, then one UPDATE and one INSERT of their history, whatever
    their number. Nothing changes if one of them may not move."""
    if not rows:
        return
    model = type(rows[0])
    if any(type(row) is not model for row in rows):
        raise TypeError("transition_locked_rows: rows of one model only")
    before = [getattr(row, field) for row in rows]
    for current in before:
        if to_state not in model.TRANSITIONS.get(current, set()):
            raise TransitionError(f"{model.__name__} {current} → {to_state} 不允许")
    changes = {field: to_state, **(extra or {})}
    with transaction.atomic(savepoint=False):
        model.objects.filter(pk__in=[row.pk for row in rows]).update(**changes)
        StateTransition.objects.bulk_create([
            StateTransition(**_history(row, current, to_state, actor_ref=actor_ref, reason=reason, now=now))
            for row, current in zip(rows, before, strict=True)
        ])
    for row in rows:
        for key, value in changes.items():
            setattr(row, key, value)


def _history(row: models.Model, current: str, to_state: str, *, actor_ref: str, reason: str, now: dt.datetime) -> dict:
    return {"model": type(row)._meta.label_lower, "object_ref": str(getattr(row, "public_id", row.pk)), "from_state": current,
            "to_state": to_state, "actor_ref": actor_ref, "reason": reason[:255], "at": now}
