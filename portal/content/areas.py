"""Product areas: the parts of the product an article belongs to (front matter `areas`).

The widget's host page says which area the reader is in ("Billing", "load tickets");
articles declare theirs. Both sides meet on area_key(), so "Load Tickets",
"load_tickets" and "load-tickets" are one area.
"""

from __future__ import annotations

import re
import unicodedata

MAX_AREA_CHARS = 60
_NOT_ALNUM = re.compile(r"[\W_]+")


def area_key(text: str) -> str:
    """The area's key: lower case, accents folded, each run of characters that are not
    letters or digits one "-", no "-" at either end, at most 60 characters; "" when
    nothing is left."""
    folded = unicodedata.normalize("NFKD", str(text).lower())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    key = _NOT_ALNUM.sub("-", folded).strip("-")
    return key[:MAX_AREA_CHARS].rstrip("-")
