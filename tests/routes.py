"""Every URL pattern of the project, from the resolver, so a new URL is covered the day it is added."""

from __future__ import annotations

import re
from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver

# A path parameter of a route: `<int:pk>`, `<str:token>`, `<slug>`.
PARAM = re.compile(r"<(?:(?P<converter>[a-z]+):)?(?P<name>\w+)>")


def url_patterns(patterns=None, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    """(route, pattern) for every URL of the project but Django's admin (platform staff only,
    outside the teams' roles and covered by its own tests)."""
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if route.startswith("admin/"):
                continue
            yield from url_patterns(pattern.url_patterns, prefix + route)
        elif isinstance(pattern, URLPattern):
            yield prefix + route, pattern


def fill(route: str, value: object) -> str:
    """The route as a path, with every parameter set to `value`."""
    return "/" + PARAM.sub(lambda _: str(value), route)
