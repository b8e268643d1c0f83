"""OAuth service accounts: list, create (password shown once), detail, rename, delete.

The password is shown by the one-time reveal page the create POST redirects to
(credentials.views.reveal).

Every page works as plain links and forms; htmx only swaps fragments of the same
templates (`template.html#partial`) when the request comes from htmx.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.middleware import HtmxDetails
from django_tables2 import RequestConfig

from credentials import permissions, selectors, services
from credentials.forms import ConfirmForm, DisplayNameForm, NewDisplayNameForm
from credentials.models import ServiceAccount
from credentials.tables.service_accounts import ServiceAccountTable
from credentials.views import once, reveal
from credentials.views.common import credentials_view, page_context
from credentials.views.lifecycle import due_since, last_use
from tango_portal.accounts.sudo import sudo_exempt, sudo_required
from tango_portal.core.http import client_ip, is_htmx, redirect_after, template_for
from tango_portal.models import Membership

app_name = "service_accounts"

SECTION_PER_PAGE = 10
LIST_PER_PAGE = 25
HISTORY_LIMIT = 50
# The detail page's summary section; a rename posted from there gets it back.
SUMMARY_TARGET = "sa-summary"
DELETE_CONFIRM_LABEL = "I understand that deleting this service account cannot be undone"


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def _htmx(request: HttpRequest) -> HtmxDetails:
    """What HtmxMiddleware learnt of the request, for its target and whether it is boosted."""
    return cast(HtmxHttpRequest, request).htmx


def _list_context(request: HttpRequest, membership: Membership, per_page: int) -> dict[str, Any]:
    team = membership.team
    table = ServiceAccountTable(selectors.service_accounts_active(team=team), team=team)
    RequestConfig(request, paginate={"per_page": per_page}).configure(table)
    return {
        "sa_table": table,
        "sa_oauth_enabled": team.oauth_enabled,
        "sa_can_create": permissions.can_manage_credentials(membership) and team.oauth_enabled,
    }


def section_context(request: HttpRequest, membership: Membership) -> dict[str, Any]:
    """Context for this section of the API credentials page."""
    return _list_context(request, membership, SECTION_PER_PAGE)


@require_GET
@credentials_view("view")
def service_account_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    context = page_context(membership, **_list_context(request, membership, LIST_PER_PAGE))
    return render(request, template_for(request, "credentials/service_accounts/list.html", "table"), context)


REVEAL_GONE = reveal.Gone(
    what="password",
    if_lost="create a new service account, switch your servers to it, and delete this one",
    link_label="Open the service account",
)


def _create_page(
    request: HttpRequest,
    membership: Membership,
    form: NewDisplayNameForm,
    *,
    error: str = "",
    status: int = HTTPStatus.OK,
) -> HttpResponse:
    context = page_context(
        membership,
        form=form,
        error=error,
        sa_oauth_enabled=membership.team.oauth_enabled,
    )
    return render(request, "credentials/service_accounts/create.html", context, status=status)


def _already_created(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """A resubmitted create form: the account made the first time, if it is still there."""
    url = (
        reverse("credentials:service_accounts:detail", kwargs={"pk": pk})
        if selectors.service_accounts_active(team=membership.team).filter(pk=pk).exists()
        else reverse("credentials:index") + "#service-accounts"
    )
    return once.already_made(request, REVEAL_GONE, url)


@require_http_methods(["GET", "POST"])
@credentials_view("manage")
@sudo_required
def service_account_create(request: HttpRequest, membership: Membership) -> HttpResponse:
    """GET: the create form. POST: create, then redirect (303) to the page that shows the
    password once, so that Back or reload never asks to resubmit the form.
    """
    if request.method == "GET":
        return _create_page(request, membership, NewDisplayNameForm())
    form = NewDisplayNameForm(request.POST)
    if not form.is_valid():
        return _create_page(request, membership, form, status=HTTPStatus.UNPROCESSABLE_ENTITY)
    if (pk := once.made_before(request, form, app_name)) is not None:
        return _already_created(request, membership, pk)
    try:
        # The account and the one hold of its password commit together: no account is
        # left whose password nobody can ever see.
        with transaction.atomic():
            account, password = services.service_account_create(
                actor=membership.user,
                team=membership.team,
                display_name=form.cleaned_data["display_name"],
                ip_address=client_ip(request),
            )
            response = reveal.redirect_to_reveal(
                request, membership, account, password, url_name="credentials:service_accounts:reveal"
            )
    except services.CredentialError as error:
        return _create_page(request, membership, form, error=str(error), status=HTTPStatus.CONFLICT)
    once.remember(request, form, app_name, account.pk)
    return response


@require_GET
@credentials_view("manage")
def service_account_reveal(request: HttpRequest, membership: Membership, pk: int, token: str) -> HttpResponse:
    """The new account's password, to its creator, once (no-store); 410 ever after.

    Named on the create page: nothing on this page can fail and take the password away.
    """
    account = selectors.service_account_get(team=membership.team, pk=pk, include_deleted=True)

    def show(password: str) -> HttpResponse:
        context = page_context(membership, account=account, password=password)
        return render(request, "credentials/service_accounts/created.html", context)

    return reveal.reveal(
        request,
        membership,
        account,
        token,
        show=show,
        gone=REVEAL_GONE,
        credential_url=reverse("credentials:service_accounts:detail", kwargs={"pk": account.pk}),
    )


def _detail_context(
    membership: Membership,
    account: ServiceAccount,
    rename_form: DisplayNameForm | None = None,
    **extra: Any,
) -> dict[str, Any]:
    history_rows = list(
        selectors.history_for_credential(team=membership.team, identifier=account.username)[:HISTORY_LIMIT]
    )
    return page_context(
        membership,
        account=account,
        deletion=selectors.service_account_deletion(account=account),
        due_since=due_since(membership.team, account),
        evidence=selectors.usage_evidence(account),
        leak_reports=selectors.open_leak_reports(account),
        history_rows=history_rows,
        history_limit=HISTORY_LIMIT,
        rename_form=rename_form or DisplayNameForm(initial={"display_name": account.display_name}),
        rename_target=SUMMARY_TARGET,
        **extra,
    )


@require_GET
@credentials_view("view")
def service_account_detail(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """The account and its own history. A full page view records `viewed`.

    An htmx request for the history panel comes from the page already open (and
    recorded), so it records nothing. A boosted request is a whole page, so it does.
    A deleted account's page says when and by whom, and records nothing: there is
    nothing left to see but its history.
    """
    team = membership.team
    account = selectors.service_account_get(team=team, pk=pk, include_deleted=True)
    template = "credentials/service_accounts/detail.html"
    htmx = _htmx(request)
    history_only = bool(htmx) and not htmx.boosted
    if not history_only and not account.is_deleted:
        services.service_account_view(
            actor=membership.user, team=team, account=account, ip_address=client_ip(request)
        )
    template = f"{template}#history" if history_only else template
    return render(request, template, _detail_context(membership, account))


def _rename_response(
    request: HttpRequest,
    membership: Membership,
    account: ServiceAccount,
    form: DisplayNameForm,
    *,
    saved: bool = False,
    error: str = "",
    status: int = HTTPStatus.OK,
) -> HttpResponse:
    htmx = _htmx(request)
    if htmx and htmx.target == SUMMARY_TARGET:
        context = _detail_context(membership, account, rename_form=form, saved=saved, error=error)
        return render(request, "credentials/service_accounts/detail.html#summary", context, status=status)
    context = page_context(
        membership,
        account=account,
        deletion=selectors.service_account_deletion(account=account),
        rename_form=form,
        saved=saved,
        error=error,
    )
    template = template_for(request, "credentials/service_accounts/rename.html", "rename-form")
    return render(request, template, context, status=status)


@require_http_methods(["GET", "POST"])
@credentials_view("manage")
@sudo_exempt("a new display name: no secret, access or permission changes")
def service_account_rename(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """Save the display name (trimmed, at most 100 characters, no control characters).

    A deleted account (say, from another tab) cannot be renamed: the page says when
    and by whom it was deleted, in place of the form; a POST changes nothing (409).
    """
    team = membership.team
    account = selectors.service_account_get(team=team, pk=pk, include_deleted=True)
    if request.method == "GET":
        form = DisplayNameForm(initial={"display_name": account.display_name})
        return _rename_response(request, membership, account, form)
    form = DisplayNameForm(request.POST)
    if account.is_deleted:
        return _rename_response(request, membership, account, form, status=HTTPStatus.CONFLICT)
    if not form.is_valid():
        return _rename_response(request, membership, account, form, status=HTTPStatus.UNPROCESSABLE_ENTITY)
    try:
        account = services.service_account_rename(
            actor=membership.user,
            team=team,
            account=account,
            display_name=form.cleaned_data["display_name"],
            ip_address=client_ip(request),
        )
    except services.AlreadyDeleted:
        account = selectors.service_account_get(team=team, pk=pk, include_deleted=True)
        return _rename_response(request, membership, account, form, status=HTTPStatus.CONFLICT)
    except ValidationError as error:
        form.add_error("display_name", error)
        return _rename_response(request, membership, account, form, status=HTTPStatus.UNPROCESSABLE_ENTITY)
    if not is_htmx(request):
        name = account.display_name
        messages.success(request, f"Display name saved: “{name}”." if name else "Display name removed.")
        return redirect("credentials:service_accounts:detail", pk=account.pk)
    form = DisplayNameForm(initial={"display_name": account.display_name})
    response = _rename_response(request, membership, account, form, saved=True)
    # The detail page's history panel listens for this and refreshes itself.
    response["HX-Trigger"] = "service-account-changed"
    return response


def _delete_page(
    request: HttpRequest,
    membership: Membership,
    account: ServiceAccount,
    form: ConfirmForm,
    use: dict[str, Any],
    *,
    status: int = HTTPStatus.OK,
) -> HttpResponse:
    context = page_context(
        membership,
        account=account,
        deletion=selectors.service_account_deletion(account=account),
        form=form,
        **use,
    )
    template = template_for(request, "credentials/service_accounts/delete.html", "confirm")
    return render(request, template, context, status=status)


@require_http_methods(["GET", "POST"])
@credentials_view("manage")
@sudo_required
def service_account_delete(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """GET: the confirmation page (never deletes). POST with the box ticked: delete for good.

    The page says when the account was last used; used in the last 7 days, the form also
    asks for its name, typed out. An account that is already deleted gets a page saying
    when and by whom; posting for it changes nothing (409).
    """
    team = membership.team
    account = selectors.service_account_get(team=team, pk=pk, include_deleted=True)
    # Read before the POST is checked: a use since the page was shown asks for the name.
    use = last_use(account, live=not account.is_deleted)
    data = request.POST if request.method == "POST" else None
    form = ConfirmForm(data, label=DELETE_CONFIRM_LABEL, typed_name=use["typed_name"])
    if request.method == "GET":
        return _delete_page(request, membership, account, form, use)
    if account.is_deleted:
        return _delete_page(request, membership, account, form, use, status=HTTPStatus.CONFLICT)
    if not form.is_valid():
        return _delete_page(request, membership, account, form, use, status=HTTPStatus.UNPROCESSABLE_ENTITY)
    try:
        account = services.service_account_delete(
            actor=membership.user, team=team, account=account, ip_address=client_ip(request)
        )
    except services.AlreadyDeleted:
        account = selectors.service_account_get(team=team, pk=pk, include_deleted=True)
        use = last_use(account, live=False)
        return _delete_page(request, membership, account, form, use, status=HTTPStatus.CONFLICT)
    messages.success(
        request,
        f"Service account {account.username} was deleted. Tokens issued to it no longer work; "
        "your client credentials stay valid.",
    )
    return redirect_after(request, reverse("credentials:index") + "#service-accounts")


urlpatterns = [
    path("", service_account_list, name="list"),
    path("create/", service_account_create, name="create"),
    path("<int:pk>/", service_account_detail, name="detail"),
    path("<int:pk>/reveal/<str:token>/", service_account_reveal, name="reveal"),
    path("<int:pk>/rename/", service_account_rename, name="rename"),
    path("<int:pk>/delete/", service_account_delete, name="delete"),
]
