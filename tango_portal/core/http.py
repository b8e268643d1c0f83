"""The one-view, one-template pattern: the whole page, or its named partial for htmx."""

from __future__ import annotations

from django.http import HttpRequest


def is_htmx(request: HttpRequest) -> bool:
    """Whether htmx sent the request (django-htmx's middleware sets `request.htmx`)."""
    return bool(getattr(request, "htmx", False))


def template_for(request: HttpRequest, template: str, partial: str) -> str:
    """`template`, or its `{% partialdef partial %}` when htmx asks for a fragment."""
    return f"{template}#{partial}" if is_htmx(request) else template
