from django.db import models


class WorkerBeat(models.Model):
    """A background worker's sign of life, written every few seconds by ``run_worker``:
    /healthz reports the queues no live worker has served lately."""

    worker = models.CharField(max_length=200, unique=True)  # host:pid
    queues = models.CharField(max_length=200)  # comma-separated, as given to the worker
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.worker} ({self.queues})"
