"""One credential per form: a resubmitted create form opens what it made the first time.

Every form that makes a credential carries a random key (credentials.forms.CreateOnceForm).
The session maps each key that made something to that credential, by type; a POST with a
key it knows makes nothing and goes to the credential instead, saying that its secret was
shown once. The session never holds a secret, only the credential's type and id.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse

from credentials.forms import CreateOnceForm
from credentials.views import reveal
from tango_portal.core.http import redirect_after

SESSION_KEY = "create_keys"
MAX_REMEMBERED = 20


def made_before(request: HttpRequest, form: CreateOnceForm, kind: str) -> int | None:
    """The id of the `kind` credential this valid form's key made before, if any."""
    key = form.cleaned_data["create_key"]
    made = request.session.get(SESSION_KEY, {}).get(key) if key else None
    if isinstance(made, list) and len(made) == 2 and made[0] == kind and isinstance(made[1], int):
        return made[1]
    return None


def remember(request: HttpRequest, form: CreateOnceForm, kind: str, pk: int) -> None:
    """Note that this form's key made the `kind` credential `pk`."""
    if not (key := form.cleaned_data["create_key"]):
        return
    keys = dict(request.session.get(SESSION_KEY, {}))
    keys[key] = [kind, pk]
    # Dicts keep insertion order: drop the oldest keys.
    request.session[SESSION_KEY] = dict(list(keys.items())[-MAX_REMEMBERED:])


def already_made(request: HttpRequest, gone: reveal.Gone, url: str) -> HttpResponse:
    """A resubmitted form: nothing new, and the page of what it made the first time."""
    messages.warning(
        request,
        f"This form was already sent, so nothing new was made. The {gone.what} it made was "
        f"shown only once and cannot be shown again. If you did not save it, {gone.if_lost}.",
    )
    return redirect_after(request, url)
