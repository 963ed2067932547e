"""Webhook deliveries already acted on: a replay is answered "already processed", doing nothing.

What identifies a delivery:

- GitHub: its X-GitHub-Delivery id, and the SHA-256 of the body. The HMAC signature covers
  the body only, so a captured call replayed with the id header changed or removed is still
  recognised by its body. (Every real push body differs: it carries the commits and the
  time of the push.) GitHub's "Redeliver" button resends the same id and body.
- GitLab: its Idempotency-Key (GitLab 17.4+, the same across GitLab's retries of one
  event) or else X-Gitlab-Event-UUID. The token is not a signature, so the body is not
  used: two genuine pushes may send identical bodies (a branch moved back and forth).
- A signed call with no delivery id (an older GitLab, a script): accepted, and remembered
  by the SHA-256 of its body, so replaying it verbatim does nothing either.

Entries are kept for a day (DELIVERY_MEMORY) and pruned as new deliveries arrive. The
unique constraints decide: of two identical deliveries arriving together, exactly one is
claimed and runs. A delivery whose work failed is released, so it may be delivered again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models.accounts import utcnow
from portal.models.webhooks import WebhookDelivery

DELIVERY_MEMORY = timedelta(days=1)
_MAX_ID = 100  # longer ids are stored as their SHA-256


@dataclass(frozen=True)
class Delivery:
    source: str
    delivery_id: str | None  # "github:<id>" / "gitlab:<id>"
    body_sha256: str | None

    @property
    def label(self) -> str:
        return self.delivery_id or f"body sha256 {self.body_sha256}"


def identify(source: str, headers: Mapping[str, str], body: bytes) -> Delivery:
    """What makes this (already verified) call one delivery."""
    if source == "github":
        given = headers.get("X-GitHub-Delivery", "")
    else:
        given = headers.get("Idempotency-Key", "") or headers.get("X-Gitlab-Event-UUID", "")
    given = given.strip()
    if len(given) > _MAX_ID:
        given = "sha256-" + hashlib.sha256(given.encode()).hexdigest()
    digest = hashlib.sha256(body).hexdigest()
    return Delivery(
        source=source,
        delivery_id=f"{source}:{given}" if given else None,
        body_sha256=digest if source == "github" or not given else None)


def claim(delivery: Delivery, now: datetime | None = None) -> bool:
    """Record the delivery; False if it was already received within the last day."""
    now = now or utcnow()
    db.session.execute(delete(WebhookDelivery).where(
        WebhookDelivery.received_at < now - DELIVERY_MEMORY))
    db.session.add(WebhookDelivery(
        source=delivery.source, delivery_id=delivery.delivery_id,
        body_sha256=delivery.body_sha256, received_at=now))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def release(delivery: Delivery) -> None:
    """Forget a claimed delivery whose work failed, so that a redelivery runs it."""
    db.session.rollback()  # whatever the failed work left half done
    match = []
    if delivery.delivery_id:
        match.append(WebhookDelivery.delivery_id == delivery.delivery_id)
    if delivery.body_sha256:
        match.append(WebhookDelivery.body_sha256 == delivery.body_sha256)
    if match:
        db.session.execute(delete(WebhookDelivery).where(*match))
        db.session.commit()


def remembered() -> int:
    return db.session.scalar(select(func.count()).select_from(WebhookDelivery)) or 0
