"""Settings for the Tango Portal, read from the environment.

Only the values that differ between a laptop, CI and production come from the
environment; everything else is fixed here so that every deployment behaves alike.
"""

import ipaddress
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


# --- Core -------------------------------------------------------------------

DEBUG = env_bool("DJANGO_DEBUG", default=False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "django-insecure-local-development-only-never-deploy-this-key"  # noqa: S105

ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()
]

PORTAL_ENVIRONMENT = os.environ.get("PORTAL_ENVIRONMENT", "sandbox").strip().lower()
if PORTAL_ENVIRONMENT not in {"sandbox", "production"}:
    raise ImproperlyConfigured("PORTAL_ENVIRONMENT must be 'sandbox' or 'production'.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tables2",
    "django_filters",
    "axes",
    "django_tasks_db",
    "django_prometheus",
    "tango_portal",
    "credentials",
]

MIDDLEWARE = [
    # django-prometheus's pair: this one first and PrometheusAfterMiddleware near the end,
    # so that they time the whole stack and the view.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # The request id and the request line, for every answer (redirects to HTTPS included).
    "tango_portal.core.request_log.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tango_portal.core.middleware.PrivateCacheMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "tango_portal.core.middleware.HtmxSignInRedirectMiddleware",
    # Before axes, so that it counts axes' lockout answers too.
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Last, so that it sees the outcome of the authentication backends.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tango_portal.urls"
WSGI_APPLICATION = "tango_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tango_portal.context_processors.portal",
            ],
            # {% page_team %} in every form (tango_portal.templatetags.team_forms).
            "builtins": ["tango_portal.templatetags.team_forms"],
        },
    },
]

# --- Database and cache -------------------------------------------------------

# Persistent connections, checked before reuse, so that a database restart costs one
# failed health check and not a 500. On PostgreSQL psycopg's pool replaces them when
# DATABASE_POOL is on, and DATABASE_SERVER_SIDE_BINDING lets psycopg prepare repeated
# statements itself; bench/load.py measures all three.
DATABASE_POOL = env_bool("DATABASE_POOL")
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=0 if DATABASE_POOL else int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=not DATABASE_POOL,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})
    if DATABASE_POOL:
        from psycopg_pool import ConnectionPool

        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": int(os.environ.get("DATABASE_POOL_MIN_SIZE", "2")),
            "max_size": int(os.environ.get("DATABASE_POOL_MAX_SIZE", "4")),
            "check": ConnectionPool.check_connection,
        }
    if env_bool("DATABASE_SERVER_SIDE_BINDING"):
        DATABASES["default"]["OPTIONS"]["server_side_binding"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The shared cache: throttling counters, DPoP jtis, sudo failures. Each use fails closed
# or falls back when Redis is unreachable (README, "When Redis is down"); the timeouts
# make that take at most a second rather than hang the request. REDIS_KEY_PREFIX keeps
# deployments (or test runs) that share one Redis apart.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("REDIS_KEY_PREFIX") or f"tango-portal-{PORTAL_ENVIRONMENT}",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "tango-portal",
        }
    }

# --- The client's address behind a load balancer ------------------------------

# How many proxies (load balancers, CDNs) stand in front of the app servers, each
# appending the address it saw to X-Forwarded-For: one AWS ALB is 1. Off (0) by
# default, when the socket peer is the client and X-Forwarded-For is ignored. Only
# set it when the app servers can be reached through those proxies alone.
# tango_portal.core.http.client_ip reads it, for every throttle, log and history row.
TRUSTED_PROXY_COUNT = int(os.environ.get("DJANGO_TRUSTED_PROXY_COUNT") or "0")
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("DJANGO_TRUSTED_PROXY_COUNT must be 0 (no proxy) or more.")

# --- Identity and passwords -------------------------------------------------

AUTH_USER_MODEL = "tango_portal.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "tango_portal.accounts.hashers.PortalArgon2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Deleting, deactivating and changing members need a sign-in this recent (sudo mode).
SUDO_WINDOW_SECONDS = 15 * 60
# A sign-up link for a new member works this long.
SIGNUP_LINK_LIFETIME = timedelta(hours=72)
LOGIN_URL = "login"
# The front door sends those who may see API credentials on to them, and explains to the rest.
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# django-axes: lock an (address, email) pair after repeated failures, so that one
# attacker cannot lock a real user out from elsewhere.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# The same address as everything else (TRUSTED_PROXY_COUNT, read at each request).
AXES_CLIENT_IP_CALLABLE = "tango_portal.core.http.client_ip"

# --- Sessions, cookies and transport security ---------------------------------

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 12
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

if not DEBUG:
    # Every real deployment is HTTPS only (tests/settings.py serves plain HTTP).
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    # The balancer's health checks and the metrics scraper speak plain HTTP to each app
    # server: they are answered, not redirected (paths without the leading slash).
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # The __Host- prefix binds the cookie to this exact origin over HTTPS.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
}

# --- Static files -------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles")
WHITENOISE_USE_FINDERS = DEBUG
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Internationalisation -----------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Tables -------------------------------------------------------------------

DJANGO_TABLES2_TEMPLATE = "tables/portal_table.html"

# --- Tokens -------------------------------------------------------------------

# A new 24-hour token is issued only once the previous one has less than
# TOKEN_RENEWAL_WINDOW left to live (one token per 20 hours).
TOKEN_LIFETIME = timedelta(hours=24)
TOKEN_RENEWAL_WINDOW = timedelta(hours=int(os.environ.get("TOKEN_RENEWAL_WINDOW_HOURS", "4")))
TOKEN_AUDIENCES = {
    "https://api.tangocard.com/": int(TOKEN_LIFETIME.total_seconds()),
    "https://api.bhn.com/fiveminute": 300,
}
# A token that lives no longer than TOKEN_RENEWAL_WINDOW (the five-minute audience) is
# renewed only in its last TOKEN_SHORT_RENEWAL_WINDOW instead (one 300-second token per
# four minutes). Revoked tokens count for both rules.
TOKEN_SHORT_RENEWAL_WINDOW = timedelta(
    seconds=int(os.environ.get("TOKEN_SHORT_RENEWAL_WINDOW_SECONDS", "60"))
)
TOKEN_DEFAULT_AUDIENCE = "https://api.tangocard.com/"  # noqa: S105
TOKEN_SCOPES = ["raas.all"]
# Failed token requests allowed per window, per failing key, each from one address:
# a client ID; a service account (client ID + username); a username.
TOKEN_FAILURE_LIMIT = int(os.environ.get("TOKEN_FAILURE_LIMIT", "10"))
# ... and from one address whatever it presents (several integrations often share one).
TOKEN_FAILURE_ADDRESS_LIMIT = int(os.environ.get("TOKEN_FAILURE_ADDRESS_LIMIT", "50"))
TOKEN_FAILURE_WINDOW = timedelta(minutes=15)

# Client credentials created before this date may use the client-credentials grant.
OAUTH_LEGACY_CUTOFF = "2025-05-14"
OAUTH_MIGRATION_DEADLINE = "2025-11-14"

# --- History tamper evidence --------------------------------------------------

# The chains' heads are signed with an Ed25519 key kept outside the database, so that
# someone with SQL access alone cannot rewrite history and re-sign it. Each is PEM, or
# base64 of the 32 raw bytes; give the value itself or the path of a file holding it.
# The signer (the app, `sign_history_checkpoints`) needs the private key; `verify_history`
# and auditors need only the public one.
HISTORY_SIGNING_KEY = os.environ.get("HISTORY_SIGNING_KEY", "")
HISTORY_SIGNING_KEY_FILE = os.environ.get("HISTORY_SIGNING_KEY_FILE", "")
HISTORY_VERIFY_KEY = os.environ.get("HISTORY_VERIFY_KEY", "")
HISTORY_VERIFY_KEY_FILE = os.environ.get("HISTORY_VERIFY_KEY_FILE", "")

# Opening a credential's detail records "viewed" at most once per user, credential and
# HISTORY_VIEW_INTERVAL, so that reloads (or a cross-site link) cannot flood history.
HISTORY_VIEW_INTERVAL = timedelta(hours=1)

# --- DPoP: sender-constrained tokens (RFC 9449, credentials/oauth/dpop.py) ------------

# How far a proof's iat may be from the server's clock; its jti is remembered (in the
# shared cache, across app servers) for twice as long.
DPOP_PROOF_SKEW_SECONDS = int(os.environ.get("DPOP_PROOF_SKEW_SECONDS", "60"))
# 1: proofs must carry a fresh server nonce (DPoP-Nonce, use_dpop_nonce).
DPOP_NONCES = os.environ.get("DPOP_NONCES", "0") == "1"
DPOP_NONCE_SECONDS = 300

# --- Usage evidence, rotation and reminders -------------------------------------

# Each use of a credential (token request, API call) counts in the app-server process's
# memory; the address, the "last used" time and an API key's day count reach the database
# at most once per USAGE_FLUSH_SECONDS per credential and address (credentials.usage).
# USAGE_RECORDING=0 turns it off.
USAGE_RECORDING = os.environ.get("USAGE_RECORDING", "1") != "0"
USAGE_FLUSH_SECONDS = int(os.environ.get("USAGE_FLUSH_SECONDS", "60"))
USAGE_RETENTION_DAYS = 90
USAGE_ADDRESSES_KEPT = 10

# Django's tasks framework, on the database (django-tasks-db): run `manage.py db_worker`.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "Tango Portal <no-reply@localhost>")
# The portal's address in emails, which are sent outside any request.
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- Leaked-secret reports (credentials/scanning.py) ------------------------------

# The secret-scanning service's public keys, as GitHub publishes them for its partner program:
# a JSON file {"public_keys": [{"key_identifier", "key" (PEM), "is_current"}]}. Read at each
# report, so a rotation needs no restart. Unset: POST /api/secret-scanning/reports answers 503.
SECRET_SCANNING_KEYS_FILE = os.environ.get("SECRET_SCANNING_KEYS_FILE", "").strip()
# The most a report may carry; anything larger is refused (413) before its signature is checked.
SECRET_SCANNING_MAX_BODY_BYTES = 64 * 1024
SECRET_SCANNING_MAX_ENTRIES = 100

# --- Email --------------------------------------------------------------------

# Django 6.1's MAILERS (EMAIL_BACKEND and the EMAIL_HOST family are deprecated). DJANGO_MAILER
# picks the backend: `smtp`, the default with debug off, sends through DJANGO_SMTP_*;
# `console`, the default with debug on (`make run`), prints each email on the terminal of
# the process that sends it: the worker's, for reminders. Tests get Django's memory mailer.
MAILER = (os.environ.get("DJANGO_MAILER") or ("console" if DEBUG else "smtp")).strip().lower()
MAILERS: dict[str, dict[str, object]]
if MAILER == "console":
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
elif MAILER == "smtp":
    # `starttls` (port 587), `ssl` (implicit TLS, port 465) or `none` (port 25, a local relay).
    SMTP_SECURITY = os.environ.get("DJANGO_SMTP_SECURITY", "starttls").strip().lower()
    if SMTP_SECURITY not in {"starttls", "ssl", "none"}:
        raise ImproperlyConfigured("DJANGO_SMTP_SECURITY must be 'starttls', 'ssl' or 'none'.")
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ.get("DJANGO_SMTP_HOST", "localhost"),
                "port": int(
                    os.environ.get("DJANGO_SMTP_PORT")
                    or {"starttls": 587, "ssl": 465, "none": 25}[SMTP_SECURITY]
                ),
                "username": os.environ.get("DJANGO_SMTP_USERNAME", ""),
                "password": os.environ.get("DJANGO_SMTP_PASSWORD", ""),
                "use_tls": SMTP_SECURITY == "starttls",
                "use_ssl": SMTP_SECURITY == "ssl",
                # A mail server that hangs fails the send (retried the next day), not the worker.
                "timeout": 30,
            },
        }
    }
else:
    raise ImproperlyConfigured("DJANGO_MAILER must be 'smtp' or 'console'.")

# --- Logging ------------------------------------------------------------------

# With debug off, one JSON object per line on stderr (python-json-logger): a request line
# per request (tango_portal.core.request_log), each security event, warnings and errors
# of every logger, each with the id of the request that caused it (also sent back as
# X-Request-ID). With debug on (`make run`), the same lines as plain text, and runserver
# prints its own line per request instead of the request line.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "tango_portal.core.log_filters.JsonFormatter"},
    },
    "filters": {
        "no_request": {"()": "tango_portal.core.log_filters.NoRequestDetails"},
        "request_id": {"()": "tango_portal.core.request_log.RequestIdFilter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain" if DEBUG else "json",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        # Django's own console handler (DEFAULT_LOGGING) gives way to the one above.
        "django": {"level": "INFO"},
        # Tracebacks of 500s (with debug off, nothing else records them), stripped of the
        # request before any handler sees the record.
        "django.request": {
            "handlers": ["console"],
            "level": "ERROR",
            "filters": ["no_request"],
            "propagate": False,
        },
        "tango_portal": {"level": "INFO"},
        "tango_portal.request": {"level": "WARNING" if DEBUG else "INFO"},
        "credentials": {"level": "INFO"},
        "axes": {"level": "WARNING"},
        # oauthlib logs issued tokens (plaintext) at DEBUG: never let that level through.
        "oauthlib": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

# A proxy in front that sets X-Request-ID on every request, replacing what the client
# sent (nginx: `proxy_set_header X-Request-ID $request_id;`): 1 keeps its id (a short
# token of safe characters) so that the proxy's and the app's lines share it. Off, every
# request gets a new id and the header a client sends is ignored.
REQUEST_ID_FROM_PROXY = env_bool("DJANGO_REQUEST_ID_FROM_PROXY")

# --- Metrics (Prometheus, /metrics) ----------------------------------------------

# /metrics answers requests straight from these networks (the socket peer, and no
# X-Forwarded-For: nothing that came through a proxy), or that present the bearer
# secret; anyone else gets a plain 404 (tango_portal.core.metrics.scrape_allowed).
METRICS_ALLOWED_NETWORKS = [
    cidr.strip()
    for cidr in os.environ.get("DJANGO_METRICS_ALLOWED_NETWORKS", "127.0.0.1/32,::1/128").split(",")
    if cidr.strip()
]
for _cidr in METRICS_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_cidr, strict=False)
    except ValueError as _error:
        raise ImproperlyConfigured(
            f"DJANGO_METRICS_ALLOWED_NETWORKS: {_cidr!r} is not a network (e.g. 10.0.0.0/8)."
        ) from _error
# Unset: no bearer access. A scraper outside those networks sends
# `Authorization: Bearer <secret>`; /metrics has no throttle, so it must be long.
METRICS_BEARER_SECRET = os.environ.get("DJANGO_METRICS_BEARER_SECRET", "").strip()
if METRICS_BEARER_SECRET and len(METRICS_BEARER_SECRET) < 32:
    raise ImproperlyConfigured("DJANGO_METRICS_BEARER_SECRET must be at least 32 characters.")
