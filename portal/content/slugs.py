"""URL slugs from file and folder names: lower case, hyphens, accents folded."""

import hashlib
import re
import unicodedata

_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def slugify(name: str) -> str:
    """Turn a file or folder name into a URL slug.

    Accents are folded to ASCII ("Café" -> "cafe"); letters of other scripts are
    kept (Cyrillic stays Cyrillic) so that two different names never collapse
    to an empty slug. A name with no letters or digits gets a short hash.
    """
    folded = unicodedata.normalize("NFKD", name)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    slug = _NON_WORD.sub("-", folded.lower()).replace("_", "-")
    slug = re.sub(r"-{2,}", "-", slug).strip("-")
    if not slug:
        slug = "article-" + hashlib.sha1(name.encode()).hexdigest()[:8]  # noqa: S324
    return slug
