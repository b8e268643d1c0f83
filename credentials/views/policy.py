"""API credentials > Rotation policy: the team's maximum credential age, set by its admins.

Credentials older than the maximum are *due for rotation* (credentials.policy): the lists
and the overview say so, and the team's Manage users get reminders before it comes. A
change is recorded in the team activity (Team settings > Users).
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


# --- The page ------------------------------------------------------------------------------


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


def _page(
    request: HttpRequest, membership: Membership, form: MaxCredentialAgeForm, status: int = HTTPStatus.OK
) -> HttpResponse:
    team = membership.team
    context: dict[str, Any] = {
        "membership": membership,
        "team": team,
        "form": form,
        "current": age_label(team.max_credential_age_days),
        "can_view_credentials": permissions.can_view_credentials(membership),
    }
    return render(request, template_for(request, TEMPLATE, "policy_form"), context, status=status)


@membership_required(permissions.can_manage_members, "admin")
@require_http_methods(["GET", "POST"])
@sudo_required
def policy_edit(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The team's maximum credential age: GET shows it, POST sets it (admins only)."""
    team = membership.team
    if request.method == "GET":
        initial = {"max_credential_age_days": str(team.max_credential_age_days or OFF)}
        return _page(request, membership, MaxCredentialAgeForm(initial=initial))
    form = MaxCredentialAgeForm(request.POST)
    if not form.is_valid():
        return _page(request, membership, form, status=HTTPStatus.UNPROCESSABLE_ENTITY)
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
