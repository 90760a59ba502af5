"""Helpers for the job tests: the queue as the worker sees it."""

from __future__ import annotations

import pytest
from django.core.management import call_command


@pytest.fixture
def run_queue():
    """Run every ready job in this process, as one worker would (``db_worker --batch``).
    Needs ``django_db(transaction=True)``: the worker loop closes the connection between jobs."""

    def run() -> None:
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    return run
