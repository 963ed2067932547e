"""`flask users ...`: user accounts from the command line, for scripting. EMAIL is the
account's address (any case) or its number; ORG an organisation's name (any case) or
number. Every change is audited as made by the command line (portal/admin/people.py).

Errors (an unknown user, organisation or role; a refused change) go to stderr and the
command exits 1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import click
from flask import current_app
from flask.cli import AppGroup

from portal.admin import people
from portal.admin.audit import Actor
from portal.extensions import db
from portal.models import Role, User
from portal.tickets import mail

users_cli = AppGroup("users", help="Manage user accounts: create, invite, change role, "
                                   "attach to an organisation, deactivate, reset links, list.")

T = TypeVar("T")
ROLES = ", ".join(role.value for role in Role)


def _user(email_or_id: str) -> User:
    user = people.find(email_or_id)
    if user is None:
        raise click.ClickException(
            f"No user {email_or_id!r}: give their email address or number "
            "(see `flask users list`).")
    return user


def _apply(change: Callable[[Actor], T]) -> T:
    """Run one audited change and commit it; a broken rule is an error (exit 1)."""
    try:
        result = change(Actor.command_line())
    except people.PeopleError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    return result


@contextmanager
def _site() -> Iterator[None]:
    """A request context, so that links in mail get the site's address (PORTAL_SITE_URL)."""
    if not current_app.config.get("SITE_URL"):
        click.echo("Note: PORTAL_SITE_URL is not set, so links point at http://localhost.",
                   err=True)
    with current_app.test_request_context("/", base_url="http://localhost"):
        yield


def _in(user: User) -> str:
    return f" in {user.organisation.name}" if user.organisation else ""


@users_cli.command("create")
@click.argument("email")
@click.option("--name", default="", help="Display name.")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.CUSTOMER.value)
@click.option("--org", "organisation", default=None,
              help="Organisation (customers); created when it does not exist.")
@click.password_option(help="Asked for when not given.")
def create_command(email: str, name: str, role: str, organisation: str | None,
                   password: str) -> None:
    """Create an account with a password (its address counts as confirmed)."""
    user = _apply(lambda actor: people.create(email, name, password, role, organisation, actor))
    click.echo(f"Created {user.role.value} {user.email}{_in(user)}")


@users_cli.command("invite")
@click.argument("email")
@click.option("--name", default="", help="Display name (default: the address's first part).")
@click.option("--role", default=Role.CUSTOMER.value, show_default=True, help=f"One of {ROLES}.")
@click.option("--org", "organisation", default=None, help="Organisation name or number.")
def invite_command(email: str, name: str, role: str, organisation: str | None) -> None:
    """Create an account without a password and mail an invitation to choose one."""
    with _site():
        user, message = _apply(
            lambda actor: people.invite(email, name, role, organisation, actor))
        mail.send_now([message])
    click.echo(f"Invited {user.role.value} {user.email}{_in(user)}: invitation mailed.")


@users_cli.command("set-role")
@click.argument("email")
@click.argument("role")
def set_role_command(email: str, role: str) -> None:
    """Give EMAIL the role ROLE (customer, agent, editor or admin)."""
    user = _user(email)
    if _apply(lambda actor: people.set_role(user, role, actor)):
        click.echo(f"{user.email} is now {user.role.value}")
    else:
        click.echo(f"{user.email} was already {user.role.value}; nothing changed")


@users_cli.command("attach")
@click.argument("email")
@click.argument("org")
def attach_command(email: str, org: str) -> None:
    """Put EMAIL in the organisation ORG (moving them out of any other)."""
    user = _user(email)
    if _apply(lambda actor: people.attach(user, org, actor)):
        click.echo(f"{user.email} is now in {user.organisation.name}")
    else:
        click.echo(f"{user.email} was already in {user.organisation.name}; nothing changed")


@users_cli.command("detach")
@click.argument("email")
def detach_command(email: str) -> None:
    """Take EMAIL out of their organisation."""
    user = _user(email)
    before = user.organisation.name if user.organisation else None
    if _apply(lambda actor: people.detach(user, actor)):
        click.echo(f"{user.email} is no longer in {before}")
    else:
        click.echo(f"{user.email} is in no organisation; nothing changed")


@users_cli.command("deactivate")
@click.argument("email")
def deactivate_command(email: str) -> None:
    """Stop EMAIL signing in, and end every session they have."""
    user = _user(email)
    ended = _apply(lambda actor: people.deactivate(user, actor))
    if ended is None:
        click.echo(f"{user.email} was already deactivated; nothing changed")
    else:
        click.echo(f"Deactivated {user.email}: {ended} session{'s' if ended != 1 else ''} ended")


@users_cli.command("reactivate")
@click.argument("email")
def reactivate_command(email: str) -> None:
    """Let EMAIL sign in again."""
    user = _user(email)
    if _apply(lambda actor: people.reactivate(user, actor)):
        click.echo(f"Reactivated {user.email}")
    else:
        click.echo(f"{user.email} was already active; nothing changed")


@users_cli.command("reset-link")
@click.argument("email")
@click.option("--mail", "send_mail", is_flag=True, help="Also mail the link to the owner.")
def reset_link_command(email: str, send_mail: bool) -> None:
    """Print a single-use link that sets a new password for EMAIL (earlier links stop
    working). Hand it over only to the account's owner."""
    user = _user(email)
    with _site():
        issued = _apply(lambda actor: people.reset_link(user, actor, mail=send_mail))
        if issued.message is not None:
            mail.send_now([issued.message])
    click.echo(issued.link)
    if send_mail:
        click.echo(f"Also mailed to {user.email}.", err=True)


@users_cli.command("list")
@click.argument("search", default="")
@click.option("--role", default="", help=f"Only this role ({ROLES}).")
@click.option("--org", "organisation", default="",
              help='Only this organisation (name or number), or "none".')
@click.option("--status", type=click.Choice([s for s in people.STATUSES if s]), default=None,
              help="Only active, deactivated or unverified accounts.")
def list_command(search: str, role: str, organisation: str, status: str | None) -> None:
    """List accounts (tab-separated): address, name, role, organisation, status, last
    sign-in. SEARCH matches part of a name or address."""
    if role:
        try:
            role = people.parse_role(role).value
        except people.PeopleError as exc:
            raise click.ClickException(str(exc)) from exc
    if organisation and organisation.lower() != people.NO_ORGANISATION:
        try:
            organisation = str(people.find_organisation(organisation).id)
        except people.PeopleError as exc:
            raise click.ClickException(str(exc)) from exc
    query = people.search_query(search, role, organisation.lower(), status or "")
    count = 0
    for user in db.session.scalars(query):
        count += 1
        state = "active" if user.active else "deactivated"
        if not user.email_verified:
            state += ", unverified"
        click.echo("\t".join([
            user.email, user.name, user.role.value,
            user.organisation.name if user.organisation else "-", state,
            user.last_login_at.isoformat(timespec="minutes") if user.last_login_at else "never"]))
    click.echo(f"{count} {'account' if count == 1 else 'accounts'}", err=True)
