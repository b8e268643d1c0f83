from __future__ import annotations

import unicodedata

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials.forms import ApiKeyForm, DisplayNameForm
from credentials.validators import clean_display_name


@given(st.text(max_size=400))
@settings(max_examples=300, deadline=None)
def test_any_text_is_either_a_clean_name_or_a_clear_error(value):
    try:
        name = clean_display_name(value)
    except ValidationError as error:
        assert error.messages[0].startswith("Display name")
        return
    assert name == name.strip()
    assert len(name) <= 100
    assert all(unicodedata.category(c)[0] != "C" for c in name)


@given(st.one_of(st.none(), st.integers(), st.lists(st.text()), st.binary()))
def test_non_text_is_refused(value):
    with pytest.raises(ValidationError):
        clean_display_name(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("a" * 101, "at most 100 characters"),
        ("bad\x00name", "contains a control character"),
        ("tab\there", "contains a control character"),
        ("right\u202eto-left", "contains an invisible character; remove it"),
        ("zero\u200bwidth", "contains an invisible character; remove it"),
    ],
)
def test_refusals_say_why(value, message):
    with pytest.raises(ValidationError) as caught:
        clean_display_name(value)
    assert message in caught.value.messages[0]


def test_markup_is_kept_as_text_and_trimmed():
    assert clean_display_name("  <b>Order</b> & co  ") == "<b>Order</b> & co"


def _cleaned_or_none(value: str, **kwargs) -> str | None:
    try:
        return clean_display_name(value, **kwargs)
    except ValidationError:
        return None


@given(st.text(max_size=500))
@settings(max_examples=200, deadline=None)
def test_forms_never_crash(value):
    # Each form accepts exactly what the validator accepts, and keeps the cleaned name.
    for form, field, expected in (
        (DisplayNameForm({"display_name": value}), "display_name", _cleaned_or_none(value)),
        (
            ApiKeyForm({"platform_name": value}),
            "platform_name",
            _cleaned_or_none(value, required=True, label="Platform name"),
        ),
    ):
        if expected is None:
            assert not form.is_valid()
            assert form.errors[field]
        else:
            assert form.is_valid(), form.errors
            assert form.cleaned_data[field] == expected


def test_platform_name_is_required():
    form = ApiKeyForm({"platform_name": "   "})
    assert not form.is_valid()
    assert "cannot be empty" in form.errors["platform_name"][0]
