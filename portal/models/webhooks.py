"""Webhook deliveries already acted on, remembered for a day so a replay does nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.accounts import utcnow
from portal.models.tickets import UTCDateTime


class WebhookDelivery(db.Model):
    """One accepted delivery. Both keys are unique: a second insert of either fails, which is
    what lets exactly one of two identical concurrent deliveries run."""

    __tablename__ = "webhook_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(10))  # "github" or "gitlab"
    # "github:<X-GitHub-Delivery>" or "gitlab:<Idempotency-Key or X-Gitlab-Event-UUID>".
    delivery_id: Mapped[str | None] = mapped_column(String(120), unique=True)
    # SHA-256 of the body: for GitHub (the signature covers the body, not the delivery
    # header), and for a sender that gives no delivery id.
    body_sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
