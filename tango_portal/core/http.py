"""What every view shares about HTTP: htmx fragments, no-store answers, the caller's address."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers, patch_cache_control


def is_htmx(request: HttpRequest) -> bool:
    """Whether htmx sent the request (django-htmx's middleware sets `request.htmx`)."""
    return bool(getattr(request, "htmx", False))


def template_for(request: HttpRequest, template: str, partial: str) -> str:
    """`template`, or its `{% partialdef partial %}` when htmx asks for a fragment."""
    return f"{template}#{partial}" if is_htmx(request) else template


def no_store(response: HttpResponse) -> HttpResponse:
    """Mark a response that shows a secret: no cache, proxy or back button may keep it."""
    add_never_cache_headers(response)
    patch_cache_control(response, no_store=True, no_cache=True, must_revalidate=True, private=True)
    response["Pragma"] = "no-cache"
    return response


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address as the (trusted) front proxy or the socket reports it."""
    return request.META.get("REMOTE_ADDR") or None
