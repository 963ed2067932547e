"""`flask users ...`: each command, its errors (stderr, exit 1) and the audit rows it
leaves, recorded as made by the command line."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, Organisation, OutboxMessage, Role, User

PASSWORD = "correct horse 1"
LINK = re.compile(r"http://localhost/reset/[A-Za-z0-9_-]{40,}")


@pytest.fixture
def flask_users(app):
    def run(*args: str):
        return app.test_cli_runner().invoke(args=["users", *args])
    return run


def user_row(app, email: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None:
            user.organisation  # noqa: B018  (load it before leaving the session)
            db.session.expunge(user)
        return user


def audit_rows(app) -> list[AuditEvent]:
    with app.app_context():
        rows = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        found = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        for message in found:
            db.session.expunge(message)
        return found


def fails(result, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert result.stdout == ""


def by_command_line(row: AuditEvent) -> bool:
    return row.actor.startswith("command line (") and row.actor_id is None


# -- create and invite ----------------------------------------------------------------------

def test_create_makes_a_confirmed_account_and_audits_it(app, flask_users):
    result = flask_users("create", "Ann@Example.com", "--name", "Ann Agent", "--role", "agent",
                         "--password", "a long password")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Created agent ann@example.com\n"
    ann = user_row(app, "ann@example.com")
    assert ann.role == Role.AGENT and ann.email_verified_at is not None
    [row] = audit_rows(app)
    assert by_command_line(row)
    assert (row.action, row.target, row.target_id, row.before) == (
        "user.create", "ann@example.com", ann.id, {})
    assert row.after == {"email": "ann@example.com", "name": "Ann Agent", "role": "agent",
                         "organisation": None}
    assert "a long password" not in str(row.after) and "argon2" not in str(row.after)


def test_create_refuses_a_taken_address_and_a_short_password(app, flask_users, make_user):
    make_user(email="taken@example.com")
    fails(flask_users("create", "taken@example.com", "--password", "a long password"),
          "already exists")
    fails(flask_users("create", "new@example.com", "--password", "short"), "at least 10")
    assert user_row(app, "new@example.com") is None
    assert audit_rows(app) == []


def test_invite_mails_a_set_password_link(app, flask_users):
    with app.app_context():
        db.session.add(Organisation(name="Acme Paving"))
        db.session.commit()
    result = flask_users("invite", "pat@acme.test", "--name", "Pat Paver", "--org", "acme paving")
    assert result.exit_code == 0, result.output
    assert "Invited customer pat@acme.test in Acme Paving: invitation mailed." in result.stdout
    pat = user_row(app, "pat@acme.test")
    assert pat.password_hash == "" and pat.email_verified_at is not None
    [message] = outbox(app)
    assert message.recipient == "pat@acme.test" and message.subject.startswith("You are invited")
    assert "We created" in message.body  # no admin's address when the command line invites
    link = LINK.search(message.body).group(0)
    assert "pat@acme.test" in app.test_client().get(link).get_data(as_text=True)
    [row] = audit_rows(app)
    assert by_command_line(row) and row.action == "user.invite"
    assert row.after["organisation"] == "Acme Paving"


def test_invite_errors(app, flask_users, make_user):
    make_user(email="taken@example.com")
    fails(flask_users("invite", "new@example.com", "--org", "Nowhere Inc"),
          "No organisation named 'Nowhere Inc'")
    fails(flask_users("invite", "new@example.com", "--role", "boss"), "Unknown role 'boss'")
    fails(flask_users("invite", "taken@example.com"), "already exists")
    fails(flask_users("invite", "not-an-address"), "Enter a valid email address")
    assert user_row(app, "new@example.com") is None
    assert outbox(app) == [] and audit_rows(app) == []


# -- role -------------------------------------------------------------------------------------

def test_set_role(app, flask_users, make_user):
    make_user(email="pat@example.com")
    result = flask_users("set-role", "PAT@example.com", "Editor")
    assert result.exit_code == 0, result.output
    assert result.stdout == "pat@example.com is now editor\n"
    assert user_row(app, "pat@example.com").role == Role.EDITOR
    again = flask_users("set-role", "pat@example.com", "editor")
    assert again.exit_code == 0 and "already editor; nothing changed" in again.stdout
    [row] = audit_rows(app)
    assert by_command_line(row)
    assert (row.action, row.before, row.after) == (
        "user.set_role", {"role": "customer"}, {"role": "editor"})


def test_set_role_errors(app, flask_users, make_user):
    admin = make_user(email="ada@example.com", role="admin")
    make_user(email="pat@example.com")
    fails(flask_users("set-role", "ghost@example.com", "agent"), "No user 'ghost@example.com'")
    fails(flask_users("set-role", "pat@example.com", "boss"),
          "Unknown role 'boss': choose one of customer, agent, editor, admin.")
    fails(flask_users("set-role", "ada@example.com", "customer"),
          "ada@example.com is the only active admin")
    assert user_row(app, "ada@example.com").role == Role.ADMIN
    # With a second admin, the first may step down; the user can be named by number too.
    assert flask_users("set-role", "pat@example.com", "admin").exit_code == 0
    assert flask_users("set-role", str(admin.id), "agent").exit_code == 0
    assert user_row(app, "ada@example.com").role == Role.AGENT


# -- organisations ----------------------------------------------------------------------------

def test_attach_and_detach(app, flask_users, make_user):
    with app.app_context():
        bitu = Organisation(name="Bitu Roads")
        db.session.add(bitu)
        db.session.commit()
        bitu_id = bitu.id
    make_user(email="pat@example.com", org="Acme Paving")
    result = flask_users("attach", "pat@example.com", "BITU ROADS")
    assert result.exit_code == 0 and result.stdout == "pat@example.com is now in Bitu Roads\n"
    again = flask_users("attach", "pat@example.com", str(bitu_id))  # by number
    assert again.exit_code == 0 and "already in Bitu Roads; nothing changed" in again.stdout
    result = flask_users("detach", "pat@example.com")
    assert result.exit_code == 0 and result.stdout == "pat@example.com is no longer in Bitu Roads\n"
    assert user_row(app, "pat@example.com").organisation is None
    again = flask_users("detach", "pat@example.com")
    assert again.exit_code == 0 and "in no organisation; nothing changed" in again.stdout
    rows = audit_rows(app)
    assert all(by_command_line(row) for row in rows)
    assert [(r.action, r.before, r.after) for r in rows] == [
        ("user.attach", {"organisation": "Acme Paving"}, {"organisation": "Bitu Roads"}),
        ("user.detach", {"organisation": "Bitu Roads"}, {"organisation": None})]


def test_attach_and_detach_errors(app, flask_users, make_user):
    make_user(email="pat@example.com")
    fails(flask_users("attach", "pat@example.com", "Nowhere Inc"),
          "No organisation named 'Nowhere Inc'")
    fails(flask_users("attach", "ghost@example.com", "Acme"), "No user 'ghost@example.com'")
    fails(flask_users("detach", "ghost@example.com"), "No user 'ghost@example.com'")
    missing = flask_users("attach", "pat@example.com")
    assert missing.exit_code == 2 and "Missing argument 'ORG'" in missing.stderr
    assert audit_rows(app) == []


# -- deactivate and reactivate ----------------------------------------------------------------

def test_deactivate_ends_sessions_and_reactivate_restores_sign_in(app, flask_users, make_user):
    make_user(email="pat@example.com", name="Pat Customer")
    browser = app.test_client()
    assert browser.post("/login", data={"email": "pat@example.com",
                                        "password": PASSWORD}).status_code == 302
    assert "Pat Customer" in browser.get("/").get_data(as_text=True)

    result = flask_users("deactivate", "pat@example.com")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Deactivated pat@example.com: 1 session ended\n"
    assert "Pat Customer" not in browser.get("/").get_data(as_text=True)
    assert browser.post("/login", data={"email": "pat@example.com",
                                        "password": PASSWORD}).status_code == 200  # refused
    again = flask_users("deactivate", "pat@example.com")
    assert again.exit_code == 0 and "already deactivated; nothing changed" in again.stdout

    result = flask_users("reactivate", "pat@example.com")
    assert result.exit_code == 0 and result.stdout == "Reactivated pat@example.com\n"
    assert browser.post("/login", data={"email": "pat@example.com",
                                        "password": PASSWORD}).status_code == 302
    again = flask_users("reactivate", "pat@example.com")
    assert again.exit_code == 0 and "already active; nothing changed" in again.stdout
    rows = audit_rows(app)
    assert all(by_command_line(row) for row in rows)
    assert [(r.action, r.before, r.after) for r in rows] == [
        ("user.deactivate", {"active": True}, {"active": False, "sessions_ended": 1}),
        ("user.reactivate", {"active": False}, {"active": True})]


def test_deactivate_and_reactivate_errors(app, flask_users, make_user):
    make_user(email="ada@example.com", role="admin")
    fails(flask_users("deactivate", "ghost@example.com"), "No user 'ghost@example.com'")
    fails(flask_users("reactivate", "ghost@example.com"), "No user 'ghost@example.com'")
    fails(flask_users("deactivate", "ada@example.com"), "the only active admin")
    assert user_row(app, "ada@example.com").active
    assert audit_rows(app) == []


# -- reset links ------------------------------------------------------------------------------

def test_reset_link_prints_a_single_use_link_without_mailing_it(app, flask_users, make_user):
    make_user(email="pat@example.com")
    result = flask_users("reset-link", "pat@example.com")
    assert result.exit_code == 0, result.output
    link = result.stdout.strip()
    assert LINK.fullmatch(link)
    assert "PORTAL_SITE_URL is not set" in result.stderr
    assert outbox(app) == []
    assert app.test_client().get(link).status_code == 200  # the set-password page
    # A second link replaces the first.
    second = flask_users("reset-link", "pat@example.com").stdout.strip()
    assert second != link
    assert app.test_client().get(link).status_code == 400
    rows = audit_rows(app)
    assert [(r.action, r.after) for r in rows] == [
        ("user.reset_link", {"handed_over": "command line"})] * 2
    assert all(by_command_line(r) for r in rows)
    assert link.rsplit("/", 1)[1] not in str([(r.before, r.after) for r in rows])


def test_reset_link_with_mail_also_mails_it(make_app, make_user):
    app = make_app(SITE_URL="https://help.example.com")
    make_user(email="pat@example.com")
    result = app.test_cli_runner().invoke(args=["users", "reset-link", "pat@example.com",
                                                "--mail"])
    assert result.exit_code == 0, result.output
    link = result.stdout.strip()
    assert re.fullmatch(r"https://help\.example\.com/reset/[A-Za-z0-9_-]{40,}", link)
    assert "Also mailed to pat@example.com." in result.stderr
    assert "PORTAL_SITE_URL" not in result.stderr
    [message] = outbox(app)
    assert message.recipient == "pat@example.com" and link in message.body
    [row] = audit_rows(app)
    assert row.after == {"mailed_to": "pat@example.com"}


def test_reset_link_errors(app, flask_users, make_user):
    make_user(email="pat@example.com")
    fails(flask_users("reset-link", "ghost@example.com"), "No user 'ghost@example.com'")
    flask_users("deactivate", "pat@example.com")
    fails(flask_users("reset-link", "pat@example.com", "--mail"),
          "pat@example.com is deactivated: reactivate the account")
    assert outbox(app) == []
    assert [r.action for r in audit_rows(app)] == ["user.deactivate"]


# -- list -------------------------------------------------------------------------------------

def test_list_filters_like_the_console(app, flask_users, make_user):
    make_user(email="pat@acme.test", org="Acme Paving", name="Pat Paver")
    make_user(email="quinn@acme.test", org="Acme Paving", name="Quinn", role="agent")
    make_user(email="sam@example.com", name="Sam Loose")
    everyone = flask_users("list")
    assert everyone.exit_code == 0
    lines = everyone.stdout.splitlines()
    assert [line.split("\t")[0] for line in lines] == [
        "pat@acme.test", "quinn@acme.test", "sam@example.com"]
    assert lines[0].split("\t")[1:] == ["Pat Paver", "customer", "Acme Paving", "active",
                                        "never"]
    assert "3 accounts" in everyone.stderr
    assert flask_users("list", "PAVER").stdout.startswith("pat@acme.test\t")
    assert flask_users("list", "--org", "acme paving", "--role", "agent").stdout.startswith(
        "quinn@acme.test\t")
    assert flask_users("list", "--org", "none").stdout.startswith("sam@example.com\t")
    assert flask_users("list", "--status", "deactivated").stdout == ""
    fails(flask_users("list", "--org", "Nowhere"), "No organisation named 'Nowhere'")
    fails(flask_users("list", "--role", "boss"), "Unknown role 'boss'")


def test_an_invited_customer_joins_the_organisation_of_their_address(app, flask_users):
    from portal.models import OrganisationDomain

    with app.app_context():
        acme = Organisation(name="Acme Paving")
        acme.domains.append(OrganisationDomain(domain="acme.test"))
        db.session.add(acme)
        db.session.commit()
    result = flask_users("invite", "pat@acme.test")
    assert result.exit_code == 0, result.output
    assert "in Acme Paving" in result.stdout
    assert user_row(app, "pat@acme.test").organisation.name == "Acme Paving"
    invited, joined = audit_rows(app)
    assert (invited.action, invited.after["organisation"]) == ("user.invite", None)
    assert (joined.action, joined.after) == ("user.attach", {"organisation": "Acme Paving"})
    assert joined.actor.startswith("automatic (")
    assert "in Acme Paving" in outbox(app)[0].body
