"""Settings of the reference project: a project as `startproject` makes it, plus DOT.

The database comes from DATABASE_URL (bench/load.py points it at `bench_peer`) and the
signing key from DJANGO_SECRET_KEY. Client secrets are hashed as DOT does by default,
with the first password hasher, so a token request verifies two argon2id hashes here:
the client secret's and the user's password.
"""

import os

import dj_database_url

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "oauth2_provider",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "bench.peer.urls"
WSGI_APPLICATION = "bench.peer.wsgi.application"

# Persistent connections checked before reuse, as the portal has them.
DATABASES = {
    "default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60, conn_health_checks=True)
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "bench.peer.hashers.PeerArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": 24 * 60 * 60,
    "SCOPES": {"raas.all": "The rewards API"},
    "DEFAULT_SCOPES": ["raas.all"],
}

USE_TZ = True
TIME_ZONE = "UTC"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {
        # With DEBUG off Django sends a 500's traceback only by email; bench/load.py
        # prints the server's stderr when a request fails.
        "django.request": {"handlers": ["stderr"], "level": "ERROR", "propagate": False},
        # DOT 3.x logs an RFC 9700 deprecation warning on every password-grant token
        # request; silenced, so that the reference does not pay for a log line per token.
        "oauth2_provider": {"handlers": ["stderr"], "level": "ERROR", "propagate": False},
    },
}
