"""The pages API keys and client credentials share: the full list, generate, deactivate.

Both types go through these pages the same way, so the views are written once; each
type describes itself in a `CredentialPages` (its services, selectors, forms and words)
and mounts the views with `CredentialPages.urls()`. Every page renders whole, or only
its `{% partialdef %}` when htmx asks.

What an irreversible confirmation says of a credential's last use (`last_use`) and whether
a credential is due for rotation (`due_since`) are here too: service accounts' delete and
detail pages use them as well.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_GET, require_http_methods
from django_tables2 import Table

from credentials import policy, selectors, services
from credentials.forms import ConfirmForm, CreateOnceForm
from credentials.models import ApiKey, OAuthClient, ServiceAccount
from credentials.views import once, reveal
from credentials.views.common import credentials_view, page_context
from tango_portal.accounts.sudo import sudo_required
from tango_portal.core.http import client_ip, redirect_after, template_for
from tango_portal.models import Membership, Team

# A write of credentials/services.py. The pages pass what every call shares (actor,
# team and the caller's address) and the credential or form fields as keywords.
Service = Callable[..., Any]


def _no_more_context(membership: Membership, credential: Any) -> Mapping[str, Any]:
    return {}


# A credential last used this recently is asked for by name before it is deactivated or
# deleted (selectors.UsageEvidence.used_within's words).
ASK_NAME_WITHIN = frozenset({"24 hours", "7 days"})


def due_since(team: Team, credential: OAuthClient | ServiceAccount | ApiKey) -> datetime | None:
    """When a live `credential` became due for rotation under its team's policy; None if it is not due."""
    live = not credential.is_deleted if isinstance(credential, ServiceAccount) else credential.is_active
    return policy.due_at(team, credential) if live and policy.is_due(team, credential) else None


def last_use(credential: OAuthClient | ServiceAccount | ApiKey, *, live: bool) -> dict[str, Any]:
    """What a confirmation says of `credential`'s use: the evidence, how recent the last use
    was (`used_within`) and whether the form asks for the name (`asks_name`, only while it
    is `live`) and which one (`typed_name`, what history calls it)."""
    evidence = selectors.usage_evidence(credential)
    used_within = evidence.used_within()
    asks_name = live and used_within in ASK_NAME_WITHIN
    return {
        "evidence": evidence,
        "used_within": used_within,
        "asks_name": asks_name,
        "typed_name": services.describe(credential)[1] if asks_name else None,
    }


@dataclass(frozen=True, kw_only=True)
class CredentialPages[C: (OAuthClient, ApiKey)]:
    """One type of secret-bearing credential, as the shared pages need to know it.

    `app` is its URL namespace (credentials:<app>:list, :generate, :reveal, :deactivate; the
    type's own module adds :detail, which `credential_url` names) and its
    template folder: credentials/<app>/list.html, generate.html, created.html and
    deactivate.html, whose partials (`list_partial`, then generate, created and confirm)
    answer htmx. `name` is what those templates call one credential, and the keyword its
    services take it by.
    """

    app: str
    name: str
    # Generating: `create` returns (credential, secret) and takes the form's fields as
    # its keywords; `shown` is the created page's context of the two, which the one-time
    # reveal page renders. `gone` is what that page says once it was shown, with a link
    # to `credential_url`.
    create: Service
    shown: Callable[[C, str], Mapping[str, Any]]
    gone: reveal.Gone
    credential_url: Callable[[C], str]
    form: Callable[[QueryDict | None], CreateOnceForm]
    active: Callable[..., QuerySet[C]]
    max_active: int
    # Deactivating: what the page adds is read after the attempt, so a refusal shows it current.
    get: Callable[..., C]
    deactivate: Service
    deactivated_message: Callable[[C], str]
    confirm_label: str
    deactivate_context: Callable[[Membership, C], Mapping[str, Any]] = _no_more_context
    # Listing: the type's section of the API credentials page, then its deactivated ones.
    section: Callable[[HttpRequest, Membership], Mapping[str, Any]]
    deactivated: Callable[[Team], Table]
    list_partial: str

    def urls(self) -> list[URLPattern]:
        """The four shared pages, under the URL names the templates reverse."""
        kwargs = {"pages": self}
        return [
            path("", list_view, kwargs, name="list"),
            path("generate/", generate_view, kwargs, name="generate"),
            path("<int:pk>/reveal/<str:token>/", reveal_view, kwargs, name="reveal"),
            path("<int:pk>/deactivate/", deactivate_view, kwargs, name="deactivate"),
        ]

    def render(
        self,
        request: HttpRequest,
        page: str,
        partial: str,
        context: dict[str, Any],
        status: int = HTTPStatus.OK,
    ) -> HttpResponse:
        """credentials/<app>/<page>.html, or only its `partial` when htmx asks."""
        return render(
            request,
            template_for(request, f"credentials/{self.app}/{page}.html", partial),
            context,
            status=status,
        )


def _submit(
    request: HttpRequest,
    form: forms.Form,
    action: Callable[[dict[str, Any]], Any],
    refused: type[services.CredentialError],
) -> tuple[Any, str, HTTPStatus]:
    """Run `action` with the cleaned data of a valid POST of `form`.

    Returns its result, or None with what the form page says again and its status:
    nothing on a GET (200), the form's own errors (422), or why the service refused,
    which means nothing changed (409). htmx swaps both in place (base.html's
    responseHandling); no debug handler takes them over.
    """
    if request.method != "POST":
        return None, "", HTTPStatus.OK
    if not form.is_valid():
        return None, "", HTTPStatus.UNPROCESSABLE_ENTITY
    try:
        return action(form.cleaned_data), "", HTTPStatus.OK
    except refused as exc:
        return None, str(exc), HTTPStatus.CONFLICT


def _as_actor(request: HttpRequest, membership: Membership, service: Service, **arguments: Any) -> Any:
    return service(actor=membership.user, team=membership.team, ip_address=client_ip(request), **arguments)


def _posted(request: HttpRequest) -> QueryDict | None:
    return request.POST if request.method == "POST" else None


@require_GET
@credentials_view("view")
def list_view(request: HttpRequest, membership: Membership, pages: CredentialPages[Any]) -> HttpResponse:
    """Every credential of the type: the active ones (its section), then the deactivated ones."""
    context = page_context(
        membership,
        on_list_page=True,
        deactivated_table=pages.deactivated(membership.team),
        **pages.section(request, membership),
    )
    return pages.render(request, "list", pages.list_partial, context)


@require_http_methods(["GET", "POST"])
@credentials_view("manage")
@sudo_required
# The credential and the one hold of its secret commit together, or neither does.
@transaction.atomic
def generate_view(request: HttpRequest, membership: Membership, pages: CredentialPages[Any]) -> HttpResponse:
    """GET: the form. POST: generate a credential, then redirect to the page that shows its
    secret once (credentials.views.reveal), so that Back or reload never resubmits the form.

    An htmx POST (the form in the API keys section) is told to load that page whole. A
    refusal (OAuth not enabled, the most allowed already active) creates nothing: the form
    again, with why, as a 409. The same form sent again (reload, Back) makes nothing and
    goes to what it made the first time.
    """
    form = pages.form(_posted(request))
    if form.is_valid() and (pk := once.made_before(request, form, pages.app)) is not None:
        made = pages.get(team=membership.team, pk=pk, include_deactivated=True)
        return once.already_made(request, pages.gone, pages.credential_url(made))
    created, error, status = _submit(
        request,
        form,
        lambda _: _as_actor(request, membership, pages.create, **form.credential_fields),
        services.CredentialError,
    )
    if created is not None:
        credential, secret = created
        once.remember(request, form, pages.app, credential.pk)
        return reveal.redirect_to_reveal(
            request, membership, credential, secret, url_name=f"credentials:{pages.app}:reveal"
        )
    active_count = pages.active(team=membership.team).count()
    context = page_context(
        membership,
        form=form,
        error=error,
        active_count=active_count,
        limit_reached=active_count >= pages.max_active,
        max_active=pages.max_active,
    )
    return pages.render(request, "generate", "generate", context, status)


@require_GET
@credentials_view("manage")
def reveal_view(
    request: HttpRequest, membership: Membership, pk: int, token: str, pages: CredentialPages[Any]
) -> HttpResponse:
    """The new credential's secret, to its creator, once (no-store); 410 ever after.

    The successor of a rotation goes on to the rotation's page from here.
    """
    credential = pages.get(team=membership.team, pk=pk, include_deactivated=True)

    def show(secret: str) -> HttpResponse:
        context = page_context(
            membership, rotation=selectors.open_rotation(credential), **pages.shown(credential, secret)
        )
        return pages.render(request, "created", "created", context)

    return reveal.reveal(
        request,
        membership,
        credential,
        token,
        show=show,
        gone=pages.gone,
        credential_url=pages.credential_url(credential),
    )


@require_http_methods(["GET", "POST"])
@credentials_view("manage")
@sudo_required
def deactivate_view(
    request: HttpRequest, membership: Membership, pk: int, pages: CredentialPages[Any]
) -> HttpResponse:
    """GET asks for confirmation and never deactivates; POST with the box ticked does.

    The page says when the credential was last used; used in the last 7 days, the form
    also asks for its name, typed out. Already deactivated (say, from another tab): the
    page again, with why, as a 409.
    """
    credential = pages.get(team=membership.team, pk=pk, include_deactivated=True)
    # Read before the POST is checked: a use since the page was shown asks for the name.
    use = last_use(credential, live=credential.is_active)
    form = ConfirmForm(_posted(request), label=pages.confirm_label, typed_name=use["typed_name"])
    deactivated, error, status = _submit(
        request,
        form,
        lambda _: _as_actor(request, membership, pages.deactivate, **{pages.name: credential}),
        services.AlreadyDeleted,
    )
    if deactivated is not None:
        messages.success(request, pages.deactivated_message(credential))
        return redirect_after(request, reverse(f"credentials:{pages.app}:list"))
    context = page_context(
        membership,
        form=form,
        error=error,
        **use,
        **{pages.name: credential},
        **pages.deactivate_context(membership, credential),
    )
    return pages.render(request, "deactivate", "confirm", context, status)
