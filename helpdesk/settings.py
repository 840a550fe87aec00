"""Switchboard settings: the one place that reads the environment.

With no environment at all (apart from ``DJANGO_DEBUG=1`` or a ``DJANGO_SECRET_KEY``) the
application runs on the embedded default: SQLite, and Celery tasks executed in-process when the
transaction that enqueued them commits. ``DATABASE_URL`` switches to PostgreSQL and ``REDIS_URL``
to a real Celery broker with separate worker and beat processes. See docs/operations.md.
"""

import ipaddress
import os
import re
from datetime import date, timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from helpdesk import celery_queues
from helpdesk.env import env_bool, env_int, env_list, env_rate, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

# --- Core -------------------------------------------------------------------------------------

DEBUG = env_bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) must be set when DJANGO_DEBUG is off."
        )
    # Only ever used with DEBUG on, on a developer's machine.
    SECRET_KEY = "insecure-development-key-never-use-in-production"  # noqa: S105
# Keys retired by a rotation, still accepted for what they signed (sessions, the links and
# reply addresses in mail already sent): comma-separated, newest first.
SECRET_KEY_FALLBACKS = env_list("DJANGO_SECRET_KEY_FALLBACKS")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "tickets",
    "routing",
    "deliveries",
    "anymail",
    "conversations",
    "queues",
    "surveys",
    "django_altcha",
    "portal",
    "customers",
    "insights",
    "monitoring",
    "demo",
]

MIDDLEWARE = [
    # First: every log line of the request names it (helpdesk.log_context), and the time
    # measured is the whole answer's (monitoring.metrics).
    "helpdesk.log_context.RequestIdMiddleware",
    "monitoring.middleware.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Early, so that every answer has the policy, those of the middleware below included.
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before the CSRF check reads the form: an oversized portal post is refused unread.
    "portal.middleware.PortalBodyLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Turns a login refused for too many failures into the lockout answer (accounts.auth).
    "axes.middleware.AxesMiddleware",
    "helpdesk.middleware.PrivateCacheMiddleware",
]

ROOT_URLCONF = "helpdesk.urls"
WSGI_APPLICATION = "helpdesk.wsgi.application"
ASGI_APPLICATION = "helpdesk.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "queues.context_processors.work_counts",
                "conversations.context_processors.mail_counts",
            ],
        },
    },
]

AUTH_USER_MODEL = "accounts.User"
# The lockout backend goes first: a locked-out login is refused before its password is checked.
AUTHENTICATION_BACKENDS = [
    "accounts.auth.LoginLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("DJANGO_TIME_ZONE", "UTC")
# The currency invoices are in (ISO 4217): the standing panel shows amounts with it.
CURRENCY = env_str("SWITCHBOARD_CURRENCY", "USD")
USE_I18N = True
USE_TZ = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Database ---------------------------------------------------------------------------------

# Measured on this stack: opening a connection per request makes every request 3 to 5 times
# slower, so the web tier keeps connections open and checks them before reuse.
CONN_MAX_AGE = env_int("DATABASE_CONN_MAX_AGE", 600, minimum=0)

# PostgreSQL's JIT compiles a query whose estimated cost is high, which costs a second or more
# here; a report over a few thousand rows of a large table (estimated high, then quick) was
# measured at 1.05 s of compiling for 30 ms of work. Off unless asked for.
DATABASE_JIT = env_bool("DATABASE_JIT", default=False)

# The memory PostgreSQL may use per sort or hash while a report page runs (set for the report's
# transaction only): report queries group and sort hundreds of thousands of rows, which spill to
# disk at the server's default (4MB). A PostgreSQL size ("64MB"); empty leaves the server's own.
DATABASE_REPORT_WORK_MEM = env_str("DATABASE_REPORT_WORK_MEM", "64MB")
if DATABASE_REPORT_WORK_MEM and not re.fullmatch(r"\d+(kB|MB|GB)", DATABASE_REPORT_WORK_MEM):
    raise ImproperlyConfigured("DATABASE_REPORT_WORK_MEM must be a size such as 64MB")


# Behind PgBouncer in transaction mode (docs/operations.md, "Connection pooling"): a connection
# to the server is lent for one transaction only, so no server-side cursors (a cursor would
# outlive the transaction's server connection), and no startup options (PgBouncer refuses
# them: set jit=off on the role instead).
DATABASE_PGBOUNCER = env_bool("DATABASE_PGBOUNCER", default=False)


def _postgres_options(database: dict) -> dict:
    if "postgresql" not in database["ENGINE"]:
        return database
    # Django's backend with a health check that costs no statement (helpdesk/postgresql).
    database["ENGINE"] = "helpdesk.postgresql"
    # A kept connection dropped without a word (a NAT's or a balancer's idle timeout, a host
    # gone) is found by the kernel's keepalives, which also keep such a path open; its socket
    # then reads as closed, and the health check replaces it before a request uses it.
    options = database.setdefault("OPTIONS", {})
    for name, value in (("keepalives", 1), ("keepalives_idle", 30), ("keepalives_interval", 10)):
        options.setdefault(name, value)
    options.setdefault("keepalives_count", 3)
    if DATABASE_PGBOUNCER:
        database["DISABLE_SERVER_SIDE_CURSORS"] = True
    elif not DATABASE_JIT:
        options = database.setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c jit=off".strip()
    return database


_database_url = env_str("DATABASE_URL")
if _database_url:
    DATABASES = {
        "default": _postgres_options(
            dj_database_url.parse(_database_url, conn_max_age=CONN_MAX_AGE, conn_health_checks=True)
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "CONN_MAX_AGE": CONN_MAX_AGE,
            "CONN_HEALTH_CHECKS": True,
            # A writer waits for the lock instead of failing at once while another commits.
            "OPTIONS": {"timeout": 20},
        }
    }
    # The report indexes carry extra columns on PostgreSQL (INCLUDE) for index-only scans; on
    # the embedded SQLite they are plain indexes, which is all a trial install needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]

# Reports (insights) may read from a streaming replica of that database, to keep long
# aggregates off the primary; nothing else reads there (helpdesk/db_routers.py).
_replica_url = env_str("DATABASE_REPLICA_URL")
if _replica_url:
    if not _database_url:
        raise ImproperlyConfigured("DATABASE_REPLICA_URL needs DATABASE_URL (the primary)")
    DATABASES["replica"] = _postgres_options(
        dj_database_url.parse(_replica_url, conn_max_age=CONN_MAX_AGE, conn_health_checks=True)
    )
    # The test run has no replica of its own: it reads the primary's test database.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["helpdesk.db_routers.ReportReplicaRouter"]

# --- Static files -----------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Mail as received and attachments (conversations), through Django's storage API: files here
# by default; any storage backend (S3 through django-storages, say) in STORAGES["default"].
MEDIA_ROOT = env_str("MEDIA_ROOT", str(BASE_DIR / "media"))
MEDIA_URL = "media/"  # never served as such: attachments are downloads checked per request
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the app and project folders, so a checkout works without collectstatic.
WHITENOISE_USE_FINDERS = True

# --- Security ---------------------------------------------------------------------------------

_secure_cookies = env_bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SECURE = _secure_cookies
CSRF_COOKIE_SECURE = _secure_cookies
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True

# Brute force (django-axes): after LOGIN_FAILURE_LIMIT failed logins to one account, or from one
# client address, further logins there are refused, right password or not, until no attempt has
# been made for LOGIN_COOLOFF_MINUTES. Counted in the database, so every web process agrees.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10, minimum=1)
LOGIN_COOLOFF_MINUTES = env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1)
# Proxies in front of the application that append the client to X-Forwarded-For; 0 reads the
# client from the connection. Wrong either way, every client would share one address.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Not reset on success: a successful login would clear its address's count, so an attacker
# holding one account could alternate it with guesses at another's password.
AXES_RESET_ON_SUCCESS = False
AXES_CLIENT_IP_CALLABLE = "accounts.auth.client_address"
AXES_LOCKOUT_CALLABLE = "accounts.auth.lockout_response"
X_FRAME_OPTIONS = "DENY"
# The page scripts read the CSRF token from the form, never from the cookie.
CSRF_COOKIE_HTTPONLY = True
# Behind TLS: send plain HTTP to HTTPS, and tell browsers to keep to HTTPS for this long.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
# The health check answers the load balancer over plain HTTP inside the deployment.
# Probes and the scrape come over the internal network, in plain HTTP (docs/operations.md).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# Content-Security-Policy (django-csp): the project's own scripts, styles and images only; no
# inline script, no other site's, no framing. A script injected into a ticket would not run.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Whether the OpenAPI schema and its documentation page are open to anyone, or to logged-in
# staff only (the default: the schema names every operation and field).
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", default=False)

# --- Celery -----------------------------------------------------------------------------------

REDIS_URL = env_str("REDIS_URL")
# The broker: Redis (REDIS_URL) unless CELERY_BROKER_URL names another, RabbitMQ say
# (amqp://user:password@host:5672/vhost); docs/operations.md weighs the two. The caches stay on
# REDIS_URL either way.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL

if CELERY_BROKER_URL:
    CELERY_TASK_ALWAYS_EAGER = False
else:
    # Embedded default: no broker. Tasks run in-process; the outbox enqueues them only once the
    # transaction commits, so they see committed rows exactly as a worker would.
    CELERY_BROKER_URL = "memory://localhost/"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = False

CELERY_TASK_IGNORE_RESULT = True
# A queue per kind of work (helpdesk.celery_queues): routing never waits behind mail or exports.
CELERY_TASK_QUEUES = celery_queues.task_queues()
CELERY_TASK_ROUTES = celery_queues.task_routes()
CELERY_TASK_DEFAULT_QUEUE = celery_queues.ROUTING
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A worker killed mid-task leaves its message unacknowledged, so the broker redelivers it.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A worker logs through LOGGING below (JSON lines with the request, task and event ids), not
# through the handlers Celery would otherwise put on the root logger in its place.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Unset, Celery's Django fixup closes every database connection around each task, and each task
# pays a new PostgreSQL connection; set, helpdesk.celery closes around each task only those past
# CONN_MAX_AGE or broken, as Django does around each request.
CELERY_DB_REUSE_MAX = 100_000
# When the broker is down a request must not hang: fail the publish quickly and let the outbox
# sweep re-enqueue the event once the broker is back.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 600, minimum=30)
# Redis's own transport options. RabbitMQ takes none of them: it redelivers a message when the
# connection of the worker that held it closes (and, by its consumer_timeout, 30 minutes by
# default, when a task holds it longer, which the time limits below keep well clear of).
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
        # Workers look for messages whose worker died (unacknowledged past the visibility
        # timeout) every 10 s; kombu would otherwise scan only every tenth time, adding 100 s.
        "unacked_restore_throttle": 1,
    }
    if (CELERY_BROKER_URL or "").startswith(("redis://", "rediss://", "unix://"))
    else {}
)
# Every task is bounded: at the soft limit it is interrupted (SoftTimeLimitExceeded, so it can
# clean up), at the hard limit its worker process is killed. Both stay below the visibility
# timeout, or Redis would hand a task still running to a second worker; by default at most half.
CELERY_TASK_TIME_LIMIT = env_int(
    "CELERY_TASK_TIME_LIMIT",
    min(300, CELERY_VISIBILITY_TIMEOUT // 2),
    minimum=10,
)
CELERY_TASK_SOFT_TIME_LIMIT = env_int(
    "CELERY_TASK_SOFT_TIME_LIMIT", CELERY_TASK_TIME_LIMIT * 4 // 5, minimum=5
)
if not (CELERY_TASK_SOFT_TIME_LIMIT < CELERY_TASK_TIME_LIMIT < CELERY_VISIBILITY_TIMEOUT):
    raise ImproperlyConfigured(
        "CELERY_TASK_SOFT_TIME_LIMIT < CELERY_TASK_TIME_LIMIT < CELERY_VISIBILITY_TIMEOUT must hold"
    )

# The transactional outbox: events not dispatched this many seconds after they were written are
# enqueued again by the periodic sweep (a lost message or a broker outage delays, never loses).
OUTBOX_REDISPATCH_AFTER_SECONDS = env_int("OUTBOX_REDISPATCH_AFTER_SECONDS", 10, minimum=0)
OUTBOX_SWEEP_INTERVAL_SECONDS = env_int("OUTBOX_SWEEP_INTERVAL_SECONDS", 15, minimum=1)
OUTBOX_SWEEP_BATCH = env_int("OUTBOX_SWEEP_BATCH", 500, minimum=1)
# Events a dispatch task routes together when others are waiting too (a backlog); 1: one by one.
OUTBOX_DISPATCH_BATCH = env_int("OUTBOX_DISPATCH_BATCH", 50, minimum=1)
# A new event sends a dispatch task only when none is queued (a flag in Redis for at most this
# many seconds): the task routes what waits, so a steady stream of events costs a task per
# batch, not one per event. Needs REDIS_URL (the flag is shared) and batches; 0: a task each.
OUTBOX_COALESCE_SECONDS = (
    env_int("OUTBOX_COALESCE_SECONDS", 10, minimum=0)
    if (REDIS_URL or "").startswith(("redis://", "rediss://", "unix://"))
    and OUTBOX_DISPATCH_BATCH > 1
    else 0
)
# Batches one dispatch task routes before it hands the rest to another (others run between).
OUTBOX_DISPATCH_ROUNDS = env_int("OUTBOX_DISPATCH_ROUNDS", 20, minimum=1)

ROUTING_TIMER_INTERVAL_SECONDS = env_int("ROUTING_TIMER_INTERVAL_SECONDS", 60, minimum=5)

QUEUE_SWEEP_INTERVAL_SECONDS = env_int("QUEUE_SWEEP_INTERVAL_SECONDS", 300, minimum=5)
# /readyz fails once a ticket event has waited this long for routing (the worker or the broker
# is down, or routing cannot keep up); /metrics answers only with this bearer token.
READYZ_OUTBOX_LAG_SECONDS = env_int("READYZ_OUTBOX_LAG_SECONDS", 300, minimum=10)
# How long a readiness verdict is reused (monitoring.health): probes stay cheap however often
# they come.
READYZ_CACHE_SECONDS = env_int("READYZ_CACHE_SECONDS", 2, minimum=0)
METRICS_TOKEN = env_str("METRICS_TOKEN")

# How often every open page asks /nav/counts/ for the navigation's counts.
NAV_COUNTS_REFRESH_SECONDS = env_int("NAV_COUNTS_REFRESH_SECONDS", 30, minimum=1)
# How often an open ticket page refreshes its facts and says its user is viewing it; a viewer
# not heard from for three such rounds has left (tickets.presence).
TICKET_LIVE_SECONDS = env_int("TICKET_LIVE_SECONDS", 5, minimum=1)

CELERY_BEAT_SCHEDULE = {
    "outbox-sweep": {
        "task": "tickets.tasks.sweep_undispatched_events",
        "schedule": float(OUTBOX_SWEEP_INTERVAL_SECONDS),
    },
    # Retries of emails and webhook calls whose time has come, and first sends that were lost.
    "deliveries-sweep": {
        "task": "routing.tasks.sweep_deliveries",
        "schedule": float(OUTBOX_SWEEP_INTERVAL_SECONDS),
    },
    "time-based-rules": {
        "task": "routing.tasks.sweep_timers",
        "schedule": float(ROUTING_TIMER_INTERVAL_SECONDS),
    },
    # Escalations past the response target, daily digests and overdue follow-up reminders; each
    # is keyed so that running it often sends each email once.
    "queue-sweep": {
        "task": "routing.tasks.sweep_queues",
        "schedule": float(QUEUE_SWEEP_INTERVAL_SECONDS),
    },
    # Stored mail whose processing task was lost.
    "inbound-sweep": {
        "task": "conversations.tasks.sweep_inbound",
        "schedule": float(OUTBOX_SWEEP_INTERVAL_SECONDS),
    },
}

# --- Routing ----------------------------------------------------------------------------------

# Events written by rule actions (say, a rule that raises priority) are routed too; this bounds
# how long such a chain may grow, so two rules can never feed each other forever.
ROUTING_MAX_CHAIN_DEPTH = env_int("ROUTING_MAX_CHAIN_DEPTH", 3, minimum=0)
# Routing commits without waiting for the disk (routing.services._claim says why that is safe).
ROUTING_ASYNCHRONOUS_COMMIT = env_bool("ROUTING_ASYNCHRONOUS_COMMIT", default=True)

# Working calendar for due dates and response times: ISO weekday numbers (Monday=1), holiday
# dates, working hours; all in DJANGO_TIME_ZONE.
WORKING_WEEKDAYS = [int(d) for d in env_list("WORKING_WEEKDAYS", default=["1", "2", "3", "4", "5"])]
if not WORKING_WEEKDAYS or any(d < 1 or d > 7 for d in WORKING_WEEKDAYS):
    raise ImproperlyConfigured("WORKING_WEEKDAYS must list ISO weekday numbers from 1 to 7")
try:
    HOLIDAYS = [date.fromisoformat(d) for d in env_list("HOLIDAYS")]
except ValueError as exc:
    raise ImproperlyConfigured(f"HOLIDAYS must be ISO dates separated by commas: {exc}") from exc
# Working hours as whole hours of the local day: "9-17" is 09:00 to 17:00.
try:
    WORKING_HOURS = tuple(int(h) for h in env_str("WORKING_HOURS", "9-17").split("-"))
    if len(WORKING_HOURS) != 2 or not 0 <= WORKING_HOURS[0] < WORKING_HOURS[1] <= 24:
        raise ValueError
except ValueError:
    raise ImproperlyConfigured("WORKING_HOURS must look like 9-17 (whole hours, 0 to 24)") from None

# --- Email and webhooks -----------------------------------------------------------------------

# With EMAIL_HOST set, mail goes out over SMTP; without it (the embedded default) emails are
# written to the console, so a demo shows them without a mail server. EMAIL_BACKEND names another
# (a provider's through django-anymail: "anymail.backends.mailgun.EmailBackend", with its
# ANYMAIL_* settings below).
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
# Staff emails sent by one task, through one connection (a routed batch's queue alerts, say).
EMAIL_BATCH_SIZE = env_int("EMAIL_BATCH_SIZE", 50, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Switchboard <support@localhost>")

# A recipient gets at most one email from rules per ticket within this many minutes.
ROUTING_EMAIL_THROTTLE_MINUTES = env_int("ROUTING_EMAIL_THROTTLE_MINUTES", 60, minimum=0)
# Attempts at an email or webhook call before it is marked failed (retries back off to 1 hour).
DELIVERY_MAX_ATTEMPTS = env_int("DELIVERY_MAX_ATTEMPTS", 8, minimum=1)
# A worker's claim of a delivery it is sending outlives the longest a task may run: a claim older
# than this is a worker that died mid-send, and the delivery is due again. The sweep's claim of a
# delivery it enqueued lasts as long.
DELIVERY_CLAIM_SECONDS = CELERY_TASK_TIME_LIMIT + 30

# Where `scripts/run` serves the application (host:port); links in emails follow it unless
# SITE_URL names the public address (behind a proxy, say), so the two cannot disagree.
BIND = env_str("BIND", "127.0.0.1:8000")
# Links in emails to staff point here.
SITE_URL = env_str("SITE_URL", f"http://{BIND}").rstrip("/")
# Local hour from which the daily digest of queue items and follow-up reminders go out.
QUEUE_DIGEST_HOUR = env_int("QUEUE_DIGEST_HOUR", 8, minimum=0)
if QUEUE_DIGEST_HOUR > 23:
    raise ImproperlyConfigured("QUEUE_DIGEST_HOUR must be an hour from 0 to 23")
# The whole webhook call (connecting, sending, the answer and its body) must end within this; a
# peer still answering then is a failure to retry. EMAIL_TIMEOUT bounds a whole SMTP exchange too.
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)
# Webhook calls reach public addresses only (deliveries/webhook_client.py): an address in one of
# these networks (CIDRs or single addresses) is let through too, a receiver on the private
# network, say. A cloud metadata address only when it is named by itself.
WEBHOOK_ALLOWED_NETWORKS = env_list("WEBHOOK_ALLOWED_NETWORKS")
for _network in WEBHOOK_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network)
    except ValueError as exc:
        raise ImproperlyConfigured(f"WEBHOOK_ALLOWED_NETWORKS: {exc}") from exc
# The delivery tasks' own limits, a little above the longest call, within every task's limits: a
# send stuck where no deadline reaches (name resolution, say) frees its worker soon.
DELIVERY_TASK_SOFT_TIME_LIMIT = min(
    max(WEBHOOK_TIMEOUT_SECONDS, EMAIL_TIMEOUT) + 20, CELERY_TASK_SOFT_TIME_LIMIT
)
DELIVERY_TASK_TIME_LIMIT = min(DELIVERY_TASK_SOFT_TIME_LIMIT + 20, CELERY_TASK_TIME_LIMIT)

# --- Email channel (conversations; docs/email.md) ----------------------------------------------

# The domain of our own Message-IDs: our mail coming back is recognised by it (loop check).
EMAIL_MESSAGE_ID_DOMAIN = env_str(
    "EMAIL_MESSAGE_ID_DOMAIN", DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or "localhost"
)
EMAIL_FROM_NAME = env_str("EMAIL_FROM_NAME", "Support")
# The mailbox replies go out from when a ticket did not come in by email (its name).
EMAIL_DEFAULT_MAILBOX = env_str("EMAIL_DEFAULT_MAILBOX", "")
# An attachment over the first, or every attachment of a message over the second, is kept only
# in the original message (a notice says so); the message itself is never dropped.
EMAIL_ATTACHMENT_MAX_BYTES = env_int("EMAIL_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024, minimum=1)
EMAIL_MESSAGE_MAX_BYTES = env_int("EMAIL_MESSAGE_MAX_BYTES", 25 * 1024 * 1024, minimum=1)
# The files a rep attaches to one reply, together: base64 makes them a third larger, and the
# usual limit of a customer's mail server (and of most providers) is 25 MB a message.
EMAIL_REPLY_ATTACHMENTS_MAX_BYTES = env_int(
    "EMAIL_REPLY_ATTACHMENTS_MAX_BYTES", 18 * 1024 * 1024, minimum=1
)
# Languages whose quoting and signature conventions are recognised in replies.
EMAIL_REPLY_LANGUAGES = env_list("EMAIL_REPLY_LANGUAGES", ["en", "de", "fr", "es", "it", "nl"])
# The acknowledgement of a new emailed request, at most one per sender per interval.
EMAIL_ACKNOWLEDGE = env_bool("EMAIL_ACKNOWLEDGE", default=True)
EMAIL_ACKNOWLEDGE_INTERVAL_MINUTES = env_int("EMAIL_ACKNOWLEDGE_INTERVAL_MINUTES", 60, minimum=0)
# A sender opening more tickets than this within an hour is held for review (a loop, a script).
EMAIL_SENDER_HOURLY_LIMIT = env_int("EMAIL_SENDER_HOURLY_LIMIT", 20, minimum=1)
# Mail with List-Id or List-Unsubscribe opens tickets but is never acknowledged.
EMAIL_LIST_MAIL_IS_AUTOMATIC = env_bool("EMAIL_LIST_MAIL_IS_AUTOMATIC", default=True)
# A customer writing on a ticket resolved at most this many days ago reopens it; later, a new
# ticket is opened and linked to it.
EMAIL_REOPEN_DAYS = env_int("EMAIL_REOPEN_DAYS", 14, minimum=0)
# Processing a stored message commits without waiting for the disk (conversations.services
# says why that loses nothing).
EMAIL_ASYNCHRONOUS_COMMIT = env_bool("EMAIL_ASYNCHRONOUS_COMMIT", default=True)
# IMAP mailboxes: polled this often (a failing one backs off up to an hour), each network
# operation bounded, at most this many messages fetched per poll (the rest next time).
EMAIL_IMAP_POLL_SECONDS = env_int("EMAIL_IMAP_POLL_SECONDS", 60, minimum=5)
EMAIL_IMAP_TIMEOUT_SECONDS = env_int("EMAIL_IMAP_TIMEOUT_SECONDS", 30, minimum=1)
EMAIL_IMAP_BATCH = env_int("EMAIL_IMAP_BATCH", 200, minimum=1)
# Polls in a row a server may refuse one message before the poll goes past it (a note for a
# rep is kept in its place, in quarantine); until then the poll fails and backs off.
EMAIL_IMAP_UNFETCHABLE_AFTER = env_int("EMAIL_IMAP_UNFETCHABLE_AFTER", 3, minimum=1)
# The folder XOAUTH2 mailboxes' token files must be in (kept fresh by the identity provider's
# helper); none: XOAUTH2 is off.
EMAIL_IMAP_TOKEN_DIR = env_str("EMAIL_IMAP_TOKEN_DIR", "")
# Providers' inbound webhooks (django-anymail), served at /email/webhooks/<provider>/inbound/
# once ANYMAIL_WEBHOOK_SECRET ("user:password", the basic auth the provider is given) is set;
# every ANYMAIL_<NAME> variable becomes anymail's <NAME> setting (ANYMAIL_MAILGUN_WEBHOOK_
# SIGNING_KEY, ANYMAIL_POSTMARK_..., and the sending ones with EMAIL_BACKEND).
_anymail_names = {name.removesuffix("_FILE") for name in os.environ if name.startswith("ANYMAIL_")}
ANYMAIL = {name.removeprefix("ANYMAIL_"): env_str(name) for name in sorted(_anymail_names)}
EMAIL_WEBHOOKS = bool(ANYMAIL.get("WEBHOOK_SECRET"))
# A provider posts whole messages, attachments included: up to this many bytes on its route
# (elsewhere Django's own 2.5 MB limit stands).
EMAIL_WEBHOOK_MAX_BYTES = env_int("EMAIL_WEBHOOK_MAX_BYTES", 40 * 1024 * 1024, minimum=1024)
CELERY_BEAT_SCHEDULE["imap-poll"] = {
    "task": "conversations.tasks.poll_mailboxes",
    "schedule": float(EMAIL_IMAP_POLL_SECONDS),
}

# --- The customer portal and satisfaction surveys (docs/portal.md) -----------------------------

# Days a link to a contact's requests works (every email to a contact carries one; "email me a
# link" sends a new one). A contact's links are revoked together from the customer's page.
PORTAL_LINK_MAX_AGE_DAYS = env_int("PORTAL_LINK_MAX_AGE_DAYS", 30, minimum=1)
# Requests the form accepts per client address in an hour and in a day, and from everyone in a
# day; "email me a link" is limited per address too. Over a limit: a 429 page saying so.
PORTAL_REQUESTS_PER_HOUR = env_int("PORTAL_REQUESTS_PER_HOUR", 20, minimum=1)
PORTAL_REQUESTS_PER_DAY = env_int("PORTAL_REQUESTS_PER_DAY", 240, minimum=1)
PORTAL_REQUESTS_TOTAL_PER_DAY = env_int("PORTAL_REQUESTS_TOTAL_PER_DAY", 5000, minimum=1)
PORTAL_LINKS_PER_ADDRESS_PER_HOUR = env_int("PORTAL_LINKS_PER_ADDRESS_PER_HOUR", 3, minimum=1)
# Files a customer may attach to a request or a reply, and the most each may weigh.
PORTAL_ATTACHMENTS_MAX = env_int("PORTAL_ATTACHMENTS_MAX", 5, minimum=0)
PORTAL_ATTACHMENT_MAX_BYTES = env_int("PORTAL_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024, minimum=1)
# ... and together: a request is kept as an email, whose attachments (base64, a third larger)
# must stay within EMAIL_MESSAGE_MAX_BYTES, or they would be kept only in the original.
PORTAL_ATTACHMENTS_TOTAL_MAX_BYTES = min(
    env_int("PORTAL_ATTACHMENTS_TOTAL_MAX_BYTES", 18 * 1024 * 1024, minimum=1),
    EMAIL_MESSAGE_MAX_BYTES * 7 // 10,
)
# Sites that may show the request form in a frame (CSP frame-ancestors), space-separated: the
# company's own site, say "https://www.example.com". Other portal pages are never framed.
PORTAL_FRAME_ANCESTORS = (env_str("PORTAL_FRAME_ANCESTORS") or "'self'").split()
# The proof-of-work challenge of the form (ALTCHA, self-hosted): the browser searches up to this
# many numbers (half on average; well under a second on a phone at the default).
ALTCHA_MAX_NUMBER = env_int("ALTCHA_MAX_NUMBER", 100_000, minimum=1)
ALTCHA_CHALLENGE_EXPIRE_MINUTES = env_int("ALTCHA_CHALLENGE_EXPIRE_MINUTES", 20, minimum=1)
ALTCHA_HMAC_KEY = env_str("ALTCHA_HMAC_KEY") or f"altcha:{SECRET_KEY}"

# A survey goes this many working hours (company calendar) after a ticket is resolved; a ticket
# reopened before then gets none.
SURVEY_DELAY_WORKING_HOURS = env_int("SURVEY_DELAY_WORKING_HOURS", 24, minimum=0)
# At most one survey per contact within this many days.
SURVEY_CONTACT_INTERVAL_DAYS = env_int("SURVEY_CONTACT_INTERVAL_DAYS", 30, minimum=0)
# Days a survey may be answered after it was sent, and an answer changed after it was given.
SURVEY_ANSWER_DAYS = env_int("SURVEY_ANSWER_DAYS", 30, minimum=1)
SURVEY_CHANGE_DAYS = env_int("SURVEY_CHANGE_DAYS", 14, minimum=0)
SURVEY_SWEEP_SECONDS = env_int("SURVEY_SWEEP_SECONDS", 300, minimum=5)
CELERY_BEAT_SCHEDULE["surveys-send"] = {
    "task": "surveys.tasks.send_due_surveys",
    "schedule": float(SURVEY_SWEEP_SECONDS),
}

# --- Insights (docs/insights.md) -------------------------------------------------------------

# The monthly root-cause digest (each department hears of the problems its root causes made in
# the last calendar month) is due from this day of the month at this local hour (company time
# zone) until the month ends, so a day beat missed is made up. Day 28 at most: every month has it.
INSIGHTS_DIGEST_DAY = env_int("INSIGHTS_DIGEST_DAY", 1, minimum=1)
if INSIGHTS_DIGEST_DAY > 28:
    raise ImproperlyConfigured("INSIGHTS_DIGEST_DAY must be a day from 1 to 28")
INSIGHTS_DIGEST_HOUR = env_int("INSIGHTS_DIGEST_HOUR", 7, minimum=0)
if INSIGHTS_DIGEST_HOUR > 23:
    raise ImproperlyConfigured("INSIGHTS_DIGEST_HOUR must be an hour from 0 to 23")
# How often beat looks whether the digest is due; each department's is keyed by month, so looking
# often sends it once.
INSIGHTS_DIGEST_SWEEP_SECONDS = env_int("INSIGHTS_DIGEST_SWEEP_SECONDS", 3600, minimum=60)
CELERY_BEAT_SCHEDULE["insights-root-cause-digests"] = {
    "task": "insights.tasks.send_root_cause_digests",
    "schedule": float(INSIGHTS_DIGEST_SWEEP_SECONDS),
}

# A report table longer than this is written by a worker (with its progress shown, and a link
# when it is ready) rather than while the browser waits; such files are kept this many days.
INSIGHTS_EXPORT_BACKGROUND_ROWS = env_int("INSIGHTS_EXPORT_BACKGROUND_ROWS", 50_000, minimum=1)
INSIGHTS_EXPORT_KEEP_DAYS = env_int("INSIGHTS_EXPORT_KEEP_DAYS", 7, minimum=1)
CELERY_BEAT_SCHEDULE["insights-exports-expire"] = {
    "task": "insights.tasks.delete_old_exports",
    "schedule": 3600.0,
}
# How often the reports' rollups are counted again (insights.rollups). What happened since the
# last refresh is counted from the tickets, so this bounds only how long a change to an earlier
# day (a reopened ticket, a ticket given another kind or product) takes to show on a report.
INSIGHTS_ROLLUP_REFRESH_SECONDS = env_int("INSIGHTS_ROLLUP_REFRESH_SECONDS", 1800, minimum=60)
CELERY_BEAT_SCHEDULE["insights-rollups"] = {
    "task": "insights.tasks.refresh_rollups",
    "schedule": float(INSIGHTS_ROLLUP_REFRESH_SECONDS),
}

# --- API --------------------------------------------------------------------------------------

# Days an API token is valid from when it was issued; POST /api/v1/auth/token/ then issues a
# new one. Owners revoke theirs with DELETE on the same path, admins any in the admin.
API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 30, minimum=1)
# Seconds a token and its user are kept in the "api-token" cache, so requests are authenticated
# without SQL; revocation and deactivation still take effect at once (accounts.token_cache).
# Bounds how long a write that sends no signal (QuerySet.update) goes unseen; 0 turns it off.
API_TOKEN_CACHE_SECONDS = env_int("API_TOKEN_CACHE_SECONDS", 60, minimum=0)

# Requests per user (session or token) and per client address without a user (which obtains
# tokens; wrong passwords are also locked out, see LOGIN_FAILURE_LIMIT); "off" turns a limit
# off. Over it, a 429 with Retry-After.
API_THROTTLE_RATES = {
    "user": env_rate("API_THROTTLE_USER_RATE", "3600/hour"),
    "anon": env_rate("API_THROTTLE_ANON_RATE", "100/hour"),
}


def _shared_cache(prefix: str, *, timeout: float) -> dict:
    """A cache every process shares: Redis on REDIS_URL; without Redis (or with the in-memory
    broker, one process) this process's memory. ``timeout`` bounds each Redis call, so that an
    unreachable Redis holds no request up."""
    if (REDIS_URL or "").startswith(("redis://", "rediss://", "unix://")):
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"socket_connect_timeout": timeout, "socket_timeout": timeout},
        }
    return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": prefix}


CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Throttle counts, shared by every web process; unreachable, the limit is skipped
    # (helpdesk.throttles).
    "api-throttle": _shared_cache("api-throttle", timeout=0.5),
    # Shared, so a revocation reaches every process; unreachable, the token is read from the
    # database, and the process leaves the cache alone for a few seconds (accounts.token_cache).
    "api-token": _shared_cache("api-token", timeout=0.25),
    # The portal's counts (requests per address, links per address) and the proof-of-work
    # challenges already used; unreachable, the limits are skipped (portal.limits).
    "portal": _shared_cache("portal", timeout=0.5),
    # Who has which ticket open (tickets.presence); unreachable, no one is shown as viewing.
    "presence": _shared_cache("presence", timeout=0.25),
    # "A task is queued" flags (helpdesk.queue); unreachable, every task is sent (a flag whose
    # task started but could not lower it expires on its own: OUTBOX_COALESCE_SECONDS).
    "task-flags": _shared_cache("task-flags", timeout=0.25),
}

REST_FRAMEWORK = {
    "DEFAULT_PARSER_CLASSES": [
        "helpdesk.parsers.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Tokens expire API_TOKEN_DAYS after they were issued.
        "accounts.api.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "helpdesk.pagination.PageNumberPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    # drf-spectacular's, with the error responses every operation can give (400/401/403/404/429).
    "DEFAULT_SCHEMA_CLASS": "helpdesk.schema.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "helpdesk.throttles.AnonRateThrottle",
        "helpdesk.throttles.UserRateThrottle",
    ],
    # The anonymous limit counts per client address, read like the login lockout's.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT or None,
    "EXCEPTION_HANDLER": "helpdesk.exceptions.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Switchboard API",
    "DESCRIPTION": (
        "Tickets, customers and the routing that turns each ticket event into department "
        "notifications and salesperson follow-ups."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": [
        "rest_framework.permissions.AllowAny"
        if API_DOCS_PUBLIC
        else "rest_framework.permissions.IsAuthenticated"
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TicketStatusEnum": "tickets.models.Ticket.Status",
        "TicketKindEnum": "tickets.models.Ticket.Kind",
        "NotificationStatusEnum": "queues.models.Notification.Status",
        "FollowUpStatusEnum": "queues.models.FollowUpTask.Status",
        "TimelineEntryKindEnum": "tickets.models.TimelineEntry.Kind",
        "DeliveryStatusEnum": "deliveries.models.DeliveryStatus",
    },
}

# --- Logging ----------------------------------------------------------------------------------

# Logs: one JSON object per line (LOG_FORMAT=json, the default unless DJANGO_DEBUG), or lines
# for people reading a terminal (text); either way with the request, task and event they
# belong to (helpdesk.log_context).
LOG_FORMAT = env_str("LOG_FORMAT", "text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured("LOG_FORMAT is json or text.")
LOGGING_CONFIG = "helpdesk.log_context.configure"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "helpdesk.log_context.ContextFilter"}},
    "formatters": {
        "text": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(event_id)s] %(message)s"
        },
        "json": {"()": "helpdesk.log_context.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
