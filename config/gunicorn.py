"""gunicorn settings for Lanbitou (``manage.py serve`` and deploy/lanbitou-web.service).

Environment: LANBITOU_BIND (127.0.0.1:8000), LANBITOU_WEB_WORKERS (CPUs + 1),
LANBITOU_WEB_THREADS (4), LANBITOU_WEB_TIMEOUT (120 s).
"""

import os

bind = os.environ.get("LANBITOU_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("LANBITOU_WEB_WORKERS") or (os.cpu_count() or 1) + 1)
# Threads let a page be served while another request of the same process waits on disk.
worker_class = "gthread"
threads = int(os.environ.get("LANBITOU_WEB_THREADS") or 4)
timeout = int(os.environ.get("LANBITOU_WEB_TIMEOUT") or 120)
graceful_timeout = 20
# Django is loaded once in the master: workers fork ready (no slow first request) and
# share its memory.
preload_app = True
# A worker is replaced after this many requests, so a slow leak never grows for weeks.
max_requests = 2000
max_requests_jitter = 200
forwarded_allow_ips = os.environ.get("LANBITOU_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# No control socket: its default path is shared by every gunicorn of this user.
control_socket_disable = True
accesslog = "-"
errorlog = "-"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "ops.logs.JsonFormatter"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
        }
    },
    # gunicorn merges this over its defaults key by key: the root must name our handler.
    "root": {"handlers": ["stdout"], "level": "INFO"},
    "loggers": {
        "gunicorn.error": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
    },
}
