"""The one page that shows a new secret, reached by a redirect from the POST that made it.

The create POST answers 303 (htmx: HX-Redirect) to /…/<pk>/reveal/<token>/, so Back and
reload never resubmit it. The secret waits there as ciphertext in the database
(`PendingReveal`) and its key travels in a cookie limited to that one URL; the first GET
by its creator deletes the row, shows the secret (no-store) and deletes the cookie. Any
later GET, from any worker or server, gets a 410 page that links to the credential.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from credentials import selectors, services
from credentials.services import Credential
from credentials.views.common import page_context
from tango_portal.core.http import is_htmx, no_store
from tango_portal.models import Membership

KEY_COOKIE = "reveal_key"
MAX_AGE_SECONDS = int(services.REVEAL_MAX_AGE.total_seconds())
# What credentials.secrets.reveal_token makes; anything else names nothing.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{22}")


@dataclass(frozen=True, kw_only=True)
class Gone:
    """What the 410 page says of one type of credential: `what` its secret is, what to do if it was
    not saved, and the link back to the credential."""

    what: str
    if_lost: str
    link_label: str


def redirect_to_reveal(
    request: HttpRequest, membership: Membership, credential: Credential, secret: str, *, url_name: str
) -> HttpResponse:
    """Hold `secret` and send the browser to the page that shows it, with the key as a cookie.

    The cookie is HttpOnly, SameSite=Strict, Secure on HTTPS and sent to that page only.
    Nothing here carries the secret: not the URL, not a header, not the body.
    """
    pending, key = services.pending_reveal_create(
        actor=membership.user, team=membership.team, credential=credential, secret=secret
    )
    url = reverse(url_name, kwargs={"pk": credential.pk, "token": pending.token})
    response: HttpResponse = (
        HttpResponseClientRedirect(url)
        if is_htmx(request)
        else HttpResponseRedirect(url, status=HTTPStatus.SEE_OTHER)
    )
    response.set_cookie(
        KEY_COOKIE,
        key,
        max_age=MAX_AGE_SECONDS,
        path=url,
        secure=request.is_secure(),
        httponly=True,
        samesite="Strict",
    )
    return no_store(response)


def reveal(
    request: HttpRequest,
    membership: Membership,
    credential: Credential,
    token: str,
    *,
    show: Callable[[str], HttpResponse],
    gone: Gone,
    credential_url: str,
) -> HttpResponse:
    """`show(secret)` the first time the creator opens the page; the 410 page ever after.

    Another user's page is a 404 (the selector's) and stays unopened. Both answers are
    no-store and delete the key cookie, which can open nothing any more.
    """
    pending = None
    if TOKEN_PATTERN.fullmatch(token):
        pending = selectors.pending_reveal_get(
            user=membership.user,
            team=membership.team,
            credential_type=services.describe(credential)[0],
            credential_pk=credential.pk,
            token=token,
        )
    secret = None
    if pending is not None:
        secret = services.pending_reveal_take(pending=pending, key=request.COOKIES.get(KEY_COOKIE))
    if secret is not None:
        response = show(secret)
    else:
        context = page_context(membership, gone=gone, credential_url=credential_url)
        response = render(request, "credentials/reveal_gone.html", context, status=HTTPStatus.GONE)
    response.delete_cookie(KEY_COOKIE, path=request.path, samesite="Strict")
    return no_store(response)
