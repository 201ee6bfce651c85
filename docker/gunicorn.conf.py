"""gunicorn settings for the web role, sized for small machines (measured in bench/README.md).

``gunicorn -c docker/gunicorn.conf.py ecommerce.wsgi:application``; every value can be
overridden from the environment (the names the entrypoint already uses) or on the command line.

Why gthread: a request spends a good part of its time waiting on PostgreSQL and Redis; threads
overlap those waits while the GIL serialises the Python work, so a few processes (about one per
core, plus one) with a few threads each keep the cores busy without the memory of many
processes. Each thread holds its own persistent database connection per alias
(``CONN_MAX_AGE``), so workers x threads x aliases stays well under PostgreSQL's
``max_connections``.
"""

import multiprocessing
import os

_cores = multiprocessing.cpu_count()

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
workers = int(os.environ.get("GUNICORN_WORKERS", _cores + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle workers now and then (bounded memory growth), not all at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "500"))
# Importing the application in the master (GUNICORN_PRELOAD=1) shares memory pages but would share
# any connection opened at import time: off by default.
preload_app = os.environ.get("GUNICORN_PRELOAD", "0") == "1"
backlog = int(os.environ.get("GUNICORN_BACKLOG", "2048"))
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"


def post_fork(server, worker):
    # Connections opened in the master before forking must not be shared by the workers.
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        connection.close()
