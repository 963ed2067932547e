"""Filing tickets: the search gate, the form, entitlement, privacy, attachments, failures."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from portal.extensions import db
from portal.models import Organisation, SuggestionClick, Ticket, TicketAttachment

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def form(**overrides) -> dict:
    data = {
        "subject": "Field report export shows wrong totals",
        "description": "Exporting **March** reports gives totals that are 10% high.",
        "severity": "2",
        "product_area": "projects-and-field-reports",
        "phone": "",
        "idempotency_key": "key-0001",
    }
    data.update(overrides)
    return data


def count_tickets(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Ticket))


def tickets(app) -> list[Ticket]:
    with app.app_context():
        found = list(db.session.scalars(select(Ticket).order_by(Ticket.id)))
        for ticket in found:
            db.session.expunge(ticket)
        return found


@pytest.fixture
def customer(make_user, login):
    user = make_user(email="casey@acme.test", org="Acme Paving", name="Casey Customer")
    login(user.email)
    return user


def search(client, query="export totals"):
    return client.get("/search", query_string={"q": query})


# -- the gate -------------------------------------------------------------------------------

def test_form_get_without_a_search_lands_on_search_with_a_reason(app, client, customer):
    response = client.get("/tickets/new")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/search")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Please search the help center first" in page


def test_direct_post_without_a_search_files_nothing(app, client, customer):
    response = client.post("/tickets/new", data=form())
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/search")
    assert count_tickets(app) == 0


def test_an_empty_search_does_not_open_the_gate(app, client, customer):
    search(client, "   ")
    assert client.get("/tickets/new").status_code == 303


def test_after_a_search_the_form_opens_and_files(app, client, customer):
    search(client)
    page = client.get("/tickets/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="idempotency_key"' in html
    assert "Severity 1</strong> — Critical" in html
    assert "First response within 2 hours, counted 8:00 AM–8:00 PM ET, every day" in html
    assert "Projects and field reports" in html or "Projects and Field Reports" in html
    response = client.post("/tickets/new", data=form())
    assert response.status_code == 303
    assert count_tickets(app) == 1
    [ticket] = tickets(app)
    assert response.headers["Location"].endswith(f"/tickets/{ticket.id}")
    assert ticket.searches == ["export totals"]
    assert ticket.severity == ticket.proposed_severity == 2
    assert ticket.next_due_kind == "first_response"
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Ticket #{ticket.id} filed. We will reply by" in shown
    assert "First response due" in shown
    assert "How we counted this" in shown


def test_signed_out_visitors_who_searched_are_asked_to_sign_in(app, client):
    search(client)
    response = client.get("/tickets/new")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_search_survives_signing_in(app, client, make_user, login):
    user = make_user(org="Acme Paving")
    search(client)
    login(user.email)
    assert client.get("/tickets/new").status_code == 200


def test_still_need_help_appears_on_articles_only_after_a_search(app, client, customer):
    before = client.get("/articles/reset-your-password").get_data(as_text=True)
    assert "Still need help? Submit a ticket" not in before
    search(client, "password")
    after = client.get("/articles/reset-your-password").get_data(as_text=True)
    assert "Still need help? Submit a ticket" in after
    assert 'href="/tickets/new"' in after


def test_contact_support_in_the_header_points_at_the_ticket_form(client):
    assert re.search(r'href="/tickets/new" class="contact-link"',
                     client.get("/").get_data(as_text=True))


def test_csrf_is_required_on_the_form(make_app, make_user):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    user = make_user(org="Acme Paving")
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"email": user.email, "password": "correct horse 1",
                                "csrf_token": token})
    search(client)
    assert client.post("/tickets/new", data=form()).status_code == 400
    assert count_tickets(app) == 0
    page = client.get("/tickets/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/tickets/new", data=form(csrf_token=token)).status_code == 303
    assert count_tickets(app) == 1


# -- the form -------------------------------------------------------------------------------

def test_wrong_input_keeps_everything_typed(app, client, customer):
    search(client)
    response = client.post("/tickets/new", data=form(
        description="", phone="call me maybe", severity="2",
        subject="Crews cannot sync <their> reports"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'value="Crews cannot sync &lt;their&gt; reports"' in html
    assert 'value="call me maybe"' in html
    assert "Describe the problem so we can help." in html
    assert "Use digits, spaces" in html
    assert re.search(r'value="2"\s+checked', html)
    assert count_tickets(app) == 0


def test_description_markdown_is_sanitized_like_articles(app, client, customer):
    search(client)
    client.post("/tickets/new", data=form(
        description="**Bold** <script>alert('x')</script> <img src=x onerror=alert(1)>"))
    [ticket] = tickets(app)
    html = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "<strong>Bold</strong>" in html
    body = html.split('class="message-body">', 1)[1].split("</div>", 1)[0]
    assert "<script" not in body
    assert "onerror" not in body


def test_a_double_submit_files_one_ticket(app, client, customer):
    search(client)
    first = client.post("/tickets/new", data=form(idempotency_key="same-key"))
    second = client.post("/tickets/new", data=form(idempotency_key="same-key"))
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert count_tickets(app) == 1
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "You already filed this as ticket" in page


def test_the_idempotency_key_is_unique_in_the_database(app, customer):
    from sqlalchemy.exc import IntegrityError

    with app.app_context():
        org = db.session.scalar(select(Organisation))
        for _ in range(2):
            db.session.add(Ticket(organisation_id=org.id, subject="s", description="d",
                                  severity=3, proposed_severity=3, idempotency_key="k"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_a_database_failure_shows_503_keeps_the_text_and_files_nothing(app, client, customer):
    search(client)
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("ALTER TABLE ticket RENAME TO ticket_unreachable"))
    try:
        response = client.post("/tickets/new", data=form(
            subject="Plant tickets vanish", description="Since Monday, **all** of them."))
    finally:
        with app.app_context(), db.engine.begin() as conn:
            conn.execute(text("ALTER TABLE ticket_unreachable RENAME TO ticket"))
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert "Nothing was filed" in html
    assert 'value="Plant tickets vanish"' in html
    assert "Since Monday, **all** of them." in html
    assert "Traceback" not in html
    assert count_tickets(app) == 0
    again = client.post("/tickets/new", data=form(
        subject="Plant tickets vanish", description="Since Monday, **all** of them."))
    assert again.status_code == 303
    assert count_tickets(app) == 1


# -- entitlement and privacy ----------------------------------------------------------------

def test_a_suspended_organisation_can_read_but_not_file(app, client, customer):
    with app.app_context():
        org = db.session.scalar(select(Organisation).where(Organisation.name == "Acme Paving"))
        org.support_suspended = True
        org.suspension_reason = "Invoices overdue since October"
        db.session.commit()
    search(client)
    page = client.get("/tickets/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Support for Acme Paving is suspended" in html
    assert "Invoices overdue since October" in html
    assert "support@bitumio.com" in html
    assert 'name="subject"' not in html
    refused = client.post("/tickets/new", data=form())
    assert refused.status_code == 403
    assert count_tickets(app) == 0
    assert client.get("/articles/reset-your-password").status_code == 200


def test_a_customer_without_an_organisation_is_told_why(app, client, make_user, login):
    user = make_user()
    login(user.email)
    search(client)
    html = client.get("/tickets/new").get_data(as_text=True)
    assert "not linked to a customer organisation" in html
    assert client.post("/tickets/new", data=form()).status_code == 403
    assert count_tickets(app) == 0


def test_another_organisations_ticket_is_404_like_a_missing_one(app, client, customer,
                                                                 make_user, login):
    search(client)
    client.post("/tickets/new", data=form(), content_type="multipart/form-data")
    client.post("/tickets/new", data=form(idempotency_key="k2") | {
        "attachments": (io.BytesIO(PNG), "screen.png")}, content_type="multipart/form-data")
    first, second = tickets(app)
    with app.app_context():
        file_id = db.session.scalar(select(TicketAttachment.id))
    colleague = make_user(org="Acme Paving")
    outsider = make_user(org="Globex Asphalt")
    login(colleague.email)
    assert client.get(f"/tickets/{first.id}").status_code == 200
    with client.get(f"/tickets/{second.id}/files/{file_id}") as shared:
        assert shared.status_code == 200
    login(outsider.email)
    client.get("/")  # shows the "signed in" message, so the two pages below compare cleanly
    missing = client.get("/tickets/9999")
    other = client.get(f"/tickets/{first.id}")
    assert other.status_code == missing.status_code == 404
    assert other.get_data() == missing.get_data()
    assert client.get(f"/tickets/{second.id}/files/{file_id}").status_code == 404
    assert client.post(f"/tickets/{first.id}/reply", data={"body": "hi"}).status_code == 404
    mine = client.get("/tickets/").get_data(as_text=True)
    assert "Field report export" not in mine


# -- attachments ----------------------------------------------------------------------------

def test_attachments_are_stored_outside_the_web_root_under_generated_names(app, client,
                                                                          customer):
    search(client)
    response = client.post("/tickets/new", data=form() | {
        "attachments": [(io.BytesIO(PNG), "my screen.png"),
                        (io.BytesIO(b"line 1\nline 2\n"), "sync.log")]},
        content_type="multipart/form-data")
    assert response.status_code == 303
    with app.app_context():
        stored = list(db.session.scalars(select(TicketAttachment).order_by(TicketAttachment.id)))
        names = [(a.original_name, a.stored_name, a.id) for a in stored]
    folder = app.config.get("ATTACHMENTS_DIR") or f"{app.instance_path}/attachments"
    for _original, stored_name, _ in names:
        assert re.fullmatch(r"[0-9a-f]{32}", stored_name)
        assert (Path(folder) / stored_name).is_file()
    assert "static" not in folder
    [ticket] = tickets(app)
    with client.get(f"/tickets/{ticket.id}/files/{names[0][2]}") as image:
        assert image.status_code == 200
        assert image.data == PNG
        assert image.headers["Content-Type"] == "image/png"
        assert "sandbox" in image.headers["Content-Security-Policy"]
    with client.get(f"/tickets/{ticket.id}/files/{names[1][2]}") as log:
        assert log.headers["Content-Disposition"].startswith("attachment")
        assert log.data == b"line 1\nline 2\n"


@pytest.mark.parametrize(("upload", "message"), [
    ((b"MZ\x90\x00", "setup.exe"), "not a file type we accept"),
    ((b"just text pretending", "photo.png"), "does not look like a .png file"),
    ((b"", "empty.txt"), "is empty"),
])
def test_bad_attachments_are_refused_and_the_text_is_kept(app, client, customer, upload,
                                                          message):
    search(client)
    content, name = upload
    response = client.post("/tickets/new", data=form(subject="Keep me") | {
        "attachments": (io.BytesIO(content), name)}, content_type="multipart/form-data")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert 'value="Keep me"' in html
    assert count_tickets(app) == 0
    folder = Path(app.instance_path) / "attachments"
    assert not folder.exists() or not any(folder.iterdir())


def test_attachment_size_and_count_limits(make_app, make_user, login):
    app = make_app(ATTACHMENT_MAX_BYTES=1024, ATTACHMENT_MAX_FILES=1)
    client = app.test_client()
    user = make_user(org="Acme Paving")
    client.post("/login", data={"email": user.email, "password": "correct horse 1"})
    search(client)
    too_big = client.post("/tickets/new", data=form() | {
        "attachments": (io.BytesIO(PNG + b"\x00" * 2048), "big.png")},
        content_type="multipart/form-data")
    assert "larger than" in too_big.get_data(as_text=True)
    too_many = client.post("/tickets/new", data=form() | {
        "attachments": [(io.BytesIO(PNG), "a.png"), (io.BytesIO(PNG), "b.png")]},
        content_type="multipart/form-data")
    assert "Attach at most 1 files." in too_many.get_data(as_text=True)
    assert count_tickets(app) == 0


# -- deflection -----------------------------------------------------------------------------

def test_suggestion_clicks_are_recorded_and_linked_when_the_visit_files(app, client,
                                                                        customer, runner):
    search(client)
    client.get("/tickets/new")
    response = client.get("/tickets/suggested/reset-your-password",
                          query_string={"subject": "cannot log in"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/articles/reset-your-password")
    assert client.get("/tickets/suggested/no-such-article").status_code == 404
    client.get(response.headers["Location"])  # the reader opens it in a new tab
    client.post("/tickets/new", data=form())
    [ticket] = tickets(app)
    with app.app_context():
        click = db.session.scalar(select(SuggestionClick))
        assert (click.slug, click.subject, click.ticket_id) == (
            "reset-your-password", "cannot log in", ticket.id)
    assert "reset-your-password" in ticket.viewed_articles


def test_a_visit_that_opens_a_suggestion_and_never_files_counts_as_deflected(make_app):
    app = make_app(DEFLECTION_WINDOW_HOURS=0)
    for _visitor in range(3):
        client = app.test_client()
        client.get("/search?q=password")
        client.get("/tickets/suggested/reset-your-password?subject=password")
    result = app.test_cli_runner().invoke(args=["tickets", "deflection"])
    assert result.exit_code == 0, result.output
    assert "visits that opened a suggestion: 3 (3 clicks)" in result.output
    assert "filed a ticket anyway: 0" in result.output
    assert "deflected (no ticket in that visit): 3" in result.output
