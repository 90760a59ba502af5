"""manage.py jobs_worker: the django-tasks-db worker with the periodic scheduler beside it.

The worker loop is the library's (``db_worker``: claims one ready job at a time, runs it,
records success or failure). A daemon thread calls ``schedule_due`` every
``--schedule-every`` seconds; any number of these processes may run (schedule.py explains
why periodic work still runs once per period). SIGTERM/SIGINT stop the process as the
library's worker does (between jobs at once; during a job after it, or at a second signal).
"""

from __future__ import annotations

import logging
import threading

from django.db import connection
from django_tasks_db.management.commands import db_worker

from shebao.common import clock

logger = logging.getLogger("shebao.jobs")


def _scheduler_loop(every: float, stop: threading.Event) -> None:
    from shebao.jobs.schedule import schedule_due

    while not stop.is_set():
        try:
            enqueued = schedule_due(now=clock.now())
            logger.debug("periodic round done (%d enqueued)", len(enqueued))
            if enqueued:
                logger.info("periodic jobs enqueued: %s", ", ".join(enqueued))
        except Exception:  # a failed round (database away) is retried next round
            logger.exception("periodic scheduling failed")
        finally:
            connection.close()
        stop.wait(every)


class Command(db_worker.Command):
    help = "运行后台任务（django-tasks-db 工作进程，附带定时任务调度）"

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--schedule-every", type=float, default=30.0,
                            help="seconds between two looks for due periodic tasks (0: no scheduler)")

    def configure_logging(self, verbosity: int) -> None:
        super().configure_logging(verbosity)
        logger.setLevel(logging.DEBUG if verbosity >= 2 else logging.INFO if verbosity == 1 else logging.CRITICAL)

    def handle(self, *args, schedule_every: float, **options) -> None:
        stop = threading.Event()
        if schedule_every > 0:
            threading.Thread(target=_scheduler_loop, args=(schedule_every, stop), name="jobs-scheduler", daemon=True).start()
        try:
            super().handle(*args, **options)
        finally:
            stop.set()
