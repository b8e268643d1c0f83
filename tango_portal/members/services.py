"""Every write for Team settings > Users: members, roles, Tango API keys permissions, sign-up links.

Each service checks that the actor is an admin of the team itself (views check too),
locks the team row, does its write and its team activity row in one transaction, and
takes keyword-only arguments. Locking the team row first is what keeps "a team always
has an admin" true when two admins act at once on PostgreSQL; SQLite serialises
writers already.
"""

from __future__ import annotations

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
from tango_portal.core.text import check_visible
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
    # The account is in use already (its owner set a password): the link only says "sign in".
    HAS_ACCOUNT = "has_account"


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
    check_visible(name, "The name")
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


# --- The sign-up link rule ------------------------------------------------------------


@dataclass(frozen=True)
class SignupLinks:
    """What the sign-up link rule says about one account; see `signup_links`."""

    # Nobody has used the account (no usable password, never signed in): a link can set it up.
    unused: bool
    # The one link that can set the account's password now, if any.
    working: SignupInvitation | None


def signup_links(user: User) -> SignupLinks:
    """THE sign-up link rule; adding a member, making a new link and accepting one all apply it.

    A sign-up link sets an account's password, so whoever holds one (the admin who made it
    included) gets the account. Hence:

    - Only an account nobody has used yet can be set up with a link (`unused`). Each team
      that adds such an account, or has it as a member, can give it a link of its own.
    - Of an account's links, only the newest works (`working`), whichever team made it:
      every new link (`_new_invitation`) revokes all the others at once, and this check
      refuses an older one even so. So a second team's add kills the first team's link.
    - Accepting a link joins the person to the team that made it, and to no other: the
      account's memberships in other teams end (`invitation_accept`). Otherwise any team
      could make itself the newest (a new link, or remove and add again) and, holding that
      link, walk into the other teams that added the address.

    Callers hold the team lock and the user row lock (`_lock_user`) when they act on it.
    """
    unused = not user.has_usable_password() and user.last_login is None
    newest = SignupInvitation.objects.filter(user=user).order_by("-created_at", "-id").first()
    working = (
        newest
        if unused
        and newest is not None
        and newest.used_at is None
        and newest.revoked_at is None
        and newest.expires_at > timezone.now()
        else None
    )
    return SignupLinks(unused=unused, working=working)


def _lock_user(user_id: int) -> User:
    # After the team lock(s) and before any sign-up link row: the same order everywhere.
    return User.objects.select_for_update().get(pk=user_id)


def _typed_name(team: Team, user: User) -> str:
    """The name this team's admin typed for the person, for a new link of this team."""
    latest = (
        SignupInvitation.objects.filter(team=team, user=user)
        .exclude(full_name="")
        .order_by("-created_at", "-id")
        .values_list("full_name", flat=True)
        .first()
    )
    return latest or ""


def _new_invitation(
    *, actor: User, team: LockedTeam[Team], user: User, full_name: str
) -> tuple[SignupInvitation, str]:
    """Make a sign-up link's token; store its digest; return the token, which is never stored.

    Every other open link of the account, whichever team made it, stops working (the rule:
    `signup_links`).
    """
    _revoke_open_invitations(user=user)
    token = credential_secrets.generate(credential_secrets.Kind.SIGNUP)
    now = timezone.now()
    invitation = SignupInvitation.objects.create(
        team=team.team,
        user=user,
        full_name=full_name,
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
    invitation: SignupInvitation
    # The sign-up link's token in plaintext: shown once, in the response to the add request.
    signup_token: str


def member_add(*, actor: User, team: Team, email: str, full_name: str) -> MemberAdded:
    """Add a person to the team as a member with Tango API keys: Don't allow, with a sign-up link.

    The answer is the same whether or not the address has an account, so that adding an
    address reveals nothing about it: always a one-time link (valid for
    SIGNUP_LINK_LIFETIME), whose token is returned here once and stored only as a digest,
    and `full_name` is kept on the link as this team's name for the person.

    - Someone new gets an account without a usable password and no name of its own.
    - An account nobody has used yet (another team added it) is set up by this link, and
      the links other teams made for it stop working (the rule: `signup_links`).
    - An account in use just joins; its link can only tell its owner to sign in.
    """
    email = clean_email(email)
    name = clean_full_name(full_name)
    with transaction.atomic():
        locked_team = lock_team(team)
        _require_admin(actor, team)
        user = User.objects.select_for_update().filter(email__iexact=email).first()
        created = False
        if user is None:
            try:
                with transaction.atomic():
                    # No name on the account: each team sees the name it typed (on its link).
                    user = User.objects.create_user(email=email, password=None, full_name="")
                    created = True
            except IntegrityError:
                # Someone else (another team's admin) created the account a moment ago.
                user = _lock_user(User.objects.get(email__iexact=email).pk)
        if Membership.objects.filter(team=team, user=user).exists():
            raise AlreadyMember(f"{email} is already a member of {team.name}.")
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
        invitation, token = _new_invitation(actor=actor, team=locked_team, user=user, full_name=name)
        return MemberAdded(
            membership=membership, created_user=created, invitation=invitation, signup_token=token
        )


def signup_link_create(*, actor: User, team: Team, membership: Membership) -> tuple[SignupInvitation, str]:
    """Make a new sign-up link for a member who has not signed up yet (the old one expired or
    was lost); every earlier link, whichever team made it, stops working (`signup_links`).
    Returns the link's token once; only its digest is kept.
    """
    with transaction.atomic():
        locked_team = lock_team(team)
        _require_admin(actor, team)
        target = _locked_member(team, membership)
        user = _lock_user(target.user_id)
        if not signup_links(user).unused:
            raise SignupLinkNotAllowed(
                f"{user.get_full_name()} already has an account; they sign in with their own "
                "password, and can reset it themselves."
            )
        return _new_invitation(actor=actor, team=locked_team, user=user, full_name=_typed_name(team, user))


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

ENDED_BY_SIGNUP = "Signed up with another team's link"


def invitation_problem(invitation: SignupInvitation | None) -> InvitationProblem | None:
    """Why a sign-up link cannot be used, or None if it can (the rule: `signup_links`)."""
    if invitation is None:
        return InvitationProblem.UNKNOWN
    if invitation.used_at is not None:
        return InvitationProblem.USED
    links = signup_links(invitation.user)
    if not links.unused:
        return InvitationProblem.HAS_ACCOUNT
    if invitation.revoked_at is not None:
        return InvitationProblem.REVOKED
    if invitation.expires_at <= timezone.now():
        return InvitationProblem.EXPIRED
    if links.working is None or links.working.pk != invitation.pk:
        # A newer link exists (defence in depth: making it revoked this one already).
        return InvitationProblem.REVOKED
    return None


def invitation_accept(
    *, token: str = "", token_digest: str = "", full_name: str, password: str
) -> SignupInvitation:
    """Use a sign-up link: set the person's name and password, mark the link used, record it.

    The link is given as its token or, from the sign-up page's session, its digest. The
    person joins the team that made the link only: their memberships in other teams (which
    added the address while nobody used it) end, recorded in each team's activity, and
    those teams add them again if they mean to (the rule: `signup_links`).

    Raises InvitationInvalid (and changes nothing) for an unknown, used, revoked,
    superseded or expired link, and ValidationError for a password the validators refuse.
    """
    name = clean_full_name(full_name)
    digest = token_digest or credential_secrets.digest(token)
    found = SignupInvitation.objects.filter(token_digest=digest).first() if digest else None
    if found is None:
        raise InvitationInvalid(InvitationProblem.UNKNOWN)
    with transaction.atomic():
        # Teams first, in one order (by id), as every other membership write does; then the
        # account, then the link itself.
        team_ids = set(Membership.objects.filter(user_id=found.user_id).values_list("team_id", flat=True))
        locked_teams = {pk: lock_team(Team(pk=pk)) for pk in sorted(team_ids | {found.team_id})}
        locked_team = locked_teams[found.team_id]
        team = locked_team.team
        user = _lock_user(found.user_id)
        invitation = SignupInvitation.objects.select_for_update().get(pk=found.pk)
        invitation.user = user
        problem = invitation_problem(invitation)
        if problem is not None:
            raise InvitationInvalid(problem)
        if not Membership.objects.filter(team=team, user=user).exists():
            raise InvitationInvalid(InvitationProblem.REVOKED)
        user.full_name = name
        # After the name is set, so the similarity check compares against the name they chose.
        password_validation.validate_password(password, user)
        user.set_password(password)
        user.save(update_fields=["full_name", "password"])
        invitation.used_at = timezone.now()
        invitation.save(update_fields=["used_at"])
        _revoke_open_invitations(user=user)
        activity.record(team=locked_team, actor=user, action=Action.INVITATION_ACCEPTED, subject=user)
        for other in Membership.objects.filter(user=user).exclude(team=team).order_by("team_id"):
            other_team = locked_teams.get(other.team_id) or lock_team(Team(pk=other.team_id))
            old_value = activity.membership_value(other.role, other.api_keys_permission)
            other.delete()
            activity.record(
                team=other_team,
                actor=None,
                action=Action.MEMBER_REMOVED,
                subject=user,
                from_value=old_value,
                to_value=ENDED_BY_SIGNUP,
            )
        invitation.team = team
        return invitation
