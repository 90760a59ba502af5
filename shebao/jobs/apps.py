from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "shebao.jobs"
    label = "jobs"
    verbose_name = "后台任务"

    def ready(self) -> None:
        try:
            from django.tasks.signals import task_finished
        except ImportError:
            from django_tasks.signals import task_finished

        from shebao.jobs.retry import on_task_finished

        task_finished.connect(on_task_finished, dispatch_uid="shebao.jobs.retry")
        task_finished.connect(_count_finished, dispatch_uid="shebao.jobs.metrics")


def _count_finished(sender, task_result, **kwargs) -> None:
    from shebao.common.metrics import JOBS_FINISHED, count

    count(JOBS_FINISHED, task_result.task.module_path, str(task_result.status))
