"""Every write for Team settings > Users: members, roles, Tango API keys permissions, sign-up links.

Each service checks that the actor is an admin of the team itself (views check too),
locks the team row, does its write and its team activity row in one transaction, and
takes keyword-only arguments. Locking the team row first is what keeps "a team always
has an admin" true when two admins act at once on PostgreSQL; SQLite serialises
writers already.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from credentials import secrets as credential_secrets
from credentials.permissions import can_manage_members
from tango_portal.core.chain import LockedTeam, lock_team
from tango_portal.members import activity
from tango_portal.models import Membership, SignupInvitation, Team, TeamActivity, User

Action = TeamActivity.Action
Role = Membership.Role
Permission = Membership.ApiKeysPermission

FULL_NAME_MAX_LENGTH = 150


class MemberError(Exception):
    """A refused membership action, with a message fit to show the admin."""


class AlreadyMember(MemberError):
    pass


class LastAdmin(MemberError):
    pass


class NoLongerMember(MemberError):
    pass


class SignupLinkNotAllowed(MemberError):
    pass


class InvitationProblem(StrEnum):
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"
    REVOKED = "revoked"


class InvitationInvalid(MemberError):
    """A sign-up link that cannot be used; `problem` says why."""

    def __init__(self, problem: InvitationProblem) -> None:
        self.problem = problem
        super().__init__(f"This sign-up link cannot be used ({problem.value}).")


# --- Input ------------------------------------------------------------------------


def clean_email(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("Enter the person's email address.", code="required")
    email = User.objects.normalize_email(value.strip()).lower()
    validate_email(email)
    return email


def clean_full_name(value: object) -> str:
    """Trim a person's name; refuse control and invisible characters, which can disguise one name
    as another."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("Enter the person's name.", code="required")
    name = value.strip()
    if len(name) > FULL_NAME_MAX_LENGTH:
        raise ValidationError(
            f"The name can be at most {FULL_NAME_MAX_LENGTH} characters (it has {len(name)}).",
            code="max_length",
        )
    for char in name:
        if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            raise ValidationError(
                f"The name cannot contain control or invisible characters (found U+{ord(char):04X}).",
                code="control_character",
            )
    return name


def _clean_choice(value: str, allowed: list[str], label: str) -> str:
    if value not in allowed:
        raise ValidationError(f"Choose a valid {label}.", code="invalid_choice")
    return value


# --- Shared steps -------------------------------------------------------------------


def _require_admin(actor: User, team: Team) -> Membership:
    """The actor's membership, read after the team lock so a just-demoted admin is refused."""
    membership = Membership.objects.filter(user=actor, team=team).first()
    if membership is None or not can_manage_members(membership):
        raise PermissionDenied("Managing team members needs the Admin role.")
    return membership


def _locked_member(team: Team, membership: Membership) -> Membership:
    # Lock this membership only (`of`, and no default ordering that would join the team):
    # the caller already holds the team row, which is what serialises membership writers.
    locked = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(pk=membership.pk, team=team)
        .order_by("pk")
        .first()
    )
    if locked is None:
        raise NoLongerMember(f"{membership.user.get_full_name()} is no longer a member of {team.name}.")
    return locked


def _other_admins_exist(team: Team, membership: Membership) -> bool:
    return Membership.objects.filter(team=team, role=Role.ADMIN).exclude(pk=membership.pk).exists()


def _last_admin_message(actor: User, target: Membership, doing: str) -> str:
    if target.user_id == actor.pk:
        return (
            f"You are the only admin of {target.team.name}, so you cannot {doing} yourself. "
            "Make another member an admin first."
        )
    return (
        f"{target.user.get_full_name()} is the only admin of {target.team.name}; "
        "a team always keeps at least one admin. Make another member an admin first."
    )


def _revoke_open_invitations(**filters: object) -> int:
    return SignupInvitation.objects.filter(used_at__isnull=True, revoked_at__isnull=True, **filters).update(
        revoked_at=timezone.now()
    )


def _new_invitation(*, actor: User, team: LockedTeam[Team], user: User) -> tuple[SignupInvitation, str]:
    """Make a sign-up link's token; store its digest; return the token, which is never stored."""
    _revoke_open_invitations(team=team.team, user=user)
    token = credential_secrets.generate(credential_secrets.Kind.SIGNUP)
    now = timezone.now()
    invitation = SignupInvitation.objects.create(
        team=team.team,
        user=user,
        token_digest=credential_secrets.digest(token),
        created_by=actor,
        created_at=now,
        expires_at=now + settings.SIGNUP_LINK_LIFETIME,
    )
    activity.record(
        team=team,
        actor=actor,
        action=Action.INVITATION_CREATED,
        subject=user,
        to_value=invitation.expires_at.isoformat(),
    )
    return invitation, token


# --- Adding a member ------------------------------------------------------------------


@dataclass(frozen=True)
class MemberAdded:
    membership: Membership
    created_user: bool
    invitation: SignupInvitation | None
    # The sign-up link's token in plaintext: shown once, in the response to the add request.
    signup_token: str | None


def member_add(*, actor: User, team: Team, email: str, full_name: str) -> MemberAdded:
    """Add a person to the team as a member with Tango API keys: Don't allow.

    Someone new gets an account without a usable password and a one-time sign-up link
    (valid for SIGNUP_LINK_LIFETIME), whose token is returned here once and stored only
    as a digest. Someone who already has an account just joins; their name is theirs
    to keep, so `full_name` is ignored for them.
    """
    email = clean_email(email)
    name = clean_full_name(full_name)
    with transaction.atomic():
        locked_team = lock_team(team)
        _require_admin(actor, team)
        user = User.objects.filter(email__iexact=email).first()
        created = False
        if user is None:
            try:
                with transaction.atomic():
                    user = User.objects.create_user(email=email, password=None, full_name=name)
                    created = True
            except IntegrityError:
                # Someone else (another team's admin) created the account a moment ago.
                user = User.objects.get(email__iexact=email)
        if Membership.objects.filter(team=team, user=user).exists():
            raise AlreadyMember(f"{user.get_full_name()} ({user.email}) is already a member of {team.name}.")
        membership = Membership.objects.create(
            team=team, user=user, role=Role.MEMBER, api_keys_permission=Permission.NONE
        )
        activity.record(
            team=locked_team,
            actor=actor,
            action=Action.MEMBER_ADDED,
            subject=user,
            to_value=activity.membership_value(membership.role, membership.api_keys_permission),
        )
        invitation, token = (
            _new_invitation(actor=actor, team=locked_team, user=user) if created else (None, None)
        )
        return MemberAdded(
            membership=membership, created_user=created, invitation=invitation, signup_token=token
        )


def signup_link_allowed(membership: Membership) -> bool:
    """Whether an admin may make a new sign-up link for this member.

    Only for an account nobody has used yet (no password, never signed in) that belongs
    to this team alone: a link sets the account's password, so it must never let one
    team's admin take over an account that another team relies on.
    """
    user = membership.user
    return (
        not user.has_usable_password()
        and user.last_login is None
        and not Membership.objects.filter(user=user).exclude(team_id=membership.team_id).exists()
    )


def signup_link_create(*, actor: User, team: Team, membership: Membership) -> tuple[SignupInvitation, str]:
    """Make a new sign-up link for a member who has not signed up yet (the old one expired or
    was lost); earlier links stop working. Returns the link's token once; only its digest is kept.
    """
    with transaction.atomic():
        locked_team = lock_team(team)
        _require_admin(actor, team)
        target = _locked_member(team, membership)
        if not signup_link_allowed(target):
            raise SignupLinkNotAllowed(
                f"{target.user.get_full_name()} already has an account; they sign in with their own "
                "password, and can reset it themselves."
            )
        return _new_invitation(actor=actor, team=locked_team, user=target.user)


# --- Changing a member's role and permission ---------------------------------------------


def membership_changes(membership: Membership, *, role: str, api_keys_permission: str) -> list[str]:
    """What saving this role and permission would change, as sentences for the confirmation."""
    name = membership.user.get_full_name()
    changes = []
    if role != membership.role:
        changes.append(f"Change {name}'s role from {Role(membership.role).label} to {Role(role).label}")
    if api_keys_permission != membership.api_keys_permission:
        changes.append(
            f"Change {name}'s Tango API keys permission from "
            f"{Permission(membership.api_keys_permission).label} to {Permission(api_keys_permission).label}"
        )
    return changes


def member_change(
    *, actor: User, team: Team, membership: Membership, role: str, api_keys_permission: str
) -> Membership:
    """Set a member's role and Tango API keys permission; record each change. No change, no record.

    Takes effect on the member's next request: the portal reads memberships afresh on
    every request. Refuses to demote the team's last admin (LastAdmin).
    """
    role = _clean_choice(role, Role.values, "role")
    api_keys_permission = _clean_choice(api_keys_permission, Permission.values, "Tango API keys permission")
    with transaction.atomic():
        locked_team = lock_team(team)
        _require_admin(actor, team)
        target = _locked_member(team, membership)
        if target.role == Role.ADMIN and role != Role.ADMIN and not _other_admins_exist(team, target):
            raise LastAdmin(_last_admin_message(actor, target, "demote"))
        changed: list[tuple[str, TeamActivity.Action, str, str]] = []  # field, action, from, to
        if role != target.role:
            changed.append(("role", Action.ROLE_CHANGED, target.role, role))
            target.role = role
        if api_keys_permission != target.api_keys_permission:
            changed.append(
                (
                    "api_keys_permission",
                    Action.PERMISSION_CHANGED,
                    target.api_keys_permission,
                    api_keys_permission,
                )
            )
            target.api_keys_permission = api_keys_permission
        if not changed:
            return target
        target.save(update_fields=[field for field, _, _, _ in changed])
        for _, action, old_value, new_value in changed:
            activity.record(
                team=locked_team,
                actor=actor,
                action=action,
                subject=target.user,
                from_value=old_value,
                to_value=new_value,
            )
        return target


# --- Removing a member ----------------------------------------------------------------


def member_remove(*, actor: User, team: Team, membership: Membership) -> None:
    """Remove a member from the team and void their unused sign-up links.

    Their open sessions lose the team on their next request (memberships are read
    afresh on every request). The account itself stays: it may belong to other teams,
    and history refers to it. Refuses to remove the team's last admin (LastAdmin).
    """
    with transaction.atomic():
        locked_team = lock_team(team)
        _require_admin(actor, team)
        target = _locked_member(team, membership)
        if target.role == Role.ADMIN and not _other_admins_exist(team, target):
            raise LastAdmin(_last_admin_message(actor, target, "remove"))
        old_value = activity.membership_value(target.role, target.api_keys_permission)
        user = target.user
        target.delete()
        _revoke_open_invitations(team=team, user=user)
        activity.record(
            team=locked_team, actor=actor, action=Action.MEMBER_REMOVED, subject=user, from_value=old_value
        )


# --- Accepting a sign-up link -------------------------------------------------------------


def invitation_problem(invitation: SignupInvitation | None) -> InvitationProblem | None:
    """Why a sign-up link cannot be used, or None if it can."""
    if invitation is None:
        return InvitationProblem.UNKNOWN
    if invitation.used_at is not None or invitation.user.has_usable_password():
        return InvitationProblem.USED
    if invitation.revoked_at is not None:
        return InvitationProblem.REVOKED
    if invitation.expires_at <= timezone.now():
        return InvitationProblem.EXPIRED
    return None


def invitation_accept(*, token: str, full_name: str, password: str) -> SignupInvitation:
    """Use a sign-up link: set the person's name and password, mark the link used, record it.

    Raises InvitationInvalid (and changes nothing) for an unknown, used, revoked or
    expired link, and ValidationError for a password the validators refuse.
    """
    name = clean_full_name(full_name)
    digest = credential_secrets.digest(token)
    found = SignupInvitation.objects.filter(token_digest=digest).select_related("team").first()
    if found is None:
        raise InvitationInvalid(InvitationProblem.UNKNOWN)
    with transaction.atomic():
        # Team first, as every other membership write does, then the link itself.
        locked_team = lock_team(found.team)
        team = locked_team.team
        invitation = SignupInvitation.objects.select_for_update().select_related("user").get(pk=found.pk)
        problem = invitation_problem(invitation)
        if problem is not None:
            raise InvitationInvalid(problem)
        if not Membership.objects.filter(team=team, user_id=invitation.user_id).exists():
            raise InvitationInvalid(InvitationProblem.REVOKED)
        user = User.objects.select_for_update().get(pk=invitation.user_id)
        user.full_name = name
        # After the name is set, so the similarity check compares against the name they chose.
        password_validation.validate_password(password, user)
        user.set_password(password)
        user.save(update_fields=["full_name", "password"])
        invitation.used_at = timezone.now()
        invitation.save(update_fields=["used_at"])
        _revoke_open_invitations(user=user)
        activity.record(team=locked_team, actor=user, action=Action.INVITATION_ACCEPTED, subject=user)
        invitation.team = team
        invitation.user = user
        return invitation
