"""Back office for background jobs: the library's read-only list of job results, with the
queue's health above it (depth, age of the oldest waiting job, failures) and one action:
run failed jobs again."""

from __future__ import annotations

from django.contrib import admin, messages
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult, get_date_max

from shebao.common import clock
from shebao.jobs.models import PeriodicRun, WorkerHeartbeat
from shebao.jobs.selectors import queue_health

admin.site.unregister(DBTaskResult)


@admin.register(DBTaskResult)
class JobResultAdmin(DBTaskResultAdmin):
    change_list_template = "admin/jobs/jobs_change_list.html"
    actions = ["retry_failed"]

    def changelist_view(self, request, extra_context=None):
        health = queue_health(now=clock.now())
        age = health.oldest_waiting_age
        extra_context = {**(extra_context or {}), "queue_health": health,
                         "oldest_waiting_seconds": int(age.total_seconds()) if age is not None else None}
        return super().changelist_view(request, extra_context=extra_context)

    def has_retry_permission(self, request) -> bool:
        """Running a job again is a change: staff need the change permission of job results."""
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")

    @admin.action(description="重新执行所选失败任务", permissions=["retry"])
    def retry_failed(self, request, queryset):
        """Only FAILED jobs go back to the queue (as new: no backoff, the worker ids kept
        as the history of runs); any other job chosen is left as it is."""
        count = queryset.filter(status="FAILED").update(status="READY", run_after=get_date_max(), finished_at=None)
        skipped = queryset.count() - count
        self.message_user(request, f"已重新排队 {count} 个失败任务" + (f"，{skipped} 个非失败任务未处理" if skipped else ""),
                          messages.SUCCESS if count else messages.WARNING)


@admin.register(PeriodicRun)
class PeriodicRunAdmin(admin.ModelAdmin):
    list_display = ("task_path", "period_start", "enqueued_at", "result_id")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(PeriodicRunAdmin):
    list_display = ("worker_id", "seen_at")
