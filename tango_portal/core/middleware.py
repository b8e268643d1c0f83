"""Response headers that every page of a signed-in user carries."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control


class PrivateCacheMiddleware:
    """A signed-in user's pages may be kept by their own browser only, never by a shared
    cache (a proxy or CDN) that would serve them to someone else: `Cache-Control: private`.

    Pages that show a secret say `no-store` as well (tango_portal.core.http.no_store),
    which this keeps. A request without a session cookie (the token endpoint, the API)
    is left alone without loading a session.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.SESSION_COOKIE_NAME in request.COOKIES and request.user.is_authenticated:
            patch_cache_control(response, private=True)
        return response
