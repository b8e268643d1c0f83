from __future__ import annotations

from typing import Any

from django import forms

from credentials.validators import DISPLAY_NAME_MAX_LENGTH, clean_display_name


class DisplayNameForm(forms.Form):
    """Display name of a service account or client credentials: optional, trimmed, plain text."""

    display_name = forms.CharField(
        label="Display name",
        required=False,
        strip=False,
        # Longer input reaches clean() and gets the clear message rather than being cut.
        max_length=DISPLAY_NAME_MAX_LENGTH * 4,
        widget=forms.TextInput(attrs={"maxlength": DISPLAY_NAME_MAX_LENGTH, "autocomplete": "off"}),
        help_text=f"Optional; up to {DISPLAY_NAME_MAX_LENGTH} characters, to tell credentials apart.",
    )

    def clean_display_name(self) -> str:
        return clean_display_name(self.cleaned_data.get("display_name", ""))


class ApiKeyForm(forms.Form):
    platform_name = forms.CharField(
        label="Platform name",
        strip=False,
        max_length=DISPLAY_NAME_MAX_LENGTH * 4,
        widget=forms.TextInput(attrs={"maxlength": DISPLAY_NAME_MAX_LENGTH, "autocomplete": "off"}),
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
