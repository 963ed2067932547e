"""The several ways help-center readers and writers say the same thing, as one word.

"log in", "login", "sign in" and "signing in" all become `signin`, both when an article
is indexed and when a query is planned, so a reader who types "can't log in" finds the
article that says "sign in". Only unambiguous equivalents are listed; a word on its own
("log", "sign") keeps its meaning.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from whoosh.analysis import Filter

# canonical word -> the single words and word pairs that mean it
_GROUPS: dict[str, tuple[str, ...]] = {
    "signin": ("login", "logins", "logon", "signin", "log in", "logs in", "logged in",
               "logging in", "log into", "logged into", "log on", "logged on", "logging on",
               "sign in", "signs in", "signed in", "signing in", "sign into", "signed into"),
    "signout": ("logout", "logoff", "signout", "log out", "logs out", "logged out",
                "logging out", "log off", "logged off", "sign out", "signs out", "signed out",
                "signing out"),
    "signup": ("signup", "signups", "sign up", "signs up", "signed up", "signing up"),
    "twofactor": ("2fa", "mfa", "two factor", "2 factor", "multi factor", "multifactor",
                  "two step", "2 step"),
    "email": ("email", "emails", "e mail", "e mails"),
    "username": ("username", "usernames", "user name", "user names", "user id", "userid"),
    "setup": ("setup", "set up", "sets up", "setting up"),
}

SINGLE: dict[str, str] = {}
PAIRS: dict[tuple[str, str], str] = {}
for _canonical, _forms in _GROUPS.items():
    for _form in _forms:
        _parts = _form.split()
        if len(_parts) == 1:
            SINGLE[_parts[0]] = _canonical
        else:
            PAIRS[(_parts[0], _parts[1])] = _canonical
_STARTS = frozenset(first for first, _second in PAIRS)

# Bump when the table changes: the index must be rebuilt with it.
VERSION = 1


def merge(words: Iterable[str]) -> list[str]:
    """Lower-case words with each listed form replaced by its canonical word."""
    out: list[str] = []
    pending: str | None = None
    for word in words:
        if pending is not None:
            canonical = PAIRS.get((pending, word))
            if canonical:
                out.append(canonical)
                pending = None
                continue
            out.append(SINGLE.get(pending, pending))
            pending = None
        if word in _STARTS:
            pending = word
        else:
            out.append(SINGLE.get(word, word))
    if pending is not None:
        out.append(SINGLE.get(pending, pending))
    return out


class SynonymFilter(Filter):
    """The same replacement inside a Whoosh analyzer (after lower-casing, before stop
    words and stemming). A merged pair keeps the first word's position and spans the
    characters of both words, so highlighting marks "log in" as a whole."""

    def __call__(self, tokens: Iterator) -> Iterator:
        pairs, single, starts = PAIRS, SINGLE, _STARTS
        pending = None  # a copy of a token that may start a pair
        for token in tokens:
            text = token.text
            if pending is not None:
                canonical = pairs.get((pending.text, text))
                if canonical:
                    pending.text = canonical
                    if hasattr(pending, "endchar"):
                        pending.endchar = token.endchar
                    yield pending
                    pending = None
                    continue
                if pending.text in single:
                    pending.text = single[pending.text]
                yield pending
                pending = None
            if text in starts:
                pending = token.copy()
                continue
            if text in single:
                token.text = single[text]
            yield token
        if pending is not None:
            if pending.text in single:
                pending.text = single[pending.text]
            yield pending
