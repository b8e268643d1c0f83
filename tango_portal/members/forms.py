from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation

from tango_portal.members import services
from tango_portal.models import Membership, User


def _full_name_field(*, label: str, autocomplete: str, required: str, help_text: str = "") -> forms.CharField:
    """A person's name; each form's clean_full_name applies services.clean_full_name."""
    return forms.CharField(
        label=label,
        error_messages={"required": required},
        strip=False,
        # Longer input reaches the cleaner and gets its clear message rather than being cut.
        # (This max_length is also the input's maxlength.)
        max_length=services.FULL_NAME_MAX_LENGTH * 4,
        widget=forms.TextInput(attrs={"autocomplete": autocomplete}),
        help_text=help_text,
    )


class MemberAddForm(forms.Form):
    email = forms.CharField(
        label="Email address",
        max_length=254,
        error_messages={"required": "Enter the person's email address."},
        widget=forms.EmailInput(attrs={"autocomplete": "off", "maxlength": 254}),
    )
    full_name = _full_name_field(
        label="Name",
        autocomplete="off",
        required="Enter the person's name.",
        help_text="Used only if they do not have a Tango Portal account yet.",
    )

    def clean_email(self) -> str:
        return services.clean_email(self.cleaned_data.get("email", ""))

    def clean_full_name(self) -> str:
        return services.clean_full_name(self.cleaned_data.get("full_name", ""))


class MemberChangeForm(forms.Form):
    """A member's role and Tango API keys permission, starting from what they have now."""

    role = forms.ChoiceField(
        label="Role",
        choices=Membership.Role.choices,
        help_text="Admins manage members, roles and permissions on this page.",
    )
    api_keys_permission = forms.ChoiceField(
        label="Tango API keys",
        choices=Membership.ApiKeysPermission.choices,
        help_text="View: see credentials and their history. Manage: also create, rotate and delete them.",
    )

    def __init__(self, *args: Any, membership: Membership, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial", {"role": membership.role, "api_keys_permission": membership.api_keys_permission}
        )
        super().__init__(*args, **kwargs)
        self.membership = membership


class SignupForm(forms.Form):
    """Set a name and a password for an account made by an admin; Django's password validators apply."""

    full_name = _full_name_field(label="Your name", autocomplete="name", required="Enter your name.")
    new_password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    new_password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"full_name": user.full_name})
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_full_name(self) -> str:
        return services.clean_full_name(self.cleaned_data.get("full_name", ""))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password1 = cleaned.get("new_password1")
        password2 = cleaned.get("new_password2")
        # Every problem at once: a mismatch and a weak password are both said in one round.
        if password1 and password2 and password1 != password2:
            self.add_error("new_password2", "The two passwords do not match.")
        if password1:
            # Validate against the name they are choosing, not the one the admin typed.
            probe = User(email=self.user.email, full_name=cleaned.get("full_name") or self.user.full_name)
            try:
                password_validation.validate_password(password1, probe)
            except forms.ValidationError as error:
                self.add_error("new_password1", error)
        return cleaned
