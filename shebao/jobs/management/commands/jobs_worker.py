"""manage.py jobs_worker: the django-tasks-db worker with housekeeping beside it.

The worker loop is the library's (``db_worker``: claims one ready job at a time, runs it,
records success or failure). A daemon thread does the housekeeping every
``--housekeeping-every`` seconds, also while a job runs: the heartbeat of this worker,
putting back the jobs of lost workers (recovery.py), and enqueueing due periodic tasks
(schedule.py; ``--no-schedule`` to leave that to other workers). Any number of these
processes may run. SIGTERM/SIGINT stop the process as the library's worker does (between
jobs at once; during a job after it, or at once at a second signal).
"""

from __future__ import annotations

import logging
import threading

from django.db import connection
from django_tasks_db.management.commands import db_worker

from shebao.common import clock

logger = logging.getLogger("shebao.jobs")


def housekeeping_round(*, worker_id: str, schedule: bool) -> None:
    from shebao.jobs.recovery import heartbeat, recover_lost_jobs
    from shebao.jobs.schedule import schedule_due

    now = clock.now()
    heartbeat(worker_id=worker_id, now=now)
    recovered = recover_lost_jobs(now=now)
    if recovered:
        logger.warning("jobs of lost workers put back to the queue: %s", ", ".join(recovered))
    enqueued = schedule_due(now=now) if schedule else []
    if enqueued:
        logger.info("periodic jobs enqueued: %s", ", ".join(enqueued))
    logger.debug("housekeeping round done (%d enqueued)", len(enqueued))


def _housekeeping_loop(every: float, worker_id: str, schedule: bool, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            housekeeping_round(worker_id=worker_id, schedule=schedule)
        except Exception:  # a failed round (database away) is retried next round
            logger.exception("jobs housekeeping failed")
        finally:
            connection.close()
        stop.wait(every)


class Command(db_worker.Command):
    help = "运行后台任务（django-tasks-db 工作进程，附带心跳、失联任务回收与定时任务调度）"

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--housekeeping-every", type=float, default=5.0,
                            help="seconds between two housekeeping rounds (heartbeat, recovery, periodic tasks)")
        parser.add_argument("--no-schedule", action="store_false", dest="schedule", help="do not enqueue periodic tasks")

    def configure_logging(self, verbosity: int) -> None:
        super().configure_logging(verbosity)
        logger.setLevel(logging.DEBUG if verbosity >= 2 else logging.INFO if verbosity == 1 else logging.CRITICAL)

    def handle(self, *args, housekeeping_every: float, schedule: bool, **options) -> None:
        stop = threading.Event()
        threading.Thread(target=_housekeeping_loop, args=(housekeeping_every, options["worker_id"], schedule, stop),
                         name="jobs-housekeeping", daemon=True).start()
        try:
            super().handle(*args, **options)
        finally:
            stop.set()
