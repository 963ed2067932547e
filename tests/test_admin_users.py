"""The people pages of the admin console (/admin/users): finding people, inviting them,
changing role and organisation, deactivating, reset links, and the audit rows each
change leaves. The `flask users` commands are in test_users_cli.py."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.accounts.passwords import verify_password
from portal.extensions import db
from portal.models import (
    AuditEvent,
    Organisation,
    OutboxMessage,
    Role,
    Ticket,
    TicketStatus,
    User,
    UserSession,
)

PASSWORD = "correct horse 1"


def sign_in(app, email: str, password: str = PASSWORD):
    """A separate browser signed in as `email`."""
    browser = app.test_client()
    response = browser.post("/login", data={"email": email, "password": password})
    assert response.status_code == 302, "sign-in failed"
    return browser


def signed_in_as(browser, name: str) -> bool:
    return name in browser.get("/").get_data(as_text=True)


def audit_rows(app, action: str | None = None) -> list[dict]:
    with app.app_context():
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        return [{"actor": e.actor, "actor_id": e.actor_id, "action": e.action,
                 "target": e.target, "target_id": e.target_id, "before": e.before,
                 "after": e.after} for e in db.session.scalars(query)]


def user_row(app, email: str) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None:
            user.organisation  # noqa: B018  (load it before leaving the session)
            db.session.expunge(user)
        return user


def outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        found = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        for message in found:
            db.session.expunge(message)
        return found


def add_org(app, name: str) -> int:
    with app.app_context():
        org = Organisation(name=name)
        db.session.add(org)
        db.session.commit()
        return org.id


@pytest.fixture
def admin(app, make_user, login):
    user = make_user(email="ada@example.com", role="admin", name="Ada Admin")
    assert login(user.email).status_code == 302
    return user


def page_text(response) -> str:
    return response.get_data(as_text=True)


# -- an account with no password -------------------------------------------------------------

def test_an_empty_password_hash_never_matches_any_password():
    # The dummy hash used to spend time on unknown accounts must not be a way in either.
    assert verify_password("", "not a real password") is False
    assert verify_password(None, "not a real password") is False
    assert verify_password("", "") is False


# -- access ---------------------------------------------------------------------------------

def test_customers_are_refused_and_visitors_sent_to_sign_in(app, client, make_user, login):
    customer = make_user(email="cat@example.com")
    target = make_user(email="target@example.com")
    assert client.get("/admin/users").status_code in (302, 303)
    login(customer.email)
    assert client.get("/admin/users").status_code == 403
    assert client.get(f"/admin/users/{target.id}").status_code == 403
    assert client.post(f"/admin/users/{target.id}/role", data={"role": "admin"}).status_code == 403
    assert user_row(app, customer.email).role == Role.CUSTOMER


def test_agents_read_people_without_the_forms_and_cannot_change(app, client, make_user, login):
    make_user(email="ann@example.com", role="agent", name="Ann Agent")
    target = make_user(email="pat@acme.test", org="Acme Paving", name="Pat Customer")
    login("ann@example.com")
    listing = client.get("/admin/users")
    assert listing.status_code == 200
    assert "Pat Customer" in page_text(listing)
    assert "Add a person" not in page_text(listing)
    detail = client.get(f"/admin/users/{target.id}")
    assert detail.status_code == 200
    html = page_text(detail)
    assert "Acme Paving" in html
    assert "Change role" not in html and "Deactivate" not in html
    assert "Recent changes" not in html  # the audit log is for admins
    assert client.get("/admin/users/new").status_code == 403
    for action in ("role", "organisation", "detach", "deactivate", "reactivate", "reset-link"):
        assert client.post(f"/admin/users/{target.id}/{action}",
                           data={"role": "admin"}).status_code == 403, action
    assert user_row(app, target.email).active
    assert audit_rows(app) == []


def test_an_unknown_person_is_404(client, admin):
    assert client.get("/admin/users/9999").status_code == 404
    assert client.post("/admin/users/9999/deactivate").status_code == 404


# -- finding people -------------------------------------------------------------------------

@pytest.fixture
def crowd(app, make_user):
    """Six people besides the admin."""
    make_user(email="pat@acme.test", org="Acme Paving", name="Pat Paver")
    make_user(email="quinn@acme.test", org="Acme Paving", name="Quinn Roller")
    make_user(email="rita@bitu.test", org="Bitu Roads", name="Rita Tar")
    make_user(email="sam_s@example.com", name="Sam Loose")  # no organisation
    make_user(email="tess@example.com", role="agent", name="Tess 100% Agent")
    gone = make_user(email="uma@example.com", name="Uma Gone")
    with app.app_context():
        db.session.get(User, gone.id).active = False
        # Self-registered, address not confirmed yet.
        db.session.scalar(select(User).where(User.email == "sam_s@example.com")
                          ).email_verified_at = None
        db.session.commit()


def listed(response) -> list[str]:
    return re.findall(r'<td data-label="Email">([^<]+)</td>', page_text(response))


def test_search_by_part_of_a_name_or_address_in_any_case(client, admin, crowd):
    assert listed(client.get("/admin/users", query_string={"q": "ROLLER"})) == ["quinn@acme.test"]
    assert listed(client.get("/admin/users", query_string={"q": "Acme.TEST"})) == [
        "pat@acme.test", "quinn@acme.test"]
    html = page_text(client.get("/admin/users", query_string={"q": "acme"}))
    assert "2 people" in html
    assert 'value="acme"' in html  # the search box keeps what was typed


def test_percent_and_underscore_in_a_search_are_plain_characters(client, admin, crowd):
    assert listed(client.get("/admin/users", query_string={"q": "100%"})) == ["tess@example.com"]
    assert listed(client.get("/admin/users", query_string={"q": "_"})) == ["sam_s@example.com"]
    assert listed(client.get("/admin/users", query_string={"q": "%"})) == ["tess@example.com"]
    nobody = client.get("/admin/users", query_string={"q": "zzz"})
    assert listed(nobody) == [] and "Nobody matches." in page_text(nobody)


def test_filter_by_role_organisation_and_status(app, client, admin, crowd):
    with app.app_context():
        acme = db.session.scalar(select(Organisation.id).where(Organisation.name == "Acme Paving"))
    assert listed(client.get("/admin/users", query_string={"role": "agent"})) == [
        "tess@example.com"]
    assert listed(client.get("/admin/users", query_string={"organisation": acme})) == [
        "pat@acme.test", "quinn@acme.test"]
    assert listed(client.get("/admin/users", query_string={
        "organisation": "none", "role": "customer"})) == [
        "sam_s@example.com", "uma@example.com"]
    assert listed(client.get("/admin/users", query_string={"status": "deactivated"})) == [
        "uma@example.com"]
    active = listed(client.get("/admin/users", query_string={"status": "active"}))
    assert "uma@example.com" not in active and len(active) == 6
    assert listed(client.get("/admin/users", query_string={"status": "unverified"})) == [
        "sam_s@example.com"]
    html = page_text(client.get("/admin/users"))
    assert '<option value="none">No organisation</option>' in html
    assert "Acme Paving" in html and "Bitu Roads" in html


def test_a_filter_that_is_not_a_choice_is_ignored_not_an_error(client, admin, crowd):
    response = client.get("/admin/users", query_string={
        "role": "king", "status": "<script>", "organisation": "abc", "page": "x"})
    assert response.status_code == 200
    assert len(listed(response)) == 7


def test_pages_of_people_keep_the_filters(app, make_app, make_user, client):
    app = make_app(ADMIN_PER_PAGE=2)
    client = app.test_client()
    make_user(email="ada@example.com", role="admin", name="Ada Admin")
    for letter in "bcdef":
        make_user(email=f"{letter}@acme.test", org="Acme Paving", name=f"Member {letter}")
    client.post("/login", data={"email": "ada@example.com", "password": PASSWORD})
    first = client.get("/admin/users", query_string={"q": "acme"})
    assert listed(first) == ["b@acme.test", "c@acme.test"]
    assert "5 people, showing 1–2" in page_text(first)
    assert 'href="/admin/users?page=2&amp;q=acme"' in page_text(first)
    assert listed(client.get("/admin/users", query_string={"q": "acme", "page": 3})) == [
        "f@acme.test"]
    past_the_end = client.get("/admin/users", query_string={"q": "acme", "page": 99})
    assert listed(past_the_end) == ["f@acme.test"]


def test_the_list_shows_role_organisation_status_and_last_sign_in(app, client, admin, crowd):
    sign_in(app, "pat@acme.test")
    html = page_text(client.get("/admin/users"))

    def row(name: str) -> str:
        return re.search(rf'<tr data-user="\d+">(?:(?!</tr>).)*{name}.*?</tr>', html,
                         re.S).group(0)

    pat = row("Pat Paver")
    assert "Acme Paving" in pat and "Customer" in pat and "Active" in pat
    assert "<time" in pat  # last signed in
    assert "Address unconfirmed" not in pat
    assert "Address unconfirmed" in row("Sam Loose")
    assert "Deactivated" in row("Uma Gone") and "never" in row("Uma Gone")


# -- changing role --------------------------------------------------------------------------

def test_an_admin_changes_a_role_and_it_is_audited(app, client, admin, make_user):
    pat = make_user(email="pat@example.com", name="Pat")
    response = client.post(f"/admin/users/{pat.id}/role", data={"role": "agent"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/admin/users/{pat.id}")
    assert "Pat is now an agent." in page_text(client.get(response.headers["Location"]))
    assert user_row(app, pat.email).role == Role.AGENT
    [row] = audit_rows(app)
    assert row == {"actor": "ada@example.com", "actor_id": admin.id, "action": "user.set_role",
                   "target": "pat@example.com", "target_id": pat.id,
                   "before": {"role": "customer"}, "after": {"role": "agent"}}
    # The same role again changes nothing and records nothing.
    client.post(f"/admin/users/{pat.id}/role", data={"role": "agent"})
    assert len(audit_rows(app)) == 1


def test_a_role_that_is_not_a_choice_keeps_the_page_and_changes_nothing(app, client, admin,
                                                                         make_user):
    pat = make_user(email="pat@example.com")
    response = client.post(f"/admin/users/{pat.id}/role", data={"role": "emperor"})
    assert response.status_code == 422
    assert "Not a valid choice" in page_text(response)
    assert user_row(app, pat.email).role == Role.CUSTOMER
    assert audit_rows(app) == []


def test_the_last_active_admin_cannot_be_demoted(app, client, admin, make_user):
    response = client.post(f"/admin/users/{admin.id}/role", data={"role": "agent"})
    assert response.status_code == 422
    assert "ada@example.com is the only active admin" in page_text(response)
    assert user_row(app, admin.email).role == Role.ADMIN
    assert audit_rows(app) == []
    # A deactivated admin does not count as another one.
    other = make_user(email="bob@example.com", role="admin")
    client.post(f"/admin/users/{other.id}/deactivate")
    assert client.post(f"/admin/users/{admin.id}/role",
                       data={"role": "agent"}).status_code == 422
    # With another active admin, an admin may step down (and then leaves the console).
    client.post(f"/admin/users/{other.id}/reactivate")
    response = client.post(f"/admin/users/{admin.id}/role", data={"role": "agent"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/")
    assert user_row(app, admin.email).role == Role.AGENT


# -- organisations --------------------------------------------------------------------------

def form_for_ticket(**overrides) -> dict:
    data = {"subject": "Field report export shows wrong totals",
            "description": "Exporting March reports gives totals that are 10% high.",
            "severity": "2", "product_area": "projects-and-field-reports", "phone": "",
            "idempotency_key": "key-attach-1"}
    return data | overrides


def test_an_attached_self_registered_customer_can_then_file_a_ticket(app, client, admin,
                                                                     make_user):
    org_id = add_org(app, "Acme Paving")
    casey = make_user(email="casey@acme.test", name="Casey")  # as /register leaves it
    casey_browser = sign_in(app, casey.email)
    casey_browser.get("/search", query_string={"q": "export totals"})
    before = page_text(casey_browser.get("/tickets/new"))
    assert "not linked to a customer organisation" in before

    detail = page_text(client.get(f"/admin/users/{casey.id}"))
    assert "cannot file tickets until attached" in detail
    assert f'<option value="{org_id}">Acme Paving</option>' in detail
    response = client.post(f"/admin/users/{casey.id}/organisation", data={"organisation": org_id})
    assert response.status_code == 303
    assert "Casey is now in Acme Paving." in page_text(client.get(response.headers["Location"]))

    page = casey_browser.get("/tickets/new")
    assert page.status_code == 200
    assert "not linked to a customer organisation" not in page_text(page)
    assert 'name="idempotency_key"' in page_text(page)
    assert casey_browser.post("/tickets/new", data=form_for_ticket()).status_code == 303
    with app.app_context():
        ticket = db.session.scalar(select(Ticket))
        assert (ticket.requester_id, ticket.organisation_id) == (casey.id, org_id)
    [row] = audit_rows(app, "user.attach")
    assert (row["actor"], row["target"]) == ("ada@example.com", "casey@acme.test")
    assert (row["before"], row["after"]) == ({"organisation": None},
                                             {"organisation": "Acme Paving"})


def test_moving_and_detaching_are_audited(app, client, admin, make_user):
    bitu = add_org(app, "Bitu Roads")
    pat = make_user(email="pat@acme.test", org="Acme Paving", name="Pat")
    client.post(f"/admin/users/{pat.id}/organisation", data={"organisation": bitu})
    assert user_row(app, pat.email).organisation.name == "Bitu Roads"
    response = client.post(f"/admin/users/{pat.id}/detach")
    assert "Pat is no longer in Bitu Roads." in page_text(client.get(response.headers["Location"]))
    assert user_row(app, pat.email).organisation is None
    assert [(r["action"], r["before"], r["after"]) for r in audit_rows(app)] == [
        ("user.attach", {"organisation": "Acme Paving"}, {"organisation": "Bitu Roads"}),
        ("user.detach", {"organisation": "Bitu Roads"}, {"organisation": None})]
    # Detaching someone in no organisation changes and records nothing.
    client.post(f"/admin/users/{pat.id}/detach")
    assert len(audit_rows(app)) == 2


def test_attaching_without_choosing_an_organisation_says_so(app, client, admin, make_user):
    add_org(app, "Acme Paving")
    pat = make_user(email="pat@example.com")
    response = client.post(f"/admin/users/{pat.id}/organisation", data={"organisation": ""})
    assert response.status_code == 422
    assert "Choose an organisation." in page_text(response)
    missing = client.post(f"/admin/users/{pat.id}/organisation", data={"organisation": "999"})
    assert missing.status_code == 422
    assert audit_rows(app) == []


# -- deactivating ---------------------------------------------------------------------------

def test_deactivation_signs_the_user_out_everywhere_and_stops_sign_in(app, client, admin,
                                                                      make_user):
    pat = make_user(email="pat@example.com", name="Pat Customer")
    phone, laptop = sign_in(app, pat.email), sign_in(app, pat.email)
    assert signed_in_as(phone, "Pat Customer") and signed_in_as(laptop, "Pat Customer")
    assert "2 sessions" in page_text(client.get(f"/admin/users/{pat.id}"))

    response = client.post(f"/admin/users/{pat.id}/deactivate")
    assert response.status_code == 303
    shown = page_text(client.get(response.headers["Location"]))
    assert "Pat Customer is deactivated and signed out of 2 sessions" in shown
    assert "Reactivate" in shown

    assert not signed_in_as(phone, "Pat Customer")
    assert not signed_in_as(laptop, "Pat Customer")
    assert phone.get("/tickets/").status_code in (302, 303)  # asked to sign in
    refused = app.test_client().post("/login", data={"email": pat.email, "password": PASSWORD})
    assert refused.status_code == 200  # the sign-in form again, not a redirect
    with app.app_context():
        assert db.session.scalars(select(UserSession).where(
            UserSession.user_id == pat.id)).all() == []
    [row] = audit_rows(app)
    assert row["action"] == "user.deactivate" and row["actor"] == "ada@example.com"
    assert row["before"] == {"active": True}
    assert row["after"] == {"active": False, "sessions_ended": 2}


def test_reactivation_lets_them_sign_in_again(app, client, admin, make_user):
    pat = make_user(email="pat@example.com", name="Pat Customer")
    client.post(f"/admin/users/{pat.id}/deactivate")
    response = client.post(f"/admin/users/{pat.id}/reactivate")
    assert "Pat Customer can sign in again." in page_text(
        client.get(response.headers["Location"]))
    assert signed_in_as(sign_in(app, pat.email), "Pat Customer")
    assert [(r["action"], r["before"], r["after"]) for r in audit_rows(app)][-1] == (
        "user.reactivate", {"active": False}, {"active": True})


def test_an_admin_cannot_deactivate_themselves(app, client, admin, make_user):
    make_user(email="bob@example.com", role="admin")  # not the last admin: still refused
    detail = page_text(client.get(f"/admin/users/{admin.id}"))
    assert "You cannot deactivate your own account." in detail
    assert f'action="/admin/users/{admin.id}/deactivate"' not in detail
    response = client.post(f"/admin/users/{admin.id}/deactivate")
    assert response.status_code == 422
    assert "You cannot deactivate your own account" in page_text(response)
    assert user_row(app, admin.email).active
    assert signed_in_as(client, "Ada Admin")
    assert audit_rows(app) == []


# -- reset links and invitations ---------------------------------------------------------------

LINK = re.compile(r"http://localhost/reset/[A-Za-z0-9_-]{40,}")


def test_an_admin_sends_a_password_reset_link(app, client, admin, make_user):
    pat = make_user(email="pat@example.com", name="Pat")
    response = client.post(f"/admin/users/{pat.id}/reset-link")
    assert response.status_code == 303
    assert "A password-reset link was sent to pat@example.com." in page_text(
        client.get(response.headers["Location"]))
    [message] = outbox(app)
    assert message.recipient == "pat@example.com"
    assert "Reset your" in message.subject
    link = LINK.search(message.body).group(0)
    [row] = audit_rows(app)
    assert (row["action"], row["target"], row["after"]) == (
        "user.reset_link", "pat@example.com", {"mailed_to": "pat@example.com"})
    assert link.rsplit("/", 1)[1] not in str(row)  # never the secret


def test_a_deactivated_account_gets_no_reset_link_and_earlier_ones_stop(app, client, admin,
                                                                        make_user):
    pat = make_user(email="pat@example.com")
    client.post(f"/admin/users/{pat.id}/reset-link")
    [earlier] = outbox(app)
    link = LINK.search(earlier.body).group(0)
    assert app.test_client().get(link).status_code == 200
    client.post(f"/admin/users/{pat.id}/deactivate")
    assert app.test_client().get(link).status_code == 400
    assert "Send a password-reset link" not in page_text(client.get(f"/admin/users/{pat.id}"))
    response = client.post(f"/admin/users/{pat.id}/reset-link")
    assert response.status_code == 422
    assert "reactivate the account" in page_text(response)
    assert len(outbox(app)) == 1


def test_adding_a_person_mails_an_invitation_with_a_set_password_link(app, client, admin):
    org_id = add_org(app, "Acme Paving")
    form = client.get("/admin/users/new")
    assert form.status_code == 200
    response = client.post("/admin/users/new", data={
        "name": "Nina New", "email": " Nina@Acme.test ", "role": "customer",
        "organisation": str(org_id)})
    assert response.status_code == 303
    nina = user_row(app, "nina@acme.test")
    assert response.headers["Location"].endswith(f"/admin/users/{nina.id}")
    shown = page_text(client.get(response.headers["Location"]))
    assert "An invitation to choose a password was sent to nina@acme.test" in shown
    assert "Invited, no password yet" in shown
    assert nina.password_hash == "" and nina.email_verified_at is not None
    assert nina.organisation.name == "Acme Paving" and nina.role == Role.CUSTOMER

    [message] = outbox(app)
    assert message.recipient == "nina@acme.test"
    assert message.subject.startswith("You are invited")
    assert "ada@example.com created" in message.body and "in Acme Paving" in message.body
    link = LINK.search(message.body).group(0)
    assert "nina@acme.test" in page_text(app.test_client().get(link))  # set-password page
    # No password signs in to an invited account, not even the empty one.
    for attempt in ("", "not a real password"):
        assert app.test_client().post("/login", data={
            "email": "nina@acme.test", "password": attempt}).status_code == 200
    [row] = audit_rows(app)
    assert (row["action"], row["actor"], row["before"]) == ("user.invite", "ada@example.com", {})
    assert row["after"] == {"email": "nina@acme.test", "name": "Nina New", "role": "customer",
                            "organisation": "Acme Paving"}


def test_a_wrong_new_person_form_keeps_what_was_typed(app, client, admin, make_user):
    make_user(email="taken@example.com")
    response = client.post("/admin/users/new", data={
        "name": "Someone Typed", "email": "TAKEN@example.com", "role": "agent",
        "organisation": ""})
    assert response.status_code == 422
    html = page_text(response)
    assert "An account with the address taken@example.com already exists." in html
    assert 'value="Someone Typed"' in html and 'value="TAKEN@example.com"' in html
    assert re.search(r'<option selected value="agent">|<option value="agent" selected', html)
    missing = client.post("/admin/users/new", data={"name": "", "email": "not-an-address",
                                                    "role": "customer", "organisation": ""})
    assert missing.status_code == 422
    assert "Enter the person&#39;s name." in page_text(missing)
    bad = client.post("/admin/users/new", data={"name": "X", "email": "not-an-address",
                                                "role": "customer", "organisation": ""})
    assert "Enter a valid email address" in page_text(bad)
    assert outbox(app) == [] and audit_rows(app) == []


# -- the detail page ------------------------------------------------------------------------------

def test_the_detail_page_shows_the_facts_tickets_and_recent_changes(app, client, admin,
                                                                    make_user):
    pat = make_user(email="pat@acme.test", org="Acme Paving", name="Pat Paver")
    sign_in(app, pat.email)
    with app.app_context():
        db.session.get(User, pat.id).email_verified_at = None
        org_id = db.session.scalar(select(Organisation.id))
        for n, subject in enumerate(["Export is slow", "Login loops"]):
            db.session.add(Ticket(organisation_id=org_id, requester_id=pat.id, subject=subject,
                                  description="d", severity=3, proposed_severity=3,
                                  status=TicketStatus.NEW, idempotency_key=f"k{n}"))
        db.session.commit()
    client.post(f"/admin/users/{pat.id}/role", data={"role": "editor"})
    html = page_text(client.get(f"/admin/users/{pat.id}"))
    assert "<h1>Pat Paver</h1>" in html
    assert "Not confirmed yet" in html
    assert re.search(r"<dt>Last signed in</dt><dd><time", html)
    assert "1 session" in html
    assert "Tickets they filed (2)" in html
    assert "Export is slow" in html and "Login loops" in html
    assert "/tickets/" in html
    assert "Changed a role" in html and "role: customer" in html and "role: editor" in html


def test_the_forms_work_with_csrf_protection_on(make_app, make_user):
    app = make_app(WTF_CSRF_ENABLED=True)
    make_user(email="ada@example.com", role="admin")
    pat = make_user(email="pat@example.com", name="Pat")
    browser = app.test_client()

    def token(html: str) -> str:
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)

    login_page = page_text(browser.get("/login"))
    assert browser.post("/login", data={"email": "ada@example.com", "password": PASSWORD,
                                        "csrf_token": token(login_page)}).status_code == 302
    detail = page_text(browser.get(f"/admin/users/{pat.id}"))
    assert browser.post(f"/admin/users/{pat.id}/role",
                        data={"role": "agent"}).status_code == 400  # no token
    assert browser.post(f"/admin/users/{pat.id}/role", data={
        "role": "agent", "csrf_token": token(detail)}).status_code == 303
    assert browser.post(f"/admin/users/{pat.id}/deactivate",
                        data={"csrf_token": token(detail)}).status_code == 303
    assert user_row(app, "pat@example.com").role == Role.AGENT
    assert not user_row(app, "pat@example.com").active
    new_page = page_text(browser.get("/admin/users/new"))
    assert browser.post("/admin/users/new", data={
        "name": "Nina", "email": "nina@example.com", "role": "customer", "organisation": "",
        "csrf_token": token(new_page)}).status_code == 303
