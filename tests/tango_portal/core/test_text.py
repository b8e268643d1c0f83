"""Names may hold emoji sequences, but no control or invisible character, and say so plainly."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from credentials.validators import clean_display_name
from tango_portal.members.services import clean_full_name


@pytest.mark.parametrize(
    "name",
    [
        "👩\u200d💻 Dev laptop",  # woman technologist: a joiner between two pictographs
        "🏳\ufe0f\u200d🌈 Pride",  # a variation selector, then the joiner
        "👍🏽 thumbs",  # a skin tone
        "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f Scotland",  # tag letters
        "1\ufe0f\u20e3 keycap",
        "Order server <b>",
    ],
)
def test_emoji_sequences_are_fine(name):
    assert clean_display_name(name) == name
    assert clean_full_name(name) == name


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("dev\u200dlaptop", "contains an invisible character; remove it"),  # a joiner between letters
        ("\u200d💻 laptop", "contains an invisible character; remove it"),  # nothing to join before
        ("zero\u200bwidth", "contains an invisible character; remove it"),
        ("evil\u202eexe.txt", "contains an invisible character; remove it"),  # right-to-left override
        ("\U000e0067 tag alone", "contains an invisible character; remove it"),
        ("tab\tname", "contains a control character (such as a line break or a tab); remove it"),
        ("line\nbreak", "contains a control character"),
    ],
)
def test_other_hidden_characters_are_refused_in_plain_words(name, message):
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        clean_display_name(name)
    with pytest.raises(ValidationError, match="The name contains"):
        clean_full_name(name)
    with pytest.raises(ValidationError) as refused:
        clean_display_name(name)
    assert "U+" not in str(refused.value)
