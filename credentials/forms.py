from __future__ import annotations

import re
import uuid
from typing import Any

from django import forms

from credentials.validators import DISPLAY_NAME_MAX_LENGTH, clean_display_name


def _name_field(label: str, *, required: bool, help_text: str, **kwargs: Any) -> forms.CharField:
    """A short name of a credential, limited to its model column.

    The field's `max_length` is what Django renders as the input's `maxlength`, so the
    browser's limit and the server's are one number.
    """
    return forms.CharField(
        label=label,
        required=required,
        strip=False,
        max_length=DISPLAY_NAME_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text=help_text,
        error_messages={
            "max_length": f"{label} can be at most %(limit_value)d characters (it has %(show_value)d).",
            **kwargs.pop("error_messages", {}),
        },
        **kwargs,
    )


# The longest name a confirmation asks for: a display name, username, client ID or platform name.
TYPED_NAME_MAX_LENGTH = 200
CREATE_KEY_PATTERN = re.compile(r"[0-9a-f]{32}")


def _new_create_key() -> str:
    return uuid.uuid4().hex


class CreateOnceForm(forms.Form):
    """A form that makes a credential, and with it a secret shown once.

    Each rendering carries a fresh random `create_key`, so that a reload or a
    back-and-resubmit of the POST is known for what it is (credentials.views.once) and does
    not make a second credential. A key that is not one the portal made counts as none.
    """

    create_key = forms.CharField(widget=forms.HiddenInput, required=False, initial=_new_create_key)

    def clean_create_key(self) -> str:
        key = self.cleaned_data.get("create_key", "")
        return key if CREATE_KEY_PATTERN.fullmatch(key) else ""

    @property
    def credential_fields(self) -> dict[str, Any]:
        """The cleaned fields that describe the credential (what its service takes)."""
        return {name: value for name, value in self.cleaned_data.items() if name != "create_key"}


class DisplayNameForm(forms.Form):
    """Display name of a service account or client credentials: optional, trimmed, plain text."""

    display_name = _name_field(
        "Display name",
        required=False,
        help_text=f"Optional; up to {DISPLAY_NAME_MAX_LENGTH} characters, to tell credentials apart.",
    )

    def clean_display_name(self) -> str:
        return clean_display_name(self.cleaned_data.get("display_name", ""))


class NewDisplayNameForm(CreateOnceForm, DisplayNameForm):
    """The display name of a service account or client credentials about to be made."""


class ApiKeyForm(CreateOnceForm):
    platform_name = _name_field(
        "Platform name",
        required=True,
        help_text="The system that will use this key, for example “Order server”.",
        error_messages={"required": "Platform name cannot be empty."},
    )

    def clean_platform_name(self) -> str:
        return clean_display_name(
            self.cleaned_data.get("platform_name", ""), required=True, label="Platform name"
        )


class ConfirmForm(forms.Form):
    """An explicit confirmation for an irreversible action.

    Given `typed_name`, the form also asks for that name to be typed out (a credential used
    in the last few days, say): required, and it must match exactly once trimmed. Without
    it the form has no such field, and posting one changes nothing.
    """

    confirm = forms.BooleanField(
        required=True,
        error_messages={"required": "Tick the box to confirm; this cannot be undone."},
    )
    typed_name = forms.CharField(
        required=False,
        max_length=TYPED_NAME_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "off"}),
    )

    def __init__(
        self,
        *args: Any,
        label: str = "I understand this cannot be undone",
        typed_name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.fields["confirm"].label = label
        self.expected_name = typed_name
        if typed_name is None:
            del self.fields["typed_name"]
            return
        field = self.fields["typed_name"]
        field.required = True
        field.label = f"Type “{typed_name}” to confirm"
        field.help_text = "Exactly as shown, to be sure this is the one you mean."
        field.error_messages["required"] = f"Type the name “{typed_name}” to confirm."

    def clean_typed_name(self) -> str:
        typed: str = self.cleaned_data.get("typed_name", "")
        if typed != (self.expected_name or "").strip():
            raise forms.ValidationError(
                f"The name you typed does not match. Type “{self.expected_name}” exactly, as shown.",
                code="mismatch",
            )
        return typed
