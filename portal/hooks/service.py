"""Who may call the git webhook: GitHub's HMAC signature or GitLab's shared token."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping


class WebhookRefused(Exception):
    """The call is not from our repository host; nothing was done."""


def verify(secret: str, body: bytes, headers: Mapping[str, str]) -> str:
    """Return "github" or "gitlab" for a genuine call; raise WebhookRefused otherwise.

    GitHub sends X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>;
    GitLab sends the secret itself in X-Gitlab-Token. Both are compared in
    constant time. Without a configured secret every call is refused.
    """
    if not secret:
        raise WebhookRefused("the webhook is not configured (PORTAL_WEBHOOK_SECRET is empty)")
    signature = headers.get("X-Hub-Signature-256")
    if signature:
        scheme, _, given = signature.partition("=")
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        if scheme.strip().lower() == "sha256" and hmac.compare_digest(
                expected.encode(), given.strip().lower().encode()):
            return "github"
        raise WebhookRefused("the signature does not match")
    token = headers.get("X-Gitlab-Token")
    if token is not None:
        if hmac.compare_digest(secret.encode(), token.encode()):
            return "gitlab"
        raise WebhookRefused("the token does not match")
    raise WebhookRefused("the request is not signed")


def is_ping(source: str, headers: Mapping[str, str]) -> bool:
    """GitHub's "ping" sent when a webhook is created: answer, do nothing."""
    return source == "github" and headers.get("X-GitHub-Event", "") == "ping"
