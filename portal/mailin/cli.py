"""`flask --app wsgi tickets ingest-email`: turn incoming mail into tickets.

Reads one RFC 822 message from standard input (for an MTA pipe or a fetchmail "mda"),
or with --maildir every unread message in a Maildir folder. Handled messages move from
new/ to cur/ marked seen; malformed ones move to the .Malformed sub-folder. A message
that fails for a passing reason (database down) stays where it is for the next run.
"""

from __future__ import annotations

import logging
import os
import sys
from collections import Counter
from pathlib import Path

import click
from flask import current_app

from portal.extensions import db
from portal.mailin import service
from portal.notices import clock
from portal.tickets import attachments
from portal.tickets.cli import tickets_cli

log = logging.getLogger("portal.mailin")
EX_TEMPFAIL = 75  # sysexits.h: the MTA keeps the message and tries again later
WORDS = [("ticket", "new ticket(s)"), ("reply", "reply(ies) added"),
         ("held", "held for review"), ("malformed", "malformed (set aside)"),
         ("ignored", "ignored (auto-replies)"), (service.DUPLICATE, "already received"),
         (service.FAILED, "failed (left for the next run)")]


def _one(raw: bytes, set_aside=None, recipients: list[str] | None = None) -> service.Result:
    """Ingest one message in its own transaction."""
    result = None
    try:
        result = service.ingest(raw, clock.now(), set_aside, recipients)
        db.session.commit()
    except Exception as exc:  # a passing failure: roll back, keep the message for a retry
        db.session.rollback()
        attachments.remove((result.stored_names or []) if result else [])
        log.exception("could not ingest a message")
        return service.Result(service.FAILED, f"{type(exc).__name__}: {exc}"[:300])
    _send_now(result.ticket_id)
    return result


def _send_now(ticket_id: int | None) -> None:
    if ticket_id is None or not current_app.config["MAIL_SEND_IMMEDIATELY"]:
        return
    from portal.tickets import mail

    try:
        mail.deliver(clock.now(), ticket_id=ticket_id)
        db.session.commit()
    except Exception:  # mail stays in the outbox for `tickets send-mail`
        db.session.rollback()
        log.exception("could not send mail for ticket %s", ticket_id)


def _flags(name: str) -> str:
    return name.partition(":2,")[2] if ":2," in name else ""


def _unread(maildir: Path) -> list[Path]:
    found = []
    for sub in ("new", "cur"):
        folder = maildir / sub
        if folder.is_dir():
            found += [p for p in folder.iterdir()
                      if p.is_file() and not p.name.startswith(".") and "S" not in _flags(p.name)]
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


def _move(path: Path, maildir: Path, seen: bool) -> Path:
    base = path.name.partition(":2,")[0]
    flags = "".join(sorted(set(_flags(path.name)) | ({"S"} if seen else set())))
    target = maildir / "cur" / f"{base}:2,{flags}"
    os.replace(path, target)
    return target


def _aside_in_maildir(path: Path, maildir: Path):
    def move_aside(reason: str) -> str:
        folder = maildir / ".Malformed"
        for sub in ("tmp", "new", "cur"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        target = folder / "new" / path.name.partition(":2,")[0]
        os.replace(path, target)  # the reason is logged and kept in mailin_message
        return str(target)
    return move_aside


@tickets_cli.command("ingest-email")
@click.option("--maildir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Read every unread message in this Maildir (default: PORTAL_MAILIN_MAILDIR, "
                   "else one message from standard input).")
@click.option("--recipient", "recipients", multiple=True, metavar="ADDRESS",
              help="The envelope recipient the MTA delivered a message on standard input to "
                   "(e.g. Postfix's ${original_recipient}); repeatable.")
def ingest_email_command(maildir: Path | None, recipients: tuple[str, ...]) -> None:
    """Turn incoming support mail into tickets, replies, or held messages for review."""
    configured = current_app.config.get("MAILIN_MAILDIR")
    maildir = maildir or (Path(configured) if configured else None)
    counts: Counter[str] = Counter()
    if maildir is None:
        raw = sys.stdin.buffer.read()
        result = _one(raw, recipients=list(recipients))
        counts[result.outcome] += 1
        _say(result, "standard input")
        _summary(counts)
        sys.exit(EX_TEMPFAIL if result.outcome == service.FAILED else 0)
    if not (maildir / "new").is_dir() or not (maildir / "cur").is_dir():
        raise click.ClickException(f"{maildir} is not a Maildir (it needs new/ and cur/)")
    for path in _unread(maildir):
        result = _one(path.read_bytes(), _aside_in_maildir(path, maildir))
        counts[result.outcome] += 1
        _say(result, path.name)
        if result.outcome not in (service.FAILED, "malformed"):
            _move(path, maildir, seen=True)
    _summary(counts)
    sys.exit(1 if counts[service.FAILED] else 0)


SAID = {"ticket": "new ticket #{id}", "reply": "reply added to ticket #{id}",
        "held": "held for review: {reason}", "malformed": "malformed, set aside: {reason}",
        "ignored": "ignored: {reason}", service.DUPLICATE: "duplicate, {reason} (ticket #{id})",
        service.FAILED: "failed, left for the next run: {reason}"}


def _say(result: service.Result, source: str) -> None:
    text = SAID[result.outcome].format(id=result.ticket_id, reason=result.reason)
    if result.ticket_id is None:
        text = text.replace(" (ticket #None)", "")
    click.echo(f"{source}: {text}", err=result.outcome in ("malformed", service.FAILED))


def _summary(counts: Counter[str]) -> None:
    total = sum(counts.values())
    parts = [f"{counts[key]} {words}" for key, words in WORDS if counts[key]]
    click.echo(f"{total} message{'s' if total != 1 else ''}: " + (", ".join(parts) or "none"))
