"""gunicorn settings for Countersign: `gunicorn -c config/gunicorn.conf.py config.wsgi`.

No access log: an access log is a list of client addresses and exact times, which is the
one thing the threat model says the server must not keep (P1, timing).
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
timeout = 30
graceful_timeout = 30
accesslog = None
errorlog = "-"
loglevel = "info"
# The reverse proxy is the only client; it may set X-Forwarded-Proto.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn 27 opens a control socket in $XDG_RUNTIME_DIR or ~/.gunicorn by default: a second
# instance under the same user takes it over, and a service user has no writable home
# (deploy/systemd/ protects it). Reloads go through HUP (systemctl reload), not the socket.
control_socket_disable = True
