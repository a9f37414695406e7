"""Nicknames that cannot pass for each other.

A nickname is stored as typed (NFKC-normalised: full-width and other compatibility forms become
the plain letters they stand for, runs of spaces become one); its *key* (NFKC, case-folded) is
unique in a class by a database constraint, so "Bob", "BOB" and "ｂｏｂ" are one nickname and two
joins at once cannot both take it. A nickname's letters come from one script, so "Bоb" (with a
Cyrillic о) is refused rather than shown beside "Bob". (Whole-script look-alikes, such as a
Cyrillic "Вов", are rarer and not caught here: UTS #39's confusables table would be needed.)
"""

from __future__ import annotations

import re
import unicodedata

MAX_CHARS = 24
ALLOWED = re.compile(r"[\w][\w .'-]*")  # letters, digits, spaces, . ' - _
# scripts that one language writes together (Japanese mixes Han and the kana)
SCRIPT_FAMILIES = {"HIRAGANA": "CJK", "KATAKANA": "CJK", "HALFWIDTH": "CJK"}


def normalised(nickname: str) -> str:
    """NFKC, with runs of white space as one space and none at the ends."""
    return " ".join(unicodedata.normalize("NFKC", str(nickname)).split())


def key(nickname: str) -> str:
    """What must be unique in a class: the normalised nickname, case-folded (NFKC again, as
    case folding can undo it)."""
    return unicodedata.normalize("NFKC", normalised(nickname).casefold())


def scripts(nickname: str) -> set[str]:
    """The scripts of the nickname's letters (digits, spaces and punctuation belong to all)."""
    found = set()
    for char in nickname:
        if not unicodedata.category(char).startswith("L"):
            continue
        script = unicodedata.name(char, "UNKNOWN").split()[0]
        found.add(SCRIPT_FAMILIES.get(script, script))
    return found


def problem(nickname: str) -> str | None:
    """Why a (normalised) nickname is refused, or None."""
    if not 1 <= len(nickname) <= MAX_CHARS or not ALLOWED.fullmatch(nickname) or "@" in nickname:
        return (
            f"a nickname is 1 to {MAX_CHARS} letters, digits, spaces, dots, dashes or "
            "underscores (not your real name, not an e-mail address)"
        )
    if len(scripts(nickname)) > 1:
        return (
            "a nickname's letters come from one alphabet (a mix can pass for another "
            "student's nickname)"
        )
    return None
