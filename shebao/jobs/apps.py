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
