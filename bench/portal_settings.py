"""The portal's settings as bench/load.py serves them: its own URLs plus a trivial view.

Everything else is tango_portal.settings, read from the same environment as in
production, with two differences that cost a request nothing:

- static files: production serves hashed names from collectstatic's manifest; a bench
  has not collected them and serves none, so the plain storage stands in;
- a 500's traceback goes to stderr (with DEBUG off Django only emails it), which the
  bench prints when a request fails.
"""

import warnings

from tango_portal.settings import *  # noqa: F403
from tango_portal.settings import LOGGING, STORAGES

ROOT_URLCONF = "bench.portal_urls"

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# WhiteNoise warns at start-up that STATIC_ROOT does not exist: nothing was collected.
warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)

LOGGING = {
    **LOGGING,
    "loggers": {
        **LOGGING["loggers"],
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}
