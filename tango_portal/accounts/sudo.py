"""Sudo mode: sensitive actions need a sign-in (or password check) in the last 15 minutes.

As on GitHub, a stale session is asked for the password and the action then continues:
a POST is carried through the password form (its fields re-posted with the password to
the same URL), a GET returns to the page it asked for.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_logged_in
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache

from tango_portal.core import security_log

SESSION_KEY = "sudo_at"
PASSWORD_FIELD = "sudo_password"  # noqa: S105  (a form field name)
MAX_FAILURES = 5


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


def _check_password(request: HttpRequest) -> str | None:
    """Check the submitted password; return an error message, or None when it matched."""
    password = request.POST.get(PASSWORD_FIELD, "")
    if password and request.user.check_password(password):
        request.session[SESSION_KEY] = int(time.time())
        cache.delete(_failures_key(request))
        return None
    cache.add(_failures_key(request), 0, timeout=sudo_window())
    failures = cache.incr(_failures_key(request))
    security_log.event("sudo_password_failed", request=request, failures=failures)
    if failures >= MAX_FAILURES:
        logout(request)
        return "signed_out"
    return "That password is not right. Nothing was changed."


def _prompt(
    request: HttpRequest, *, action: str, carry: list[tuple[str, str]], error: str = ""
) -> HttpResponse:
    return render(
        request,
        "registration/sudo.html",
        {"action": action, "carry": carry, "error": error, "password_field": PASSWORD_FIELD},
        status=HTTPStatus.FORBIDDEN if error else HTTPStatus.OK,
    )


def sudo_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Ask for the password first when the last sign-in is older than the sudo window."""

    @login_required
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if is_recent(request):
            return view(request, *args, **kwargs)
        prompt_url = f"{reverse('sudo')}?{urlencode({'next': request.get_full_path()})}"
        if getattr(request, "htmx", False):
            # A fragment cannot hold the prompt: send the whole page there, then back here.
            response = HttpResponse(status=HTTPStatus.NO_CONTENT)
            response["HX-Redirect"] = prompt_url
            return response
        if request.method == "POST":
            carry = [
                (key, value)
                for key, values in request.POST.lists()
                if key not in {"csrfmiddlewaretoken", PASSWORD_FIELD}
                for value in values
            ]
            if PASSWORD_FIELD in request.POST:
                error = _check_password(request)
                if error == "signed_out":
                    return redirect(settings.LOGIN_URL)
                if error is None:
                    return view(request, *args, **kwargs)
                return _prompt(request, action=request.get_full_path(), carry=carry, error=error)
            return _prompt(request, action=request.get_full_path(), carry=carry)
        return redirect(prompt_url)

    return wrapped


@never_cache
@login_required
def confirm_password(request: HttpRequest) -> HttpResponse:
    """The password prompt for a GET that needs sudo: on success, back to that page."""
    next_url = request.POST.get("next") or request.GET.get("next") or "/team/api-credentials/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/team/api-credentials/"
    if request.method == "POST":
        error = _check_password(request)
        if error == "signed_out":
            return redirect(settings.LOGIN_URL)
        if error is None:
            return redirect(next_url)
        return _prompt(request, action=request.path, carry=[("next", next_url)], error=error)
    return _prompt(request, action=request.path, carry=[("next", next_url)])
