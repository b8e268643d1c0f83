"""Membership services: add, change, remove, sign-up links, and their activity rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from credentials import secrets as credential_secrets
from tango_portal.members import activity
from tango_portal.members import services as members_services
from tango_portal.models import Membership, SignupInvitation, TeamActivity, User
from tests.conftest import change_member, membership_of
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

Role = Membership.Role
Perm = Membership.ApiKeysPermission
Action = TeamActivity.Action


def actions(team) -> list[str]:
    return list(TeamActivity.objects.filter(team=team).order_by("id").values_list("action", flat=True))


# --- member_add ---------------------------------------------------------------------


def test_adding_a_new_person_creates_account_membership_and_one_time_link(team, admin_user):
    added = members_services.member_add(
        actor=admin_user, team=team, email="  New.Person@Example.com ", full_name=" Nora New "
    )
    user = User.objects.get(email="new.person@example.com")
    assert added.created_user
    # The account keeps no name of its own until its owner signs up; the team's typed name
    # is on the team's link (another team adding the address must not see it).
    assert user.full_name == ""
    assert added.invitation.full_name == "Nora New"
    assert not user.has_usable_password()
    assert added.membership.user == user
    assert added.membership.role == Role.MEMBER
    assert added.membership.api_keys_permission == Perm.NONE
    token = added.signup_token
    assert token and token.startswith(credential_secrets.prefix(credential_secrets.Kind.SIGNUP))
    # 256 bits of randomness behind the prefix.
    assert len(token) - len(credential_secrets.prefix(credential_secrets.Kind.SIGNUP)) >= 43
    invitation = SignupInvitation.objects.get(user=user, team=team)
    assert invitation.token_digest == credential_secrets.digest(token)
    assert token not in str(SignupInvitation.objects.filter(pk=invitation.pk).values().get())
    lifetime = invitation.expires_at - invitation.created_at
    assert timedelta(hours=71, minutes=59) < lifetime <= timedelta(hours=72, seconds=1)
    assert invitation.used_at is None
    assert actions(team) == [Action.MEMBER_ADDED, Action.INVITATION_CREATED]
    row = TeamActivity.objects.get(team=team, action=Action.MEMBER_ADDED)
    assert (row.actor_email, row.subject_email, row.to_value) == (
        "admin@example.com",
        "new.person@example.com",
        "member/none",
    )
    assert token not in str(list(TeamActivity.objects.values()))


def test_adding_someone_with_an_account_answers_as_for_someone_new_without_renaming(
    team, admin_user, outsider
):
    # The same answer either way (a link, the typed name), so adding an address reveals
    # nothing about it; the link of an account in use can only say "sign in".
    added = members_services.member_add(
        actor=admin_user, team=team, email="GLOBEX-ADMIN@example.com", full_name="Someone Else"
    )
    assert not added.created_user
    assert added.signup_token and added.invitation.full_name == "Someone Else"
    assert membership_of(outsider, team).api_keys_permission == Perm.NONE
    outsider.refresh_from_db()
    assert outsider.full_name == "Gloria Globex"
    assert outsider.has_usable_password()
    assert (
        members_services.invitation_problem(added.invitation)
        == members_services.InvitationProblem.HAS_ACCOUNT
    )
    assert actions(team) == [Action.MEMBER_ADDED, Action.INVITATION_CREATED]


def test_adding_an_existing_member_again_is_refused_and_changes_nothing(team, admin_user, member):
    before = Membership.objects.count()
    with pytest.raises(
        members_services.AlreadyMember, match=r"member@example.com is already a member of Acme"
    ):
        members_services.member_add(actor=admin_user, team=team, email="member@example.com", full_name="Mel")
    assert Membership.objects.count() == before
    assert actions(team) == []


@pytest.mark.parametrize(
    ("email", "name", "message"),
    [
        ("", "Nora", "email address"),
        ("not-an-email", "Nora", "valid email"),
        ("nora@example.com", "   ", "name"),
        ("nora@example.com", "Nora\u202eweN", "invisible"),
        ("nora@example.com", "N" * 151, "at most 150"),
    ],
)
def test_adding_with_bad_input_is_refused(team, admin_user, email, name, message):
    with pytest.raises(ValidationError, match=message):
        members_services.member_add(actor=admin_user, team=team, email=email, full_name=name)
    assert not User.objects.filter(email="nora@example.com").exists()
    assert actions(team) == []


def test_only_admins_may_add(team, manager):
    with pytest.raises(PermissionDenied):
        members_services.member_add(actor=manager, team=team, email="x@example.com", full_name="X")
    assert not User.objects.filter(email="x@example.com").exists()


def test_an_admin_of_another_team_may_not_add_here(team, outsider):
    with pytest.raises(PermissionDenied):
        members_services.member_add(actor=outsider, team=team, email="x@example.com", full_name="X")


# --- member_change ------------------------------------------------------------------


def test_changing_permission_and_role_records_each_change(team, admin_user, member):
    target = membership_of(member, team)
    members_services.member_change(
        actor=admin_user, team=team, membership=target, role=Role.ADMIN, api_keys_permission=Perm.VIEW
    )
    target.refresh_from_db()
    assert (target.role, target.api_keys_permission) == (Role.ADMIN, Perm.VIEW)
    rows = list(TeamActivity.objects.filter(team=team).order_by("id"))
    assert [(r.action, r.from_value, r.to_value) for r in rows] == [
        (Action.ROLE_CHANGED, "member", "admin"),
        (Action.PERMISSION_CHANGED, "none", "view"),
    ]
    assert all(r.actor_name == "Ada Admin" and r.subject_name == "Mel Member" for r in rows)
    assert activity.verify(team)


def test_saving_without_a_change_records_nothing(team, admin_user, member):
    change_member(admin_user, team, member, role=Role.MEMBER, permission=Perm.NONE)
    assert actions(team) == []


def test_confirmation_text_names_what_will_change(team, member):
    target = membership_of(member, team)
    assert members_services.membership_changes(target, role=Role.MEMBER, api_keys_permission=Perm.VIEW) == [
        "Change Mel Member's Tango API keys permission from Don't allow to View"
    ]
    assert members_services.membership_changes(target, role=Role.ADMIN, api_keys_permission=Perm.NONE) == [
        "Change Mel Member's role from Member to Admin"
    ]
    assert members_services.membership_changes(target, role=Role.MEMBER, api_keys_permission=Perm.NONE) == []


@pytest.mark.parametrize(("role", "permission"), [("owner", Perm.VIEW), (Role.MEMBER, "everything")])
def test_invalid_choices_are_refused(team, admin_user, member, role, permission):
    with pytest.raises(ValidationError):
        change_member(admin_user, team, member, role=role, permission=permission)
    assert membership_of(member, team).api_keys_permission == Perm.NONE


def test_non_admins_may_not_change_anyone_even_themselves(team, manager, member):
    for user in (member, manager):
        with pytest.raises(PermissionDenied):
            change_member(manager, team, user, role=Role.ADMIN, permission=Perm.MANAGE)
    assert membership_of(manager, team).role == Role.MEMBER
    assert actions(team) == []


def test_a_membership_of_another_team_cannot_be_changed(team, admin_user, outsider, other_team):
    with pytest.raises(members_services.NoLongerMember):
        change_member(admin_user, team, outsider, role=Role.MEMBER, permission=Perm.NONE, of_team=other_team)
    assert membership_of(outsider, other_team).role == Role.ADMIN


def test_an_admin_may_grant_themselves_a_permission(team, admin_user):
    change_member(admin_user, team, admin_user, role=Role.ADMIN, permission=Perm.VIEW)
    assert membership_of(admin_user, team).api_keys_permission == Perm.VIEW


# --- the last admin ------------------------------------------------------------------


def test_the_last_admin_cannot_demote_themselves(team, admin_user, member):
    with pytest.raises(members_services.LastAdmin, match="You are the only admin of Acme Rewards"):
        change_member(admin_user, team, admin_user, role=Role.MEMBER, permission=Perm.MANAGE)
    assert membership_of(admin_user, team).role == Role.ADMIN
    assert actions(team) == []


def test_the_last_admin_cannot_remove_themselves(team, admin_user, member):
    with pytest.raises(members_services.LastAdmin, match="only admin"):
        members_services.member_remove(
            actor=admin_user, team=team, membership=membership_of(admin_user, team)
        )
    assert membership_of(admin_user, team).role == Role.ADMIN
    assert actions(team) == []


def test_with_a_second_admin_an_admin_may_step_down_or_leave(team, admin_user, member):
    second = MembershipFactory(team=team, role=Role.ADMIN, api_keys_permission=Perm.NONE).user
    change_member(admin_user, team, admin_user, role=Role.MEMBER, permission=Perm.MANAGE)
    assert membership_of(admin_user, team).role == Role.MEMBER
    # Now `second` is the only admin, and the rule holds for them too.
    with pytest.raises(members_services.LastAdmin):
        members_services.member_remove(actor=second, team=team, membership=membership_of(second, team))
    members_services.member_remove(actor=second, team=team, membership=membership_of(admin_user, team))
    assert not Membership.objects.filter(team=team, user=admin_user).exists()


def test_a_demoted_admin_can_no_longer_act(team, admin_user, member):
    second = MembershipFactory(team=team, role=Role.ADMIN).user
    change_member(second, team, admin_user, role=Role.MEMBER, permission=Perm.NONE)
    with pytest.raises(PermissionDenied):
        change_member(admin_user, team, member, role=Role.MEMBER, permission=Perm.VIEW)


# --- member_remove ---------------------------------------------------------------------


def test_removing_a_member_deletes_the_membership_and_records_it(team, admin_user, auditor):
    members_services.member_remove(actor=admin_user, team=team, membership=membership_of(auditor, team))
    assert not Membership.objects.filter(team=team, user=auditor).exists()
    assert User.objects.filter(pk=auditor.pk).exists()
    row = TeamActivity.objects.get(team=team)
    assert (row.action, row.subject_email, row.from_value, row.actor_email) == (
        Action.MEMBER_REMOVED,
        "auditor@example.com",
        "member/view",
        "admin@example.com",
    )


def test_removing_a_member_voids_their_unused_sign_up_link(team, admin_user):
    added = members_services.member_add(actor=admin_user, team=team, email="n@example.com", full_name="N")
    members_services.member_remove(actor=admin_user, team=team, membership=added.membership)
    with pytest.raises(members_services.InvitationInvalid) as error:
        members_services.invitation_accept(
            token=added.signup_token, full_name="N", password="a-long enough pass 42"
        )
    assert error.value.problem == members_services.InvitationProblem.REVOKED
    assert not User.objects.get(email="n@example.com").has_usable_password()


def test_removing_twice_reports_the_member_is_gone(team, admin_user, member):
    target = membership_of(member, team)
    members_services.member_remove(actor=admin_user, team=team, membership=target)
    with pytest.raises(members_services.NoLongerMember):
        members_services.member_remove(actor=admin_user, team=team, membership=target)
    assert actions(team) == [Action.MEMBER_REMOVED]


def test_non_admins_may_not_remove(team, manager, member):
    with pytest.raises(PermissionDenied):
        members_services.member_remove(actor=manager, team=team, membership=membership_of(member, team))
    assert Membership.objects.filter(team=team, user=member).exists()


# --- sign-up links --------------------------------------------------------------------


GOOD_PASSWORD = "plum-orbit-velvet-93"


def test_accepting_a_link_sets_the_password_and_records_it(team, admin_user):
    added = members_services.member_add(actor=admin_user, team=team, email="n@example.com", full_name="Nora")
    invitation = members_services.invitation_accept(
        token=added.signup_token, full_name="Nora Newcomer", password=GOOD_PASSWORD
    )
    user = User.objects.get(email="n@example.com")
    assert user.check_password(GOOD_PASSWORD)
    assert user.full_name == "Nora Newcomer"
    invitation.refresh_from_db()
    assert invitation.used_at is not None
    row = TeamActivity.objects.filter(team=team).order_by("-id").first()
    assert (row.action, row.actor_email, row.subject_email) == (
        Action.INVITATION_ACCEPTED,
        "n@example.com",
        "n@example.com",
    )
    assert activity.verify(team)


def test_a_link_works_once(team, admin_user):
    added = members_services.member_add(actor=admin_user, team=team, email="n@example.com", full_name="Nora")
    members_services.invitation_accept(token=added.signup_token, full_name="Nora", password=GOOD_PASSWORD)
    with pytest.raises(members_services.InvitationInvalid) as error:
        members_services.invitation_accept(
            token=added.signup_token, full_name="Eve", password="other-pass-xyz-77"
        )
    assert error.value.problem == members_services.InvitationProblem.USED
    user = User.objects.get(email="n@example.com")
    assert user.check_password(GOOD_PASSWORD)
    assert user.full_name == "Nora"


def test_an_expired_link_is_refused_and_changes_nothing(team, admin_user):
    added = members_services.member_add(actor=admin_user, team=team, email="n@example.com", full_name="Nora")
    SignupInvitation.objects.filter(pk=added.invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    with pytest.raises(members_services.InvitationInvalid) as error:
        members_services.invitation_accept(token=added.signup_token, full_name="Nora", password=GOOD_PASSWORD)
    assert error.value.problem == members_services.InvitationProblem.EXPIRED
    assert not User.objects.get(email="n@example.com").has_usable_password()
    assert Action.INVITATION_ACCEPTED not in actions(team)


def test_an_unknown_link_is_refused(team):
    with pytest.raises(members_services.InvitationInvalid) as error:
        members_services.invitation_accept(token="tng_sbx_su_nope", full_name="X", password=GOOD_PASSWORD)
    assert error.value.problem == members_services.InvitationProblem.UNKNOWN


def test_a_weak_password_is_refused_by_the_validators(team, admin_user):
    added = members_services.member_add(actor=admin_user, team=team, email="n@example.com", full_name="Nora")
    with pytest.raises(ValidationError):
        members_services.invitation_accept(token=added.signup_token, full_name="Nora", password="short")
    with pytest.raises(ValidationError):
        members_services.invitation_accept(
            token=added.signup_token, full_name="Nora", password="password123456"
        )
    assert not User.objects.get(email="n@example.com").has_usable_password()
    assert SignupInvitation.objects.get(pk=added.invitation.pk).used_at is None


def test_a_new_link_replaces_the_old_one(team, admin_user):
    added = members_services.member_add(actor=admin_user, team=team, email="n@example.com", full_name="Nora")
    _invitation, new_token = members_services.signup_link_create(
        actor=admin_user, team=team, membership=added.membership
    )
    assert new_token != added.signup_token
    with pytest.raises(members_services.InvitationInvalid) as error:
        members_services.invitation_accept(token=added.signup_token, full_name="Nora", password=GOOD_PASSWORD)
    assert error.value.problem == members_services.InvitationProblem.REVOKED
    members_services.invitation_accept(token=new_token, full_name="Nora", password=GOOD_PASSWORD)
    assert actions(team).count(Action.INVITATION_CREATED) == 2


def test_no_link_for_an_account_already_in_use(team, admin_user, member):
    with pytest.raises(members_services.SignupLinkNotAllowed):
        members_services.signup_link_create(
            actor=admin_user, team=team, membership=membership_of(member, team)
        )
    assert not SignupInvitation.objects.filter(user=member).exists()


def test_a_second_team_adding_an_unused_account_gets_its_own_link_and_kills_the_first(
    team, admin_user, other_team, outsider
):
    globex = members_services.member_add(
        actor=outsider, team=other_team, email="pat@example.com", full_name="Globex Typed"
    )
    acme = members_services.member_add(actor=admin_user, team=team, email="pat@example.com", full_name="Pat")
    assert acme.signup_token and not acme.created_user
    first = SignupInvitation.objects.get(pk=globex.invitation.pk)
    assert first.revoked_at is not None
    pat = User.objects.get(email="pat@example.com")
    assert members_services.signup_links(pat).working == acme.invitation
    # A new link of Acme's own is allowed too (the account is unused), and replaces Acme's first.
    invitation, _token = members_services.signup_link_create(
        actor=admin_user, team=team, membership=acme.membership
    )
    assert invitation.full_name == "Pat"
    assert members_services.signup_links(pat).working == invitation


def test_only_the_newest_link_works_even_if_an_older_one_was_not_revoked(
    team, admin_user, other_team, outsider
):
    globex = members_services.member_add(
        actor=outsider, team=other_team, email="pat@example.com", full_name="G"
    )
    members_services.member_add(actor=admin_user, team=team, email="pat@example.com", full_name="Pat")
    SignupInvitation.objects.filter(pk=globex.invitation.pk).update(revoked_at=None)
    with pytest.raises(members_services.InvitationInvalid) as error:
        members_services.invitation_accept(token=globex.signup_token, full_name="G", password=GOOD_PASSWORD)
    assert error.value.problem == members_services.InvitationProblem.REVOKED
    assert not User.objects.get(email="pat@example.com").has_usable_password()


def test_an_account_already_used_gets_no_new_link_whoever_made_it(team, admin_user):
    pat = UserFactory(email="pat@example.com", password=make_password(None), last_login=timezone.now())
    membership = MembershipFactory(team=team, user=pat)
    with pytest.raises(members_services.SignupLinkNotAllowed):
        members_services.signup_link_create(actor=admin_user, team=team, membership=membership)


def test_only_admins_make_links(team, admin_user, manager):
    added = members_services.member_add(actor=admin_user, team=team, email="n@example.com", full_name="Nora")
    with pytest.raises(PermissionDenied):
        members_services.signup_link_create(actor=manager, team=team, membership=added.membership)
