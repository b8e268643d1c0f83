"""Sudo mode: sensitive actions need a sign-in (or password check) in the last 15 minutes.

As on GitHub, a stale session is asked for the password and the action then continues:
a POST is carried through the password form (its fields re-posted with the password to
the same URL), a GET returns to the page it asked for. An htmx POST cannot show the form
in its fragment: its fields wait in the session while the whole page goes to the prompt,
which then posts them as a plain form would.

Five wrong passwords in a row sign the user out; the prompt warns before the last two,
and the sign-in page says why and returns them to the page they were on. They are
counted per user in the shared cache; while it is unreachable, in the session instead
(which is in the database), so that every wrong password still counts.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_logged_in
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.crypto import get_random_string
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from redis.exceptions import RedisError

from tango_portal.accounts.teams import PAGE_TEAM_FIELD, PAGE_TEAM_HEADER
from tango_portal.core import security_log
from tango_portal.core.http import is_htmx

SESSION_KEY = "sudo_at"
PENDING_KEY = "sudo_pending"
# Wrong passwords while the shared cache is down: [count, first failure's time].
FAILURES_SESSION_KEY = "sudo_failures"
PASSWORD_FIELD = "sudo_password"  # noqa: S105  (a form field name)
# The page the user was on: where signing in again returns them, and the prompt's Cancel.
NEXT_FIELD = "sudo_next"
MAX_FAILURES = 5
WARN_WITHIN = 2  # say how many tries are left once this few remain
DEFAULT_NEXT = "/team/api-credentials/"
_NOT_CARRIED = {"csrfmiddlewaretoken", PASSWORD_FIELD, NEXT_FIELD}


class SignedOut(Exception):
    """Too many wrong passwords: the user has just been signed out."""


def sudo_window() -> int:
    return settings.SUDO_WINDOW_SECONDS


@receiver(user_logged_in)
def _mark_sign_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = int(time.time())


def is_recent(request: HttpRequest) -> bool:
    stamp = request.session.get(SESSION_KEY)
    return isinstance(stamp, int) and time.time() - stamp < sudo_window()


def _failures_key(request: HttpRequest) -> str:
    return f"sudo-failures:{request.user.pk}"


def _cache_unavailable(request: HttpRequest, error: RedisError, fallback: str) -> None:
    security_log.event(
        "cache_unavailable", request=request, use="sudo_failures", fallback=fallback, reason=str(error)
    )


def _count_in_session(request: HttpRequest) -> int:
    """One more wrong password, counted in the session (the shared cache is down)."""
    now = int(time.time())
    held = request.session.get(FAILURES_SESSION_KEY)
    count, since = held if isinstance(held, list) and len(held) == 2 else (0, now)
    if not isinstance(count, int) or not isinstance(since, int) or now - since >= sudo_window():
        count, since = 0, now
    request.session[FAILURES_SESSION_KEY] = [count + 1, since]
    return count + 1


def _count_failure(request: HttpRequest) -> int:
    """One more wrong password; how many in a row now."""
    try:
        cache.add(_failures_key(request), 0, timeout=sudo_window())
        return cache.incr(_failures_key(request))
    except RedisError as error:
        _cache_unavailable(request, error, "counted in the session")
        return _count_in_session(request)


def _check_password(request: HttpRequest) -> str | None:
    """Check the submitted password; return an error message, or None when it matched.

    Raises SignedOut, having signed the user out, at the MAX_FAILURES-th wrong password.
    """
    password = request.POST.get(PASSWORD_FIELD, "")
    if password and request.user.check_password(password):
        request.session[SESSION_KEY] = int(time.time())
        request.session.pop(PENDING_KEY, None)
        request.session.pop(FAILURES_SESSION_KEY, None)
        try:
            cache.delete(_failures_key(request))
        except RedisError as unavailable:
            # The count left behind expires with the sudo window.
            _cache_unavailable(request, unavailable, "not reset, expires with the sudo window")
        return None
    failures = _count_failure(request)
    security_log.event("sudo_password_failed", request=request, failures=failures)
    left = MAX_FAILURES - failures
    if left <= 0:
        logout(request)
        messages.error(
            request,
            f"You were signed out after {MAX_FAILURES} wrong passwords in a row, to protect your "
            "account. Nothing was changed. Sign in again to continue.",
        )
        raise SignedOut
    error = "That password is not right. Nothing was changed."
    if left <= WARN_WITHIN:
        tries = "1 try" if left == 1 else f"{left} tries"
        error += f" {tries} left: after that you will be signed out."
    return error


def _safe_path(url: str, request: HttpRequest) -> str | None:
    """`url` as a path on this site, or None when it points elsewhere."""
    if not url or not url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return None
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "") or "/"


def _sign_in_again(request: HttpRequest, next_url: str) -> HttpResponse:
    return redirect(f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': next_url})}")


def _carry(request: HttpRequest) -> list[tuple[str, str]]:
    """The posted fields to post again, with the password, once it is confirmed; an htmx
    request's page team (a header) becomes a field, so the write is still checked against it."""
    fields = [
        (key, value) for key, values in request.POST.lists() if key not in _NOT_CARRIED for value in values
    ]
    page_team = request.headers.get(PAGE_TEAM_HEADER)
    if page_team and PAGE_TEAM_FIELD not in request.POST:
        fields.append((PAGE_TEAM_FIELD, page_team))
    return fields


def _prompt(
    request: HttpRequest,
    *,
    action: str,
    carry: list[tuple[str, str]],
    next_url: str,
    error: str = "",
) -> HttpResponse:
    return render(
        request,
        "registration/sudo.html",
        {
            "action": action,
            "carry": carry,
            "error": error,
            "password_field": PASSWORD_FIELD,
            "next_field": NEXT_FIELD,
            "next_url": next_url,
        },
        status=HTTPStatus.UNPROCESSABLE_ENTITY if error else HTTPStatus.OK,
    )


def _hold_for_prompt(request: HttpRequest) -> HttpResponse:
    """An htmx request while stale: send the whole page to the prompt.

    A GET comes back to the page it asked for; a POST's fields wait in the session under
    a one-time id that the prompt's URL carries, so that the prompt posts them with the
    password and the action continues. (Sudo guards confirmations: their fields are
    choices and names, never a secret.)
    """
    query = {"next": request.get_full_path()}
    if request.method == "POST":
        current = _safe_path(request.headers.get("HX-Current-URL", ""), request)
        resume = get_random_string(16)
        request.session[PENDING_KEY] = {
            "id": resume,
            "action": request.get_full_path(),
            "carry": _carry(request),
        }
        query = {"next": current or DEFAULT_NEXT, "resume": resume}
    response = HttpResponse(status=HTTPStatus.NO_CONTENT)
    response["HX-Redirect"] = f"{reverse('sudo')}?{urlencode(query)}"
    return response


# What a view declares of itself, read by the test that walks every URL: "required", or
# why a view that changes something needs no fresh password. functools.wraps carries the
# attribute out through every decorator applied after this one.
SUDO_ATTRIBUTE = "sudo"


def sudo_exempt[V: Callable[..., HttpResponseBase]](reason: str) -> Callable[[V], V]:
    """Declare that `view` changes state without sudo mode, and why (the coverage test reads it)."""

    def decorator(view: V) -> V:
        setattr(view, SUDO_ATTRIBUTE, f"exempt: {reason}")
        return view

    return decorator


def sudo_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Ask for the password first when the last sign-in is older than the sudo window.

    For every view that creates a secret, deletes, deactivates or changes permissions.
    """

    @login_required
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if is_recent(request):
            return view(request, *args, **kwargs)
        if is_htmx(request):
            return _hold_for_prompt(request)
        if request.method != "POST":
            return redirect(f"{reverse('sudo')}?{urlencode({'next': request.get_full_path()})}")
        next_url = (
            _safe_path(request.POST.get(NEXT_FIELD, ""), request)
            or _safe_path(request.headers.get("Referer", ""), request)
            or request.get_full_path()
        )
        prompt = functools.partial(
            _prompt, request, action=request.get_full_path(), carry=_carry(request), next_url=next_url
        )
        if PASSWORD_FIELD not in request.POST:
            return prompt()
        try:
            error = _check_password(request)
        except SignedOut:
            return _sign_in_again(request, next_url)
        if error is None:
            return view(request, *args, **kwargs)
        return prompt(error=error)

    setattr(wrapped, SUDO_ATTRIBUTE, "required")
    return wrapped


@never_cache
@login_required
@sudo_exempt("it is the password prompt itself")
def confirm_password(request: HttpRequest) -> HttpResponse:
    """The password prompt for a GET that needs sudo (on success, back to that page), and
    for an htmx POST held in the session (its `resume` id): the prompt posts it again.
    """
    next_url = _safe_path(request.POST.get("next") or request.GET.get("next", ""), request) or DEFAULT_NEXT
    if request.method == "POST":
        try:
            error = _check_password(request)
        except SignedOut:
            return _sign_in_again(request, next_url)
        if error is None:
            return redirect(next_url)
        return _prompt(
            request, action=request.path, carry=[("next", next_url)], next_url=next_url, error=error
        )
    pending = request.session.get(PENDING_KEY)
    resume = request.GET.get("resume")
    if resume and isinstance(pending, dict) and pending.get("id") == resume:
        return _prompt(request, action=pending["action"], carry=pending["carry"], next_url=next_url)
    return _prompt(request, action=request.path, carry=[("next", next_url)], next_url=next_url)
