"""What people may type into text that others read (signers' names and comments, flyers).

Letters of every script are welcome. Refused are the invisible characters that change how
the text around them is shown: bidi embeddings, overrides and isolates (U+202A-202E,
U+2066-2069), which can make a comment read backwards or hide part of it from a moderator,
and the other control and format characters. Kept are the joiners and direction marks
(ZWNJ, ZWJ, LRM, RLM) that Persian, Arabic and emoji sequences need, and the tag characters
of flag emoji: none of them can reorder or hide text.
"""

from __future__ import annotations

import unicodedata

DISPLAY_NAME_MAX = 80
COMMENT_MAX = 1000

_KEPT_FORMAT = frozenset("\u200c\u200d\u200e\u200f")
_TAGS = ("\U000e0020", "\U000e007f")


def hidden_controls(value: str, *, newlines: bool = False) -> list[str]:
    """The refused characters in `value` (newlines count as refused unless `newlines`)."""
    return [
        ch
        for ch in value
        if unicodedata.category(ch) in ("Cc", "Cf")
        and not (newlines and ch in "\n\r")
        and ch not in _KEPT_FORMAT
        and not _TAGS[0] <= ch <= _TAGS[1]
    ]
