"""A throwaway app-server process for tests: serves the portal on 127.0.0.1, any free port.

Run as `python -m tests.oauth.wsgi_server`; prints the port on the first line of
stdout, then serves until killed. Settings come from the environment (DATABASE_URL,
REDIS_URL, ...), exactly as a real app server's would.
"""

from __future__ import annotations

import os
from wsgiref.simple_server import WSGIRequestHandler, make_server


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tango_portal.settings")
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    server = make_server("127.0.0.1", 0, application, handler_class=QuietHandler)
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
