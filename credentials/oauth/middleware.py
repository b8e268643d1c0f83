"""Start the API's token lookup as soon as a request arrives.

A call to the protected API (`/api/...` with `Authorization: Bearer ...`) needs one
database lookup of its token. On PostgreSQL that lookup is a network round trip, and
the database backend that answers it has usually sat idle since the last request,
so it is the largest part of the call's cost beyond a trivial view (bench/token.py).
This middleware, first in the stack, sends the lookup before the rest of the
middleware and the URL resolution run; when the view asks for the token, the answer
is usually waiting. The view still decides everything: the lookup is the same query
with the same token, only started earlier, and a token revoked before the request
arrived is refused just the same.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import MiddlewareNotUsed
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponseBase

from credentials import selectors
from credentials.secrets import other_environment

API_PATH_PREFIX = "/api/"


def bearer_token(authorization: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, split as oauthlib splits it."""
    parts = authorization.split()
    if len(parts) == 2 and parts[0].lower() == "bearer":
        return parts[1]
    return None


class EarlyTokenLookupMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        if not selectors.lookups_can_go_ahead():
            # On SQLite a query is a function call, not a round trip: nothing to overlap.
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path_info.startswith(API_PATH_PREFIX):
            return self.get_response(request)
        token = bearer_token(request.META.get("HTTP_AUTHORIZATION", ""))
        # A token of the other environment is refused without a lookup.
        if token is None or other_environment(token):
            return self.get_response(request)
        try:
            end_lookup = selectors.live_token_lookup_ahead(token=token)
        except DatabaseError:
            # The view looks the token up itself, and meets the error again if it lasts.
            end_lookup = None
        if end_lookup is None:
            return self.get_response(request)
        try:
            return self.get_response(request)
        finally:
            end_lookup()
