"""What every view shares about HTTP: htmx fragments, no-store answers, the caller's address."""

from __future__ import annotations

import functools
from collections.abc import Callable

import ipware
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotFound
from django.shortcuts import redirect
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django_htmx.http import HttpResponseClientRedirect


def is_htmx(request: HttpRequest) -> bool:
    """Whether htmx sent the request (django-htmx's middleware sets `request.htmx`)."""
    return bool(getattr(request, "htmx", False))


def htmx_target(request: HttpRequest) -> str | None:
    """The id of the element an htmx request will swap (its HX-Target), if any."""
    details = getattr(request, "htmx", None)
    return details.target if details else None


def template_for(request: HttpRequest, template: str, partial: str) -> str:
    """`template`, or its `{% partialdef partial %}` when htmx asks for a fragment."""
    return f"{template}#{partial}" if is_htmx(request) else template


def redirect_after(request: HttpRequest, url: str) -> HttpResponse:
    """Leave a form for `url`; htmx is told to load it as a whole page, messages included."""
    return HttpResponseClientRedirect(url) if is_htmx(request) else redirect(url)


def no_store(response: HttpResponse) -> HttpResponse:
    """Mark a response that shows a secret: no cache, proxy or back button may keep it."""
    add_never_cache_headers(response)
    patch_cache_control(response, no_store=True, no_cache=True, must_revalidate=True, private=True)
    response["Pragma"] = "no-cache"
    return response


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address: the one place that decides it (throttles, axes, logs, history).

    With `TRUSTED_PROXY_COUNT` off (0) that is the socket peer, and `X-Forwarded-For`
    is ignored. With N proxies in front, the nearest is the socket peer and each of the
    others appended the address it saw, so the client is the N-th entry from the right;
    anything further left is whatever the client sent, and cannot change the answer. A
    request that did not come through all N proxies keeps the socket peer.
    """
    peer = request.META.get("REMOTE_ADDR") or None
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return peer
    # ipware counts only the proxies named in the header: the socket peer is not one.
    address, _routable = ipware.get_client_ip(
        request,
        proxy_count=proxies - 1,
        request_header_order=("HTTP_X_FORWARDED_FOR",),
        strict=False,
        algorithm="modern",
    )
    return address or peer


GONE_MESSAGE = "That is no longer there: it may have been deleted in another tab or by someone else."


def htmx_not_found(request: HttpRequest, message: str, *, load: str = "") -> HttpResponse:
    """A 404 for htmx that loads a whole page, which shows `message`: the page that sent the
    request again, or the page at `load` (when that one may be gone too).
    """
    messages.warning(request, message)
    response = HttpResponseNotFound(message, content_type="text/plain; charset=utf-8")
    if load:
        response["HX-Redirect"] = load
    else:
        response["HX-Refresh"] = "true"
    return response


def refresh_on_not_found[**P](view: Callable[P, HttpResponse]) -> Callable[P, HttpResponse]:
    """Answer an `Http404` of an htmx request by reloading the page that sent it.

    A fragment of a 404 would be dropped by htmx or, with DEBUG, painted over the whole
    page by django-htmx's debug script; the reload (a plain GET of the page's own URL)
    shows the page as it is now, with a message saying why. Still a 404, so nothing
    tells an htmx request more than a plain one.
    """

    @functools.wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        try:
            return view(*args, **kwargs)
        except Http404:
            request = args[0]
            if not isinstance(request, HttpRequest) or not is_htmx(request):
                raise
            return htmx_not_found(request, GONE_MESSAGE)

    return wrapped
