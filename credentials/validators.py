from __future__ import annotations

from django.core.exceptions import ValidationError

from tango_portal.core.text import check_visible

DISPLAY_NAME_MAX_LENGTH = 100


def clean_display_name(value: object, *, required: bool = False, label: str = "Display name") -> str:
    """Trim a display name and refuse what cannot be shown safely.

    Markup is allowed (templates escape it); control and invisible formatting
    characters are refused because they can disguise one name as another.
    """
    if not isinstance(value, str):
        raise ValidationError(f"{label} must be text.", code="invalid")
    name = value.strip()
    if required and not name:
        raise ValidationError(f"{label} cannot be empty.", code="required")
    if len(name) > DISPLAY_NAME_MAX_LENGTH:
        raise ValidationError(
            f"{label} can be at most {DISPLAY_NAME_MAX_LENGTH} characters (it has {len(name)}).",
            code="max_length",
        )
    check_visible(name, label)
    return name
