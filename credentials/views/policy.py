"""API credentials > Policy: the team's maximum credential age and its response to a leaked
secret, set by its admins.

Credentials older than the maximum are *due for rotation* (credentials.policy): the lists
and the overview say so, and the team's Manage users get reminders before it comes. A secret
reported found in public code is revoked at once or only alerted about (credentials.scanning).
Each change is recorded in the team activity (Team settings > Users).

The page has one form per setting, both posting here; the leak-response form says so with
its hidden `policy` field, and anything else is the maximum-age form.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from credentials import permissions
from tango_portal.accounts.sudo import sudo_required
from tango_portal.accounts.teams import forbidden, membership_required
from tango_portal.core.chain import lock_team
from tango_portal.core.http import redirect_after, template_for
from tango_portal.members import activity
from tango_portal.models import Membership, Team, TeamActivity, User

TEMPLATE = "credentials/policy/edit.html"
OFF = "off"
CHOICES = [(OFF, "Off"), *((str(days), label) for days, label in Team.MaxCredentialAge.choices)]


def age_label(days: int | None) -> str:
    """How a maximum credential age reads: '365 days', or 'Off'."""
    return f"{days} days" if days else "Off"


# --- The write -------------------------------------------------------------------------


def max_credential_age_set(*, actor: User, team: Team, days: int | None) -> bool:
    """Set the team's maximum credential age (None: off) and record the change in the team
    activity, in one transaction; False, and nothing written, when it already was that.

    Only the team's admins may (PermissionDenied otherwise), checked under the team lock so
    that an admin demoted meanwhile is refused. Another value than the choices is refused
    with ValidationError.
    """
    if days is not None and days not in Team.MaxCredentialAge.values:
        raise ValidationError("Choose Off, 90, 180 or 365 days.", code="invalid_choice")
    with transaction.atomic():
        locked = lock_team(team)
        if not permissions.can_manage_members(Membership.objects.filter(user=actor, team=team).first()):
            raise PermissionDenied("Setting the maximum credential age needs the Admin role.")
        current = locked.team.max_credential_age_days
        if current == days:
            return False
        Team.objects.filter(pk=team.pk).update(max_credential_age_days=days)
        activity.record(
            team=locked,
            actor=actor,
            action=TeamActivity.Action.MAX_CREDENTIAL_AGE_CHANGED,
            subject=None,
            from_value=activity.max_credential_age_value(current),
            to_value=activity.max_credential_age_value(days),
        )
    team.max_credential_age_days = days
    return True


def leak_response_set(*, actor: User, team: Team, response: str) -> bool:
    """Set what a secret of the team reported leaked does: "revoke" (at once) or "alert" (only
    tell), and record the change in the team activity, in one transaction; False, and nothing
    written, when it already was that.

    Only the team's admins may (PermissionDenied otherwise), checked under the team lock.
    Another value is refused with ValidationError.
    """
    if response not in Team.LeakResponse.values:
        raise ValidationError("Choose Revoke at once or Only alert.", code="invalid_choice")
    with transaction.atomic():
        locked = lock_team(team)
        if not permissions.can_manage_members(Membership.objects.filter(user=actor, team=team).first()):
            raise PermissionDenied("Setting the response to leaked secrets needs the Admin role.")
        current = locked.team.leak_response
        if current == response:
            return False
        Team.objects.filter(pk=team.pk).update(leak_response=response)
        activity.record(
            team=locked,
            actor=actor,
            action=TeamActivity.Action.LEAK_RESPONSE_CHANGED,
            subject=None,
            from_value=current,
            to_value=response,
        )
    team.leak_response = response
    return True


# --- The page ------------------------------------------------------------------------------

LEAK_FORM = "leak_response"
# How the saved message says what the policy now does.
LEAK_RESPONSE_SAID = {
    Team.LeakResponse.REVOKE: "is revoked at once",
    Team.LeakResponse.ALERT: "only raises an alert (nothing is revoked)",
}


class MaxCredentialAgeForm(forms.Form):
    """One select; a missing or unknown value is an error, never "Off"."""

    max_credential_age_days = forms.ChoiceField(
        label="Maximum credential age",
        choices=CHOICES,
        help_text=(
            "Credentials older than this are due for rotation: the credential lists mark them, "
            "and members with the Manage permission get an email 30 and 7 days before."
        ),
        error_messages={
            "required": "Choose a maximum credential age, or Off.",
            "invalid_choice": "Choose Off, 90, 180 or 365 days.",
        },
    )

    def clean_max_credential_age_days(self) -> int | None:
        value = self.cleaned_data["max_credential_age_days"]
        return None if value == OFF else int(value)


class LeakResponseForm(forms.Form):
    """One select: revoke at once, or only alert. A missing or unknown value is an error."""

    policy = forms.CharField(widget=forms.HiddenInput, initial=LEAK_FORM)
    leak_response = forms.ChoiceField(
        label="When a secret is found in public code",
        choices=Team.LeakResponse.choices,
        help_text=(
            "Revoke at once: leaked client credentials and API keys are deactivated, a leaked "
            "access token is revoked. Only alert: nothing is revoked. Either way members with the "
            "Manage permission get an email and the credential's page shows the report."
        ),
        error_messages={
            "required": "Choose Revoke at once or Only alert.",
            "invalid_choice": "Choose Revoke at once or Only alert.",
        },
    )


def _page(
    request: HttpRequest,
    membership: Membership,
    *,
    form: MaxCredentialAgeForm | None = None,
    leak_form: LeakResponseForm | None = None,
    status: int = HTTPStatus.OK,
) -> HttpResponse:
    """The page, or (for htmx) the partial of the form that was posted."""
    team = membership.team
    context: dict[str, Any] = {
        "membership": membership,
        "team": team,
        "form": form
        or MaxCredentialAgeForm(
            initial={"max_credential_age_days": str(team.max_credential_age_days or OFF)}
        ),
        "leak_form": leak_form or LeakResponseForm(initial={"leak_response": team.leak_response}),
        "current": age_label(team.max_credential_age_days),
        "current_leak_response": team.get_leak_response_display(),
        "can_view_credentials": permissions.can_view_credentials(membership),
    }
    partial = "leak_form" if leak_form is not None else "policy_form"
    return render(request, template_for(request, TEMPLATE, partial), context, status=status)


def _save_leak_response(request: HttpRequest, membership: Membership) -> HttpResponse:
    team = membership.team
    form = LeakResponseForm(request.POST)
    if not form.is_valid():
        return _page(request, membership, leak_form=form, status=HTTPStatus.UNPROCESSABLE_ENTITY)
    response = form.cleaned_data["leak_response"]
    try:
        changed = leak_response_set(actor=membership.user, team=team, response=response)
    except PermissionDenied:
        return forbidden(request, membership, "admin")
    said = LEAK_RESPONSE_SAID[response]
    if changed:
        messages.success(request, f"Saved: a secret of {team.name} found in public code {said}.")
    else:
        messages.info(request, f"Nothing to save: a secret found in public code already {said}.")
    return redirect_after(request, reverse("credentials:policy"))


@membership_required(permissions.can_manage_members, "admin")
@require_http_methods(["GET", "POST"])
@sudo_required
def policy_edit(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The team's maximum credential age and response to leaked secrets: GET shows them, POST
    sets the one its form is for (admins only)."""
    team = membership.team
    if request.method == "GET":
        return _page(request, membership)
    if request.POST.get("policy") == LEAK_FORM:
        return _save_leak_response(request, membership)
    form = MaxCredentialAgeForm(request.POST)
    if not form.is_valid():
        return _page(request, membership, form=form, status=HTTPStatus.UNPROCESSABLE_ENTITY)
    days = form.cleaned_data["max_credential_age_days"]
    try:
        changed = max_credential_age_set(actor=membership.user, team=team, days=days)
    except PermissionDenied:
        return forbidden(request, membership, "admin")
    if changed:
        messages.success(
            request, f"Saved: the maximum credential age of {team.name} is now {age_label(days)}."
        )
    else:
        messages.info(request, f"Nothing to save: the maximum credential age is already {age_label(days)}.")
    return redirect_after(request, reverse("credentials:policy"))
