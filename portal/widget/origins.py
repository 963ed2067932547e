"""Which host pages may show the widget: PORTAL_WIDGET_ALLOWED_ORIGINS, exact origins.

An origin is scheme://host[:port], lower case, no path, no trailing slash; the default
port of the scheme is dropped (https://example.com:443 is https://example.com), as
browsers do in `location.origin` and in the Origin header. The frame's Content Security
Policy lists exactly these in `frame-ancestors`, so a page of any other origin cannot
display it, whatever the loader does.
"""

from __future__ import annotations

from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise(origin: str) -> str | None:
    """The origin in browsers' form, or None when `origin` is not one."""
    text = (origin or "").strip()
    if not text or len(text) > 300 or any(c.isspace() for c in text):
        return None
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username \
            or parts.password:
        return None
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    if port is not None and port != DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}:{port}"
    return f"{scheme}://{host}"


def problems(values: list[str]) -> list[str]:
    """The entries of the setting that are not origins (for the settings check)."""
    return [value for value in values if normalise(value) is None]


def allowed(config) -> tuple[str, ...]:
    return tuple(dict.fromkeys(o for o in (normalise(v) for v in
                                            config["WIDGET_ALLOWED_ORIGINS"]) if o))


def is_allowed(config, origin: str | None) -> str | None:
    """The normalised origin when it is on the list, else None."""
    found = normalise(origin or "")
    return found if found is not None and found in allowed(config) else None


def frame_policy(config) -> str:
    """The frame's Content-Security-Policy: our own scripts and styles, and framing by the
    listed origins only ('none' when there are none)."""
    ancestors = " ".join(allowed(config)) or "'none'"
    return ("default-src 'self'; img-src 'self' https:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; "
            f"frame-ancestors {ancestors}")
