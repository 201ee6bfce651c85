"""Celery app. Embedded default: eager (tasks run in-process, no broker).

Each app declares its periodic tasks in its ``tasks.py`` and adds them to
``settings.CELERY_BEAT_SCHEDULE`` from ``AppConfig.ready()`` only when this process serves it.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecommerce.settings")

app = Celery("ecommerce")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
