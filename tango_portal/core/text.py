"""Names people type: what may be in them, said in words a person understands."""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError

# Unicode categories that show nothing, or something else than they are: controls (a line
# break, an escape), formatting (zero-width spaces, direction overrides), surrogates,
# private use and unassigned code points. They can disguise one name as another.
HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
ZERO_WIDTH_JOINER = "\u200d"
# Inside an emoji sequence (👩‍💻, 🏳️‍🌈): pictographs, their skin tones, the emoji variation
# selector and the keycap mark.
_EMOJI_CATEGORIES = frozenset({"So", "Sk"})
_EMOJI_MARKS = frozenset({"\ufe0f", "\u20e3"})
# A subdivision flag (🏴󠁧󠁢󠁳󠁣󠁴󠁿) is the black flag, tag letters and a cancel tag.
_BLACK_FLAG = "\U0001f3f4"
_TAGS = range(0xE0020, 0xE0080)


def _emoji_part(char: str) -> bool:
    return char in _EMOJI_MARKS or unicodedata.category(char) in _EMOJI_CATEGORIES


def _allowed_in_sequence(name: str, index: int) -> bool:
    """Whether the hidden character at `index` joins an emoji sequence, where it belongs."""
    char = name[index]
    if char == ZERO_WIDTH_JOINER:
        return 0 < index < len(name) - 1 and _emoji_part(name[index - 1]) and _emoji_part(name[index + 1])
    if ord(char) in _TAGS:
        start = index
        while start > 0 and ord(name[start - 1]) in _TAGS:
            start -= 1
        return start > 0 and name[start - 1] == _BLACK_FLAG
    return False


def check_visible(name: str, label: str) -> None:
    """Refuse a name with a control or invisible character, but not the joiners and tags
    of an emoji sequence ("👩‍💻 Dev laptop" is fine); the message says what to do."""
    for index, char in enumerate(name):
        category = unicodedata.category(char)
        if category not in HIDDEN or _allowed_in_sequence(name, index):
            continue
        if category == "Cc":
            raise ValidationError(
                f"{label} contains a control character (such as a line break or a tab); remove it.",
                code="control_character",
            )
        raise ValidationError(
            f"{label} contains an invisible character; remove it. (Copying a name from a "
            "document or a chat can bring one along: type the name again.)",
            code="control_character",
        )
