from __future__ import annotations

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


class DisplayNameForm(forms.Form):
    """Display name of a service account or client credentials: optional, trimmed, plain text."""

    display_name = _name_field(
        "Display name",
        required=False,
        help_text=f"Optional; up to {DISPLAY_NAME_MAX_LENGTH} characters, to tell credentials apart.",
    )

    def clean_display_name(self) -> str:
        return clean_display_name(self.cleaned_data.get("display_name", ""))


class ApiKeyForm(forms.Form):
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
    """An explicit confirmation for an irreversible action."""

    confirm = forms.BooleanField(
        required=True,
        error_messages={"required": "Tick the box to confirm; this cannot be undone."},
    )

    def __init__(self, *args: Any, label: str = "I understand this cannot be undone", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["confirm"].label = label
