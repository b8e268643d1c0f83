"""Team settings > Users: members, roles, Tango API keys permissions and sign-up links.

Every page here is for the current team's admins. The edit, add and remove steps are
full pages that also load, as htmx fragments, into the members page's editor panel.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig

from credentials import permissions
from tango_portal.accounts.sudo import sudo_exempt, sudo_required
from tango_portal.accounts.teams import forbidden, membership_required, switch_team
from tango_portal.core.http import (
    htmx_not_found,
    htmx_target,
    is_htmx,
    no_store,
    redirect_after,
    template_for,
)
from tango_portal.members import selectors as members_selectors
from tango_portal.members import services
from tango_portal.members.forms import MemberAddForm, MemberChangeForm, SignupForm
from tango_portal.members.tables import MemberTable, TeamActivityTable
from tango_portal.models import Membership, SignupInvitation, User

ACTIVITY_PER_PAGE = 25
# Every step (edit, confirm, add, remove) is also an htmx fragment for the members page's
# editor panel. Invalid input answers 422 and a refusal (last admin) 409: base.html's htmx
# responseHandling swaps both in place, where a debug 400 handler would replace the page.
EDITOR = "editor"


# Every page here is for the current team's admins.
members_admin = membership_required(permissions.can_manage_members, "admin")


def _template(request: HttpRequest, name: str, partial: str = EDITOR) -> str:
    return template_for(request, name, partial)


def _actor(request: HttpRequest) -> User:
    # members_admin has already required a signed-in user.
    return cast(User, request.user)


def _lifetime_hours() -> int:
    return int(settings.SIGNUP_LINK_LIFETIME.total_seconds() // 3600)


def _context(membership: Membership, **extra: Any) -> dict[str, Any]:
    return {"membership": membership, "team": membership.team, **extra}


def _member_or_gone(request: HttpRequest, membership: Membership, pk: int) -> Membership | HttpResponse:
    """The team's member `pk`; for htmx, when there is none (removed in another tab, say),
    the Users page afresh with a message saying so.

    Still a 404, as for a plain request, so another team's member and a removed one answer
    alike. The HX-Redirect is what htmx acts on; it loads the list rather than reloading
    the page, which may be the member's own edit page, now a 404 too.
    """
    try:
        return members_selectors.membership_get(team=membership.team, pk=pk)
    except Http404:
        if not is_htmx(request):
            raise
    return htmx_not_found(
        request,
        f"That member is no longer in {membership.team.name}: they were removed, perhaps by "
        "another admin or in another tab. Nothing was changed.",
        load=reverse("members:list"),
    )


# --- The members page ------------------------------------------------------------------


@members_admin
@require_GET
def member_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Members with their role and permission, and the team activity record (newest first)."""
    team = membership.team
    members = members_selectors.members_for_team(team=team)
    members_table = MemberTable(members)
    RequestConfig(request, paginate=False).configure(members_table)
    activity_table = TeamActivityTable(members_selectors.activity_for_team(team=team))
    RequestConfig(request, paginate={"per_page": ACTIVITY_PER_PAGE}).configure(activity_table)
    context = _context(
        membership,
        members_table=members_table,
        activity_table=activity_table,
        member_count=len(members),
        admin_count=sum(1 for m in members if m.is_admin),
    )
    # htmx asks for one of the page's two parts: the members (after the editor changed them)
    # or a page of the activity record.
    part = "members" if htmx_target(request) == "members" else "activity"
    return render(request, _template(request, "tango_portal/members/list.html", part), context)


# --- Adding a member -----------------------------------------------------------------------


@members_admin
@require_http_methods(["GET", "POST"])
@sudo_required
def member_add(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Add a person by email and name. The response shows their one-time sign-up link, the
    same for a new address and one with an account; the link is never stored, so the
    response must not be cached either.
    """
    template = "tango_portal/members/add.html"
    form = MemberAddForm(request.POST if request.method == "POST" else None)
    if request.method == "GET" or not form.is_valid():
        status = HTTPStatus.OK if request.method == "GET" else HTTPStatus.UNPROCESSABLE_ENTITY
        return render(request, _template(request, template), _context(membership, form=form), status=status)
    try:
        added = services.member_add(
            actor=_actor(request),
            team=membership.team,
            email=form.cleaned_data["email"],
            full_name=form.cleaned_data["full_name"],
        )
    except services.MemberError as error:
        form.add_error(None, str(error))
        return render(
            request, _template(request, template), _context(membership, form=form), status=HTTPStatus.CONFLICT
        )
    except PermissionDenied:
        return forbidden(request, membership, "admin")
    response = _signup_link_page(request, membership, added.membership, added.invitation, added.signup_token)
    # The members table behind the panel shows the new member at once.
    response["HX-Trigger"] = "members-changed"
    return response


def _signup_link_page(
    request: HttpRequest,
    membership: Membership,
    member: Membership,
    invitation: SignupInvitation,
    token: str,
) -> HttpResponse:
    signup_url = request.build_absolute_uri(reverse("signup", args=[token]))
    response = render(
        request,
        _template(request, "tango_portal/members/added.html"),
        _context(
            membership,
            member=member,
            # The name this team typed: never the account's own or another team's (issue 1).
            name=invitation.full_name or member.user.email,
            invitation=invitation,
            signup_url=signup_url,
            lifetime_hours=_lifetime_hours(),
        ),
    )
    return no_store(response)


@members_admin
@require_POST
@sudo_required
def member_signup_link(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """A new one-time sign-up link for a member who has not signed up yet."""
    member = _member_or_gone(request, membership, pk)
    if isinstance(member, HttpResponse):
        return member
    try:
        invitation, token = services.signup_link_create(
            actor=_actor(request),
            team=membership.team,
            membership=member,
        )
    except services.MemberError as error:
        messages.error(request, str(error))
        return redirect_after(request, reverse("members:list"))
    except PermissionDenied:
        return forbidden(request, membership, "admin")
    return _signup_link_page(request, membership, member, invitation, token)


# --- Changing a member's role and permission ------------------------------------------------


@members_admin
@require_http_methods(["GET", "POST"])
@sudo_required
def member_edit(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """Edit, confirm, change: a POST without `confirm` shows what will change; with it, changes."""
    member = _member_or_gone(request, membership, pk)
    if isinstance(member, HttpResponse):
        return member
    template = _template(request, "tango_portal/members/edit.html")
    form = MemberChangeForm(request.POST if request.method == "POST" else None, membership=member)
    context = _context(membership, member=member, form=form)
    if request.method == "GET":
        return render(request, template, context)
    if not form.is_valid():
        return render(request, template, context, status=HTTPStatus.UNPROCESSABLE_ENTITY)
    role = form.cleaned_data["role"]
    permission = form.cleaned_data["api_keys_permission"]
    changes = services.membership_changes(member, role=role, api_keys_permission=permission)
    if not changes:
        name = member.user.get_full_name()
        form.add_error(None, f"Nothing to save: {name} already has this role and permission.")
        return render(request, template, context, status=HTTPStatus.UNPROCESSABLE_ENTITY)
    if request.POST.get("confirm") != "yes":
        return render(request, template, {**context, "changes": changes})
    try:
        services.member_change(
            actor=_actor(request),
            team=membership.team,
            membership=member,
            role=role,
            api_keys_permission=permission,
        )
    except services.MemberError as error:
        form.add_error(None, str(error))
        return render(request, template, context, status=HTTPStatus.CONFLICT)
    except PermissionDenied:
        return forbidden(request, membership, "admin")
    messages.success(request, "Saved. " + "; ".join(changes) + ": done. It applies from their next page.")
    if member.pk == membership.pk and role != Membership.Role.ADMIN:
        # They stepped down: the members page is no longer theirs to see.
        return redirect_after(request, reverse("home"))
    return redirect_after(request, reverse("members:list"))


# --- Removing a member ---------------------------------------------------------------------


@members_admin
@require_http_methods(["GET", "POST"])
@sudo_required
def member_remove(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """Confirm, then remove. The confirmation lists what the member created, to rotate."""
    team = membership.team
    member = _member_or_gone(request, membership, pk)
    if isinstance(member, HttpResponse):
        return member
    template = _template(request, "tango_portal/members/remove.html")
    created = members_selectors.credentials_created_by(team=team, user=member.user)
    context = _context(
        membership,
        member=member,
        created=created,
        is_self=member.pk == membership.pk,
        credentials_url=reverse("credentials:index"),
    )
    if request.method == "GET":
        return render(request, template, context)
    try:
        services.member_remove(
            actor=_actor(request),
            team=team,
            membership=member,
        )
    except services.MemberError as error:
        return render(request, template, {**context, "error": str(error)}, status=HTTPStatus.CONFLICT)
    except PermissionDenied:
        return forbidden(request, membership, "admin")
    name = member.user.get_full_name()
    if member.pk == membership.pk:
        messages.success(request, f"You left {team.name}.")
        return redirect_after(request, reverse("home"))
    messages.success(request, f"{name} was removed from {team.name}; they lost access at once.")
    return redirect_after(request, reverse("members:list"))


# --- Signing up with a link ------------------------------------------------------------------

# As Django's PasswordResetConfirmView: the link's first request keeps the link in the
# session under an internal key and redirects to the same address with this placeholder
# instead of the token, so the token leaves the address bar, browser history and the
# access log of every later request (the form, its errors, the sign-in POST).
SIGNUP_URL_TOKEN = "set-password"  # noqa: S105 (a placeholder, not a secret)
# Django keeps the reset token itself; our links are looked up by SHA-256 digest
# (SignupInvitation.token_digest), so the session keeps only the digest: the portal's rule
# "secrets never in sessions" holds, and a session store that leaks gives no usable link.
INTERNAL_SIGNUP_SESSION_KEY = "_signup_token_digest"


def _token_url_headers(response: HttpResponse) -> HttpResponse:
    """For answers at the token's address: no cache keeps them, no Referer carries it onwards.

    Only there: on the form page, `no-referrer` would make browsers send `Origin: null` with
    its POST, which Django's CSRF check refuses; that address holds no token anyway.
    """
    response["Referrer-Policy"] = "no-referrer"
    return no_store(response)


@require_http_methods(["GET", "POST"])
@sudo_exempt("no session yet: the one-time sign-up link is the credential")
def signup(request: HttpRequest, token: str = "") -> HttpResponse:
    """The page a sign-up link opens: set a password and join the team, signed in.

    The link itself (`/accounts/signup/<token>/`) only checks the link, keeps its digest in
    the session and redirects to `/accounts/signup/set-password/`, which shows the form and
    takes its POST. An unknown, used, superseded, revoked or expired link gets a page that
    says so and changes nothing.
    """
    if token != SIGNUP_URL_TOKEN:
        invitation = members_selectors.invitation_for_token(token)
        problem = services.invitation_problem(invitation)
        if problem is not None or invitation is None:
            return _token_url_headers(_signup_invalid(request, problem or services.InvitationProblem.UNKNOWN))
        request.session[INTERNAL_SIGNUP_SESSION_KEY] = invitation.token_digest
        return _token_url_headers(redirect("signup", SIGNUP_URL_TOKEN))
    digest = request.session.get(INTERNAL_SIGNUP_SESSION_KEY, "")
    invitation = members_selectors.invitation_for_digest(digest)
    problem = services.invitation_problem(invitation)
    if problem is not None or invitation is None:
        return _signup_invalid(request, problem or services.InvitationProblem.UNKNOWN)
    # The name the inviting team typed, which the person may correct.
    form = SignupForm(
        request.POST if request.method == "POST" else None,
        user=invitation.user,
        initial={"full_name": invitation.full_name},
    )
    context = {"form": form, "invitation": invitation}
    if request.method == "GET":
        return no_store(render(request, "registration/signup.html", context))
    if not form.is_valid():
        return no_store(
            render(request, "registration/signup.html", context, status=HTTPStatus.UNPROCESSABLE_ENTITY)
        )
    try:
        accepted = services.invitation_accept(
            token_digest=invitation.token_digest,
            full_name=form.cleaned_data["full_name"],
            password=form.cleaned_data["new_password1"],
        )
    except services.InvitationInvalid as error:
        return _signup_invalid(request, error.problem)
    except ValidationError as error:
        form.add_error(None, error)
        return no_store(
            render(request, "registration/signup.html", context, status=HTTPStatus.UNPROCESSABLE_ENTITY)
        )
    request.session.pop(INTERNAL_SIGNUP_SESSION_KEY, None)
    login(request, accepted.user, backend="django.contrib.auth.backends.ModelBackend")
    switch_team(request, accepted.team.pk)
    messages.success(request, f"Welcome to {accepted.team.name}. Your account is ready.")
    return redirect("home")


def _signup_invalid(request: HttpRequest, problem: services.InvitationProblem) -> HttpResponse:
    request.session.pop(INTERNAL_SIGNUP_SESSION_KEY, None)
    unknown = problem == services.InvitationProblem.UNKNOWN
    status = HTTPStatus.NOT_FOUND if unknown else HTTPStatus.GONE
    context = {"problem": problem.value, "lifetime_hours": _lifetime_hours()}
    response = render(request, "registration/signup_invalid.html", context, status=status)
    return no_store(response)
