"""`flask orgs ...`: each command, its errors (on stderr, exit status non-zero), and the
audit rows it writes as the command line."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, Organisation, OrganisationDomain, User


@pytest.fixture
def orgs(runner):
    """orgs("create", "Acme") runs `flask orgs create Acme`."""
    def run(*args: str):
        return runner.invoke(args=["orgs", *args])
    return run


def make_org(app, name: str, *domains: str, suspended: str = "") -> int:
    with app.app_context():
        org = Organisation(name=name, support_suspended=bool(suspended),
                           suspension_reason=suspended, suspension_contact="")
        org.domains = [OrganisationDomain(domain=d) for d in domains]
        db.session.add(org)
        db.session.commit()
        return org.id


def the_org(app, name: str) -> dict | None:
    with app.app_context():
        org = db.session.scalar(select(Organisation).where(Organisation.name == name))
        if org is None:
            return None
        return {"id": org.id, "suspended": org.support_suspended,
                "reason": org.suspension_reason, "contact": org.suspension_contact,
                "domains": [d.domain for d in org.domains]}


def audit_rows(app) -> list[AuditEvent]:
    with app.app_context():
        rows = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        db.session.expunge_all()
        return rows


def organisation_of(app, email: str) -> str | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        return user.organisation.name if user.organisation else None


def refused(result, message: str, code: int = 1) -> bool:
    assert result.exit_code == code, result.output
    assert message in result.stderr, result.stderr
    assert result.stdout == ""
    return True


# -- create ---------------------------------------------------------------------------------

def test_create_makes_an_organisation_and_audits_it_as_the_command_line(app, orgs):
    result = orgs("create", "  Acme Paving ")
    assert result.exit_code == 0, result.output
    org = the_org(app, "Acme Paving")
    assert result.stdout == f"Created organisation #{org['id']} Acme Paving\n"
    [row] = audit_rows(app)
    assert row.actor.startswith("command line (") and row.actor_id is None
    assert (row.action, row.target_type, row.target_id, row.target) == (
        "org.create", "organisation", org["id"], "Acme Paving")
    assert (row.before, row.after) == ({}, {"name": "Acme Paving"})


def test_create_refuses_a_duplicate_name_in_any_case(app, orgs):
    make_org(app, "Acme Paving")
    assert refused(orgs("create", "ACME paving"),
                   "An organisation called “Acme Paving” already exists.")
    assert audit_rows(app) == []


@pytest.mark.parametrize("name, message", [
    ("   ", "Enter the organisation's name."),
    ("x" * 201, "Keep the name to 200 characters or fewer."),
])
def test_create_refuses_an_empty_or_long_name(app, orgs, name, message):
    assert refused(orgs("create", name), message)
    assert audit_rows(app) == []


# -- rename ---------------------------------------------------------------------------------

def test_rename_by_name_in_any_case_or_by_number(app, orgs):
    org_id = make_org(app, "Acme Paving")
    result = orgs("rename", "acme PAVING", "Acme Roads")
    assert (result.exit_code, result.stdout) == (0, "Renamed Acme Paving to Acme Roads\n")
    result = orgs("rename", str(org_id), "Acme Highways")
    assert (result.exit_code, result.stdout) == (0, "Renamed Acme Roads to Acme Highways\n")
    first, second = audit_rows(app)
    assert (first.action, first.before, first.after) == (
        "org.rename", {"name": "Acme Paving"}, {"name": "Acme Roads"})
    assert (second.before, second.after) == ({"name": "Acme Roads"}, {"name": "Acme Highways"})


def test_rename_refuses_an_unknown_organisation_and_a_taken_name(app, orgs):
    make_org(app, "Acme Paving")
    make_org(app, "Bitumen Bros")
    assert refused(orgs("rename", "Nobody Inc", "X"), "No organisation 'Nobody Inc'")
    assert refused(orgs("rename", "999", "X"), "No organisation '999'")
    assert refused(orgs("rename", "Acme Paving", "bitumen BROS"),
                   "An organisation called “Bitumen Bros” already exists.")
    assert the_org(app, "Acme Paving") is not None
    assert audit_rows(app) == []


def test_rename_to_the_same_name_changes_nothing(app, orgs):
    make_org(app, "Acme Paving")
    result = orgs("rename", "Acme Paving", " Acme Paving ")
    assert (result.exit_code, result.stdout) == (
        0, "Acme Paving already has that name; nothing changed\n")
    assert audit_rows(app) == []


# -- domains --------------------------------------------------------------------------------

def test_add_domain_attaches_verified_customers_only(app, orgs, make_user):
    make_org(app, "Acme Paving")
    make_user(email="vera@acme.test")  # made by staff: verified
    make_user(email="uma@acme.test")
    make_user(email="sam@acme.test", role="agent")
    with app.app_context():
        db.session.scalar(select(User).where(User.email == "uma@acme.test")) \
            .email_verified_at = None
        db.session.commit()
    result = orgs("add-domain", "Acme Paving", "@Acme.Test")
    assert (result.exit_code, result.stdout) == (
        0, "Added acme.test to Acme Paving; 1 customer joined\n")
    assert the_org(app, "Acme Paving")["domains"] == ["acme.test"]
    assert organisation_of(app, "vera@acme.test") == "Acme Paving"
    assert organisation_of(app, "uma@acme.test") is None
    assert organisation_of(app, "sam@acme.test") is None
    added, joined = audit_rows(app)
    assert (added.action, added.before, added.after) == (
        "org.add_domain", {"domains": ""}, {"domains": "acme.test"})
    assert added.actor.startswith("command line (")
    assert (joined.action, joined.target, joined.after) == (
        "user.attach", "vera@acme.test", {"organisation": "Acme Paving"})

    with app.app_context():
        db.session.scalar(select(User).where(User.email == "uma@acme.test")) \
            .email_verified_at = datetime.now(UTC)
        db.session.commit()
    orgs("remove-domain", "Acme Paving", "acme.test")
    result = orgs("add-domain", "Acme Paving", "acme.test")
    assert result.stdout == "Added acme.test to Acme Paving; 1 customer joined\n"
    assert organisation_of(app, "uma@acme.test") == "Acme Paving"


def test_add_domain_refuses_a_bad_or_taken_domain_and_an_unknown_organisation(app, orgs):
    make_org(app, "Acme Paving", "acme.test")
    make_org(app, "Bitumen Bros", "bitumen.test")
    assert refused(orgs("add-domain", "Acme Paving", "not a domain"),
                   "“not a domain” is not an email domain: enter one like example.com.")
    assert refused(orgs("add-domain", "Acme Paving", ""), "Enter an email domain")
    assert refused(orgs("add-domain", "Acme Paving", "BITUMEN.test"),
                   "bitumen.test already belongs to Bitumen Bros: remove it there first.")
    assert refused(orgs("add-domain", "Acme Paving", "acme.test"),
                   "acme.test is already a domain of Acme Paving.")
    assert refused(orgs("add-domain", "Nobody Inc", "nobody.test"), "No organisation")
    assert the_org(app, "Acme Paving")["domains"] == ["acme.test"]
    assert audit_rows(app) == []


def test_remove_domain(app, orgs):
    make_org(app, "Acme Paving", "acme.test", "acme.example")
    result = orgs("remove-domain", "acme paving", "ACME.test")
    assert (result.exit_code, result.stdout) == (0, "Removed acme.test from Acme Paving\n")
    assert the_org(app, "Acme Paving")["domains"] == ["acme.example"]
    [row] = audit_rows(app)
    assert (row.action, row.before, row.after) == (
        "org.remove_domain", {"domains": "acme.example, acme.test"},
        {"domains": "acme.example"})
    assert refused(orgs("remove-domain", "Acme Paving", "acme.test"),
                   "acme.test is not a domain of Acme Paving.")
    assert refused(orgs("remove-domain", "Nobody Inc", "acme.example"), "No organisation")


# -- suspend and resume ---------------------------------------------------------------------

def test_suspend_with_reason_and_contact_then_resume(app, orgs):
    make_org(app, "Acme Paving")
    result = orgs("suspend", "Acme Paving", "--reason", "Invoices overdue",
                  "--contact", "billing@bitumio.test")
    assert (result.exit_code, result.stdout) == (0, "Suspended support for Acme Paving\n")
    assert the_org(app, "Acme Paving") | {"id": 0} == {
        "id": 0, "suspended": True, "reason": "Invoices overdue",
        "contact": "billing@bitumio.test", "domains": []}
    result = orgs("suspend", "Acme Paving", "--reason", "Invoices overdue since October")
    assert result.stdout == "Updated the suspension of Acme Paving\n"
    result = orgs("resume", "ACME PAVING")
    assert (result.exit_code, result.stdout) == (0, "Resumed support for Acme Paving\n")
    assert the_org(app, "Acme Paving")["suspended"] is False
    suspended, updated, resumed = audit_rows(app)
    assert (suspended.action, suspended.before, suspended.after) == (
        "org.suspend",
        {"support_suspended": False, "suspension_reason": "", "suspension_contact": ""},
        {"support_suspended": True, "suspension_reason": "Invoices overdue",
         "suspension_contact": "billing@bitumio.test"})
    assert (updated.before, updated.after) == (  # the contact stays when not given
        {"suspension_reason": "Invoices overdue"},
        {"suspension_reason": "Invoices overdue since October"})
    assert (resumed.action, resumed.after) == ("org.resume", {
        "support_suspended": False, "suspension_reason": "", "suspension_contact": ""})
    result = orgs("resume", "Acme Paving")
    assert (result.exit_code, result.stdout) == (
        0, "Support for Acme Paving was not suspended; nothing changed\n")
    assert len(audit_rows(app)) == 3


def test_suspend_needs_a_reason(app, orgs):
    make_org(app, "Acme Paving")
    assert refused(orgs("suspend", "Acme Paving"), "Missing option '--reason'", code=2)
    assert refused(orgs("suspend", "Acme Paving", "--reason", "  "),
                   "Give a reason: the organisation's members will see it.")
    assert refused(orgs("suspend", "Acme Paving", "--reason", "x" * 501),
                   "Keep the reason to 500 characters or fewer.")
    assert the_org(app, "Acme Paving")["suspended"] is False
    assert audit_rows(app) == []


def test_suspend_and_resume_refuse_an_unknown_organisation(app, orgs):
    assert refused(orgs("suspend", "Nobody Inc", "--reason", "x"), "No organisation")
    assert refused(orgs("resume", "Nobody Inc"), "No organisation 'Nobody Inc'")


# -- list -----------------------------------------------------------------------------------

def test_list_shows_one_line_per_organisation_and_can_show_only_suspended(app, orgs,
                                                                          make_user):
    acme = make_org(app, "Acme Paving", "acme.test", "acme.example")
    bros = make_org(app, "bitumen Bros", suspended="Invoices overdue")
    make_user(org="Acme Paving")
    make_user(org="Acme Paving")
    result = orgs("list")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"#{acme}  Acme Paving  support active  domains: acme.example, acme.test  2 members",
        f"#{bros}  bitumen Bros  support suspended (Invoices overdue)  domains: none  0 members",
    ]
    assert orgs("list", "--suspended").stdout.splitlines() == [
        f"#{bros}  bitumen Bros  support suspended (Invoices overdue)  domains: none  0 members"]


def test_list_says_when_there_is_nothing(app, orgs):
    assert orgs("list").stdout == "No organisations\n"
    make_org(app, "Acme Paving")
    assert orgs("list", "--suspended").stdout == "No suspended organisations\n"
