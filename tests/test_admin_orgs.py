"""Organisations in the admin console: create, rename, email domains (and who joins through
them), suspending support, members and tickets, search and pages; who may see and change."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, Organisation, Ticket, User

ORGS = "/admin/organisations"


# -- helpers --------------------------------------------------------------------------------

def org_named(app, name: str) -> Organisation | None:
    with app.app_context():
        org = db.session.scalar(select(Organisation).where(Organisation.name == name))
        if org is not None:
            org.domains  # noqa: B018  (load before leaving the session)
            db.session.expunge_all()
        return org


def org_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Organisation))


def make_org(app, name: str, *domains: str, suspended: str = "") -> int:
    from portal.models import OrganisationDomain

    with app.app_context():
        org = Organisation(name=name, support_suspended=bool(suspended),
                           suspension_reason=suspended, suspension_contact="")
        org.domains = [OrganisationDomain(domain=d) for d in domains]
        db.session.add(org)
        db.session.commit()
        return org.id


def set_verified(app, email: str, verified: bool = True) -> None:
    """Accounts made by staff count as verified; registration leaves them unverified."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        user.email_verified_at = datetime.now(UTC) if verified else None
        db.session.commit()


def organisation_of(app, email: str) -> str | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        return user.organisation.name if user.organisation else None


def audit_rows(app, action_prefix: str = "org.") -> list[dict]:
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action.startswith(action_prefix)).order_by(AuditEvent.id))
        return [{"actor": e.actor, "actor_id": e.actor_id, "action": e.action,
                 "target": e.target, "target_type": e.target_type, "before": e.before,
                 "after": e.after} for e in events]


def html_of(response) -> str:
    return response.get_data(as_text=True)


def post_forms(html: str) -> list[str]:
    """The page's forms that change an organisation."""
    return [tag for tag in re.findall(r"<form[^>]*>", html)
            if 'method="post"' in tag and 'action="/admin/organisations' in tag]


@pytest.fixture
def admin(app, make_user, login):
    user = make_user(email="ada@bitumio.test", role="admin", name="Ada Admin")
    login(user.email)
    return user


# -- creating and renaming ------------------------------------------------------------------

def test_an_admin_creates_an_organisation_and_the_change_is_audited(app, client, admin):
    assert client.get(f"{ORGS}/new").status_code == 200
    response = client.post(f"{ORGS}/new", data={"name": "  Acme Paving  "})
    assert response.status_code == 303
    org = org_named(app, "Acme Paving")
    assert response.headers["Location"].endswith(f"{ORGS}/{org.id}")
    page = html_of(client.get(response.headers["Location"]))
    assert "Created Acme Paving." in page
    assert "<h1>Acme Paving</h1>" in page
    assert audit_rows(app) == [{
        "actor": "ada@bitumio.test", "actor_id": admin.id, "action": "org.create",
        "target": "Acme Paving", "target_type": "organisation", "before": {},
        "after": {"name": "Acme Paving"}}]


@pytest.mark.parametrize("typed, message", [
    ("acme PAVING", "An organisation called “Acme Paving” already exists."),
    ("   ", "Enter the organisation&#39;s name."),
    ("x" * 201, "Keep the name to 200 characters or fewer."),
])
def test_a_wrong_name_is_refused_and_the_form_keeps_what_was_typed(app, client, admin,
                                                                     typed, message):
    make_org(app, "Acme Paving")
    response = client.post(f"{ORGS}/new", data={"name": typed})
    assert response.status_code == 422
    html = html_of(response)
    assert message in html
    assert 'aria-invalid="true"' in html
    if typed.strip():
        assert f'value="{typed}"' in html
    assert org_count(app) == 1
    assert audit_rows(app) == []


def test_an_admin_renames_an_organisation(app, client, admin):
    org_id = make_org(app, "Acme Paving")
    response = client.post(f"{ORGS}/{org_id}/rename", data={"rename-name": "Acme Roads"})
    assert response.status_code == 303
    assert "Renamed Acme Paving to Acme Roads." in html_of(client.get(f"{ORGS}/{org_id}"))
    assert org_named(app, "Acme Roads").id == org_id
    [row] = audit_rows(app)
    assert (row["action"], row["before"], row["after"]) == (
        "org.rename", {"name": "Acme Paving"}, {"name": "Acme Roads"})


def test_renaming_to_a_taken_name_keeps_the_typed_name_and_the_old_one(app, client, admin):
    org_id = make_org(app, "Acme Paving")
    make_org(app, "Bitumen Bros")
    response = client.post(f"{ORGS}/{org_id}/rename", data={"rename-name": "BITUMEN bros"})
    assert response.status_code == 422
    html = html_of(response)
    assert "An organisation called “Bitumen Bros” already exists." in html
    assert 'value="BITUMEN bros"' in html
    assert "<h1>Acme Paving</h1>" in html
    assert org_named(app, "Acme Paving") is not None
    assert audit_rows(app) == []


def test_only_the_case_of_a_name_can_change(app, client, admin):
    org_id = make_org(app, "acme paving")
    assert client.post(f"{ORGS}/{org_id}/rename",
                       data={"rename-name": "Acme Paving"}).status_code == 303
    assert org_named(app, "Acme Paving").id == org_id


# -- email domains --------------------------------------------------------------------------

def test_adding_a_domain_attaches_only_verified_active_customers_in_no_organisation(
        app, client, admin, make_user):
    org_id = make_org(app, "Acme Paving")
    make_org(app, "Other Co")
    make_user(email="vera@acme.test")  # verified: joins
    make_user(email="uma@acme.test")  # never confirmed her address: stays out
    make_user(email="sam@acme.test", role="agent")  # staff never join
    make_user(email="olga@acme.test", org="Other Co")  # already in an organisation
    make_user(email="dee@acme.test")  # deactivated
    make_user(email="ned@sub.acme.test")  # another domain
    for email in ("vera@acme.test", "sam@acme.test", "olga@acme.test", "dee@acme.test",
                  "ned@sub.acme.test"):
        set_verified(app, email)
    set_verified(app, "uma@acme.test", False)
    with app.app_context():
        db.session.scalar(select(User).where(User.email == "dee@acme.test")).active = False
        db.session.commit()

    response = client.post(f"{ORGS}/{org_id}/domains", data={"domain-domain": " @ACME.test "})
    assert response.status_code == 303
    assert organisation_of(app, "vera@acme.test") == "Acme Paving"
    assert organisation_of(app, "uma@acme.test") is None
    assert organisation_of(app, "sam@acme.test") is None
    assert organisation_of(app, "olga@acme.test") == "Other Co"
    assert organisation_of(app, "dee@acme.test") is None
    assert organisation_of(app, "ned@sub.acme.test") is None
    page = html_of(client.get(f"{ORGS}/{org_id}"))
    assert "Added acme.test to Acme Paving: 1 customer with a confirmed address at it joined." \
        in page
    assert "vera@acme.test" in page
    assert audit_rows(app) == [{
        "actor": "ada@bitumio.test", "actor_id": admin.id, "action": "org.add_domain",
        "target": "Acme Paving", "target_type": "organisation", "before": {"domains": ""},
        "after": {"domains": "acme.test"}}]
    [joined] = audit_rows(app, "user.")
    assert (joined["action"], joined["target"], joined["after"]) == (
        "user.attach", "vera@acme.test", {"organisation": "Acme Paving"})
    assert joined["actor"].startswith("automatic")


def test_the_unverified_customer_joins_once_another_domain_is_added_after_verifying(
        app, client, admin, make_user):
    org_id = make_org(app, "Acme Paving", "acme.test")
    make_user(email="uma@acme.example")
    set_verified(app, "uma@acme.example", False)
    client.post(f"{ORGS}/{org_id}/domains", data={"domain-domain": "acme.example"})
    assert organisation_of(app, "uma@acme.example") is None
    client.post(f"{ORGS}/{org_id}/domains/remove", data={"remove-domain": "acme.example"})
    set_verified(app, "uma@acme.example")
    client.post(f"{ORGS}/{org_id}/domains", data={"domain-domain": "acme.example"})
    assert organisation_of(app, "uma@acme.example") == "Acme Paving"


@pytest.mark.parametrize("typed, message", [
    ("not a domain", "“not a domain” is not an email domain: enter one like example.com."),
    ("localhost", "“localhost” is not an email domain"),
    ("bitumen.test", "bitumen.test already belongs to Bitumen Bros: remove it there first."),
    ("ACME.test", "acme.test is already a domain of Acme Paving."),
])
def test_a_wrong_or_taken_domain_is_refused_beside_the_field(app, client, admin, typed,
                                                             message):
    org_id = make_org(app, "Acme Paving", "acme.test")
    make_org(app, "Bitumen Bros", "bitumen.test")
    response = client.post(f"{ORGS}/{org_id}/domains", data={"domain-domain": typed})
    assert response.status_code == 422
    html = html_of(response)
    assert message in html
    assert f'value="{typed}"' in html
    assert [d.domain for d in org_named(app, "Acme Paving").domains] == ["acme.test"]
    assert audit_rows(app) == []


def test_removing_a_domain_keeps_the_people_who_joined_through_it(app, client, admin,
                                                                  make_user):
    org_id = make_org(app, "Acme Paving", "acme.test", "acme.example")
    make_user(email="vera@acme.test", org="Acme Paving")
    response = client.post(f"{ORGS}/{org_id}/domains/remove", data={"remove-domain": "acme.test"})
    assert response.status_code == 303
    page = html_of(client.get(f"{ORGS}/{org_id}"))
    assert "Removed acme.test from Acme Paving." in page
    assert [d.domain for d in org_named(app, "Acme Paving").domains] == ["acme.example"]
    assert organisation_of(app, "vera@acme.test") == "Acme Paving"
    [row] = audit_rows(app)
    assert (row["action"], row["before"], row["after"]) == (
        "org.remove_domain", {"domains": "acme.example, acme.test"},
        {"domains": "acme.example"})
    again = client.post(f"{ORGS}/{org_id}/domains/remove", data={"remove-domain": "acme.test"},
                        follow_redirects=True)
    assert "acme.test is not a domain of Acme Paving." in html_of(again)


# -- suspending support ---------------------------------------------------------------------

def test_an_admin_suspends_and_resumes_support_with_reason_and_contact(app, client, admin):
    org_id = make_org(app, "Acme Paving")
    response = client.post(f"{ORGS}/{org_id}/suspend", data={
        "suspend-reason": "Invoices overdue since October",
        "suspend-contact": "Dana Reyes, billing@bitumio.test"})
    assert response.status_code == 303
    page = html_of(client.get(f"{ORGS}/{org_id}"))
    assert "Suspended support for Acme Paving." in page
    assert "Reason: Invoices overdue since October" in page
    assert "Contact: Dana Reyes, billing@bitumio.test" in page
    assert "Resume support" in page
    listed = html_of(client.get(ORGS, query_string={"status": "suspended"}))
    assert "Acme Paving" in listed

    assert client.post(f"{ORGS}/{org_id}/resume").status_code == 303
    page = html_of(client.get(f"{ORGS}/{org_id}"))
    assert "Resumed support for Acme Paving." in page
    assert "Support is active" in page
    org = org_named(app, "Acme Paving")
    assert (org.support_suspended, org.suspension_reason, org.suspension_contact) == (
        False, "", "")
    suspend, resume = audit_rows(app)
    assert suspend["action"] == "org.suspend"
    assert suspend["before"] == {"support_suspended": False, "suspension_reason": "",
                                 "suspension_contact": ""}
    assert suspend["after"] == {"support_suspended": True,
                                "suspension_reason": "Invoices overdue since October",
                                "suspension_contact": "Dana Reyes, billing@bitumio.test"}
    assert resume["action"] == "org.resume"
    assert resume["before"] == suspend["after"]
    assert resume["after"] == suspend["before"]


def test_a_suspension_needs_a_reason_and_keeps_the_typed_contact(app, client, admin):
    org_id = make_org(app, "Acme Paving")
    response = client.post(f"{ORGS}/{org_id}/suspend", data={
        "suspend-reason": "  ", "suspend-contact": "billing@bitumio.test"})
    assert response.status_code == 422
    html = html_of(response)
    assert "Give a reason: the organisation&#39;s members will see it." in html
    assert 'value="billing@bitumio.test"' in html
    assert org_named(app, "Acme Paving").support_suspended is False
    assert audit_rows(app) == []


def test_changing_only_the_contact_of_a_suspension_records_just_that(app, client, admin):
    org_id = make_org(app, "Acme Paving", suspended="Invoices overdue")
    client.post(f"{ORGS}/{org_id}/suspend", data={
        "suspend-reason": "Invoices overdue", "suspend-contact": "Dana, +1 555 0100"})
    [row] = audit_rows(app)
    assert (row["before"], row["after"]) == ({"suspension_contact": ""},
                                             {"suspension_contact": "Dana, +1 555 0100"})


def test_members_of_a_suspended_organisation_see_reason_and_contact_and_cannot_file(
        app, client, admin, make_user):
    org_id = make_org(app, "Acme Paving")
    make_user(email="casey@acme.test", org="Acme Paving")
    client.post(f"{ORGS}/{org_id}/suspend", data={
        "suspend-reason": "Invoices overdue since October",
        "suspend-contact": "Dana Reyes, billing@bitumio.test"})

    customer = app.test_client()
    customer.post("/login", data={"email": "casey@acme.test", "password": "correct horse 1"})
    customer.get("/search", query_string={"q": "export totals"})
    page = customer.get("/tickets/new")
    assert page.status_code == 200
    html = html_of(page)
    assert "Support for Acme Paving is suspended" in html
    assert "Reason: Invoices overdue since October." in html
    assert "Contact: Dana Reyes, billing@bitumio.test." in html
    assert 'name="subject"' not in html
    refused = customer.post("/tickets/new", data=ticket_form())
    assert refused.status_code == 403
    assert "Contact: Dana Reyes, billing@bitumio.test." in html_of(refused)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0

    client.post(f"{ORGS}/{org_id}/resume")
    assert customer.post("/tickets/new", data=ticket_form()).status_code == 303


def ticket_form(**overrides) -> dict:
    return {"subject": "Field report export shows wrong totals",
            "description": "Exporting March reports gives totals that are 10% high.",
            "severity": "2", "product_area": "", "phone": "",
            "idempotency_key": "key-orgs-1"} | overrides


# -- members and tickets --------------------------------------------------------------------

def test_the_detail_page_lists_members_and_their_tickets(app, client, make_user, login):
    make_user(email="casey@acme.test", org="Acme Paving", name="Casey Customer")
    make_user(email="bo@bitumen.test", org="Bitumen Bros", name="Bo Bitumen")
    login("casey@acme.test")
    client.get("/search", query_string={"q": "export totals"})
    assert client.post("/tickets/new", data=ticket_form()).status_code == 303
    client.post("/logout")
    make_user(email="ada@bitumio.test", role="admin")
    login("ada@bitumio.test")
    org = org_named(app, "Acme Paving")
    with app.app_context():
        ticket = db.session.scalar(select(Ticket))
    html = html_of(client.get(f"{ORGS}/{org.id}"))
    assert "Casey Customer" in html and "casey@acme.test" in html
    assert "Bo Bitumen" not in html
    assert f'href="/tickets/{ticket.id}"' in html
    assert f"#{ticket.id}" in html
    assert "Field report export shows wrong totals" in html
    assert "Severity 2" in html
    assert "New" in html
    if "admin.user_detail" in app.view_functions:
        with app.app_context():
            casey = db.session.scalar(select(User).where(User.email == "casey@acme.test"))
        assert f'href="/admin/users/{casey.id}"' in html
    assert "Casey Customer" in html_of(client.get(f"{ORGS}/{org.id}/members"))
    assert "Field report export" in html_of(client.get(f"{ORGS}/{org.id}/tickets"))


def test_members_and_tickets_pages_go_page_by_page(make_app, make_user, login, client):
    app = make_app(ADMIN_PER_PAGE=2)
    client = app.test_client()
    for n in range(3):
        make_user(email=f"m{n}@acme.test", org="Acme Paving", name=f"Member {n}")
    make_user(email="ada@bitumio.test", role="admin")
    client.post("/login", data={"email": "ada@bitumio.test", "password": "correct horse 1"})
    org = org_named(app, "Acme Paving")
    detail = html_of(client.get(f"{ORGS}/{org.id}"))
    assert "Member 0" in detail and "Member 2" not in detail
    assert "All 3 members" in detail
    second = html_of(client.get(f"{ORGS}/{org.id}/members", query_string={"page": "2"}))
    assert "Member 2" in second and "Member 0" not in second


def test_an_unknown_organisation_is_not_found(app, client, admin):
    assert client.get(f"{ORGS}/999").status_code == 404
    assert client.post(f"{ORGS}/999/rename", data={"rename-name": "X"}).status_code == 404


# -- who may see and change -----------------------------------------------------------------

def test_agents_read_organisations_without_forms_and_cannot_change_them(app, client, make_user,
                                                                         login):
    org_id = make_org(app, "Acme Paving", "acme.test", suspended="Invoices overdue")
    login(make_user(email="sam@bitumio.test", role="agent").email)
    listed = client.get(ORGS)
    assert listed.status_code == 200
    assert "Acme Paving" in html_of(listed)
    assert "Add an organisation" not in html_of(listed)
    detail = client.get(f"{ORGS}/{org_id}")
    assert detail.status_code == 200
    html = html_of(detail)
    assert "acme.test" in html and "Reason: Invoices overdue" in html
    assert post_forms(html) == []
    assert client.get(f"{ORGS}/new").status_code == 403
    for path, data in [("new", {"name": "Sneaky"}), (f"{org_id}/rename", {"rename-name": "X"}),
                       (f"{org_id}/domains", {"domain-domain": "x.test"}),
                       (f"{org_id}/domains/remove", {"remove-domain": "acme.test"}),
                       (f"{org_id}/suspend", {"suspend-reason": "x"}),
                       (f"{org_id}/resume", {})]:
        assert client.post(f"{ORGS}/{path}", data=data).status_code == 403, path
    assert org_named(app, "Acme Paving").support_suspended is True
    assert audit_rows(app) == []


def test_customers_get_403_and_visitors_are_asked_to_sign_in(app, client, make_user, login):
    org_id = make_org(app, "Acme Paving")
    assert "/login" in client.get(ORGS).headers["Location"]
    login(make_user(org="Acme Paving").email)
    assert client.get(ORGS).status_code == 403
    assert client.get(f"{ORGS}/{org_id}").status_code == 403
    assert client.post(f"{ORGS}/new", data={"name": "Mine"}).status_code == 403


def test_admins_see_every_form_and_no_id_is_used_twice(app, client, admin):
    org_id = make_org(app, "Acme Paving", "acme.test", "acme.example",
                      suspended="Invoices overdue")
    html = html_of(client.get(f"{ORGS}/{org_id}"))
    assert len(post_forms(html)) == 6  # suspend, resume, 2 x remove, add domain, rename
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    for field in ("suspend-reason", "suspend-contact", "domain-domain", "rename-name"):
        assert f'<label for="{field}"' in html


def test_changes_need_the_form_token(make_app, make_user, login):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    org_id = make_org(app, "Acme Paving")
    make_user(email="ada@bitumio.test", role="admin")
    login_page = html_of(client.get("/login"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    client.post("/login", data={"email": "ada@bitumio.test", "password": "correct horse 1",
                                "csrf_token": token})
    refused = client.post(f"{ORGS}/{org_id}/suspend", data={"suspend-reason": "x"})
    assert refused.status_code == 400
    assert org_named(app, "Acme Paving").support_suspended is False
    page = html_of(client.get(f"{ORGS}/{org_id}"))
    token = re.search(r'name="suspend-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    accepted = client.post(f"{ORGS}/{org_id}/suspend",
                           data={"suspend-reason": "x", "suspend-csrf_token": token})
    assert accepted.status_code == 303
    assert org_named(app, "Acme Paving").support_suspended is True

    client.post(f"{ORGS}/{org_id}/domains", data={
        "domain-domain": "acme.test", "domain-csrf_token": token})
    page = html_of(client.get(f"{ORGS}/{org_id}"))
    [tag] = re.findall(r'<input[^>]*name="remove-csrf_token"[^>]*>', page)
    assert " id=" not in tag  # one such form per domain: no id to repeat
    token = re.search(r'value="([^"]+)"', tag).group(1)
    assert client.post(f"{ORGS}/{org_id}/domains/remove",
                       data={"remove-domain": "acme.test"}).status_code == 400
    assert client.post(f"{ORGS}/{org_id}/domains/remove", data={
        "remove-domain": "acme.test", "remove-csrf_token": token}).status_code == 303
    assert org_named(app, "Acme Paving").domains == []


# -- the list: search, filter, pages --------------------------------------------------------

def test_the_list_searches_names_and_domains_and_filters_by_status(app, client, admin):
    make_org(app, "Acme Paving", "acme.test")
    make_org(app, "Bitumen Bros", "bitumen.test", suspended="Invoices overdue")
    make_org(app, "Crushed Stone Ltd", "stone.example")

    def names(**query) -> list[str]:
        html = html_of(client.get(ORGS, query_string=query))
        return re.findall(r'href="/admin/organisations/\d+">([^<]+)</a>', html)

    assert names() == ["Acme Paving", "Bitumen Bros", "Crushed Stone Ltd"]
    assert names(q="BROS") == ["Bitumen Bros"]
    assert names(q="stone.ex") == ["Crushed Stone Ltd"]
    assert names(q="100%") == []
    assert names(status="suspended") == ["Bitumen Bros"]
    assert names(status="active") == ["Acme Paving", "Crushed Stone Ltd"]
    assert names(status="nonsense") == ["Acme Paving", "Bitumen Bros", "Crushed Stone Ltd"]
    assert names(q="test", status="active") == ["Acme Paving"]
    assert "No organisations match." in html_of(client.get(ORGS, query_string={"q": "zzz"}))


def test_the_list_goes_page_by_page_and_keeps_the_filters(make_app, make_user):
    app = make_app(ADMIN_PER_PAGE=2)
    client = app.test_client()
    for name in ("Delta", "alpha", "Echo", "Charlie", "bravo"):
        make_org(app, f"{name} Co")
    make_user(email="ada@bitumio.test", role="admin")
    client.post("/login", data={"email": "ada@bitumio.test", "password": "correct horse 1"})

    def names(**query) -> list[str]:
        html = html_of(client.get(ORGS, query_string=query))
        return re.findall(r'href="/admin/organisations/\d+">([^<]+)</a>', html)

    assert names() == ["alpha Co", "bravo Co"]
    assert names(page="2") == ["Charlie Co", "Delta Co"]
    assert names(page="3") == ["Echo Co"]
    assert names(page="99") == ["Echo Co"]
    assert names(page="junk") == ["alpha Co", "bravo Co"]
    first = html_of(client.get(ORGS, query_string={"q": "co", "status": "active"}))
    assert "5 organisations, showing 1–2" in first
    assert 'href="/admin/organisations?page=2&amp;q=co&amp;status=active"' in first
