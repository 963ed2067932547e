"""`flask orgs ...`: organisations from the command line, for scripting. ORG is a name
(any case) or the organisation's number; every change is audited as the command line."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click
from flask.cli import AppGroup

from portal.admin import orgs
from portal.admin.audit import Actor
from portal.admin.domains import normalise_domain
from portal.admin.orgs import OrgError
from portal.extensions import db
from portal.models import Organisation

orgs_cli = AppGroup("orgs", help="Manage customer organisations: create, rename, email "
                                 "domains, suspend and resume support, list.")

T = TypeVar("T")


def _org(name_or_id: str) -> Organisation:
    org = orgs.find(name_or_id)
    if org is None:
        raise click.ClickException(
            f"No organisation {name_or_id!r}: give its name or number (see `flask orgs list`).")
    return org


def _apply(change: Callable[[Actor], T]) -> T:
    """Run one audited change and commit it; a broken rule is an error (exit 1)."""
    try:
        result = change(Actor.command_line())
    except OrgError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    return result


@orgs_cli.command("create")
@click.argument("name")
def create_command(name: str) -> None:
    """Create an organisation called NAME."""
    org = _apply(lambda actor: orgs.create(name, actor))
    click.echo(f"Created organisation #{org.id} {org.name}")


@orgs_cli.command("rename")
@click.argument("org")
@click.argument("new_name")
def rename_command(org: str, new_name: str) -> None:
    """Rename ORG to NEW_NAME."""
    found = _org(org)
    before = found.name
    if _apply(lambda actor: orgs.rename(found, new_name, actor)):
        click.echo(f"Renamed {before} to {found.name}")
    else:
        click.echo(f"{found.name} already has that name; nothing changed")


@orgs_cli.command("add-domain")
@click.argument("org")
@click.argument("domain")
def add_domain_command(org: str, domain: str) -> None:
    """Add an email DOMAIN to ORG; customers with a confirmed address there join it."""
    found = _org(org)
    joined = _apply(lambda actor: orgs.add_domain(found, domain, actor))
    people = "1 customer" if joined == 1 else f"{joined} customers"
    click.echo(f"Added {normalise_domain(domain)} to {found.name}; {people} joined")


@orgs_cli.command("remove-domain")
@click.argument("org")
@click.argument("domain")
def remove_domain_command(org: str, domain: str) -> None:
    """Remove an email DOMAIN from ORG (its members stay)."""
    found = _org(org)
    _apply(lambda actor: orgs.remove_domain(found, domain, actor))
    click.echo(f"Removed {normalise_domain(domain) or domain} from {found.name}")


@orgs_cli.command("suspend")
@click.argument("org")
@click.option("--reason", required=True, help="Why; the members see it.")
@click.option("--contact", default=None,
              help="Whom the members should contact about it (kept when not given).")
def suspend_command(org: str, reason: str, contact: str | None) -> None:
    """Suspend support for ORG (or change the reason): its members cannot file tickets."""
    found = _org(org)
    was = found.support_suspended
    if not _apply(lambda actor: orgs.suspend(found, reason, contact, actor)):
        click.echo(f"Support for {found.name} is already suspended with that reason and "
                   "contact; nothing changed")
    elif was:
        click.echo(f"Updated the suspension of {found.name}")
    else:
        click.echo(f"Suspended support for {found.name}")


@orgs_cli.command("resume")
@click.argument("org")
def resume_command(org: str) -> None:
    """Resume support for ORG."""
    found = _org(org)
    if _apply(lambda actor: orgs.resume(found, actor)):
        click.echo(f"Resumed support for {found.name}")
    else:
        click.echo(f"Support for {found.name} was not suspended; nothing changed")


@orgs_cli.command("list")
@click.option("--suspended", is_flag=True, help="Only organisations with support suspended.")
def list_command(suspended: bool) -> None:
    """One line per organisation: number, name, support, domains, members."""
    found = list(db.session.scalars(orgs.listing(status="suspended" if suspended else "")))
    counts = orgs.member_counts(found)
    for org in found:
        support = "active"
        if org.support_suspended:
            details = "; ".join(part for part in (
                org.suspension_reason, org.suspension_contact and
                f"contact {org.suspension_contact}") if part)
            support = f"suspended ({details})" if details else "suspended"
        domains = ", ".join(d.domain for d in org.domains) or "none"
        members = counts.get(org.id, 0)
        click.echo(f"#{org.id}  {org.name}  support {support}  domains: {domains}  "
                   f"{members} member{'' if members == 1 else 's'}")
    if not found:
        click.echo("No suspended organisations" if suspended else "No organisations")
