"""`flask tickets ...`: retry the mail outbox, report deflection numbers."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from portal.extensions import db

tickets_cli = AppGroup("tickets", help="Tier 2 tickets: mail outbox and deflection figures.")


@tickets_cli.command("send-mail")
@click.option("--limit", default=500, show_default=True, help="At most this many messages.")
@click.option("--all", "everything", is_flag=True,
              help="Retry every unsent message now, even those still waiting to be retried.")
def send_mail_command(limit: int, everything: bool) -> None:
    """Send the outbox messages that are due (run from cron every few minutes)."""
    from portal.tickets import mail
    from portal.tickets.service import utcnow

    sent, failed = mail.deliver(utcnow(), limit=limit, everything=everything)
    db.session.commit()
    click.echo(f"{sent} sent, {failed} failed, {mail.unsent_count()} still waiting")
    sys.exit(1 if failed else 0)


@tickets_cli.command("deflection")
def deflection_command() -> None:
    """How many visits opened a suggested article, and how many then did not file."""
    from portal.tickets.service import deflection_stats

    stats = deflection_stats()
    click.echo(f"visits that opened a suggestion: {stats.visits_with_clicks} "
               f"({stats.clicks} clicks)")
    click.echo(f"filed a ticket anyway: {stats.filed_anyway}")
    click.echo(f"deflected (no ticket in that visit): {stats.deflected}")
    click.echo(f"too recent to tell: {stats.undecided}")
