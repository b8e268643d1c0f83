"""The test suite's settings: production's, served over plain HTTP.

Everything else stays as production has it (debug off, the same middleware, CSP and
hashers); tests that need another value override it themselves.
"""

import os

# The suite needs no real signing key; a deployment must set its own.
os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-signing-key-never-deployed-" + "x" * 24)

from tango_portal.settings import *  # noqa: F403

# Django's test client and live server speak plain HTTP on 127.0.0.1.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SESSION_COOKIE_NAME = "sessionid"
CSRF_COOKIE_NAME = "csrftoken"

# Static files from the source folders, without a collectstatic manifest.
WHITENOISE_USE_FINDERS = True
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
