"""What every answer to a browser gets after its view: the cache headers of a signed-in
user's pages, and a whole-page sign-in for an htmx request of an ended session."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme

from tango_portal.core.http import is_htmx


class PrivateCacheMiddleware:
    """A signed-in user's pages may be kept by their own browser only, never by a shared
    cache (a proxy or CDN) that would serve them to someone else, and never shown again
    without asking the server (Back after a change shows the page as it is now, with a
    fresh create key): `Cache-Control: private, no-cache`.

    Pages that show a secret say `no-store` as well (tango_portal.core.http.no_store),
    which this keeps. A request without a session cookie (the token endpoint, the API)
    is left alone without loading a session.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.SESSION_COOKIE_NAME in request.COOKIES and request.user.is_authenticated:
            patch_cache_control(response, private=True, no_cache=True)
        return response


class HtmxSignInRedirectMiddleware:
    """An htmx request of a session that has ended (signed out in another tab, expired)
    is sent to the sign-in page as a whole page, coming back to the page it was on.

    Django's `login_required` answers with a redirect to LOGIN_URL, which the browser's
    XMLHttpRequest follows on its own: htmx would paint the sign-in page inside the current
    one, where its form posts to the wrong URL. This turns that redirect, and only that
    one, into `HX-Redirect` (as sudo mode's prompt does), with `next` the page the user
    sees (`HX-Current-URL`, when it is a page of this site) rather than the fragment's URL.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not is_htmx(request) or response.status_code not in (
            HTTPStatus.FOUND,
            HTTPStatus.MOVED_PERMANENTLY,
        ):
            return response
        login = resolve_url(settings.LOGIN_URL)
        if urlsplit(response.get("Location", "")).path != login:
            return response
        shown = request.headers.get("HX-Current-URL", "")
        next_url = request.get_full_path()
        if shown and url_has_allowed_host_and_scheme(shown, allowed_hosts={request.get_host()}):
            parts = urlsplit(shown)
            next_url = parts.path + (f"?{parts.query}" if parts.query else "")
        redirected = HttpResponse(status=HTTPStatus.NO_CONTENT)
        redirected["HX-Redirect"] = f"{login}?{urlencode({REDIRECT_FIELD_NAME: next_url})}"
        return redirected
