"""Errors on the ticket form are shown beside the field they are about, and say what to do."""

from __future__ import annotations

import io
import re
from html import unescape

import pytest

FORM = {
    "subject": "Field report export shows wrong totals",
    "description": "Exporting March reports gives totals that are 10% high.",
    "severity": "2", "product_area": "", "phone": "", "idempotency_key": "key-0001",
}


@pytest.fixture
def customer_client(client, make_user, login):
    user = make_user(email="casey@acme.test", org="Acme Paving")
    login(user.email)
    client.get("/search", query_string={"q": "export totals"})
    return client


def attachments_block(html: str) -> str:
    """The Attachments field: from its label to the end of its field block."""
    start = html.index('for="attachments"')
    return html[start:html.index("</div>", start)]


@pytest.mark.parametrize(("upload", "message"), [
    ((b"MZ\x90\x00", "setup.exe"), "“setup.exe” is not a file type we accept."),
    ((b"just text pretending", "photo.png"), "“photo.png” does not look like a .png file."),
])
def test_a_refused_attachment_is_reported_beside_the_attachments_field(
        customer_client, upload, message):
    content, name = upload
    response = customer_client.post("/tickets/new", data=FORM | {
        "subject": "Keep me", "attachments": (io.BytesIO(content), name)},
        content_type="multipart/form-data")
    assert response.status_code == 422
    html = unescape(response.get_data(as_text=True))
    assert 'class="flashes"' not in html  # not at the top of the page
    field = attachments_block(html)
    assert message in field
    assert "choose the files again" in field  # a browser cannot keep files across pages
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*id="attachments"|'
                     r'<input[^>]*id="attachments"[^>]*aria-invalid="true"', field)
    assert 'value="Keep me"' in html  # what was typed is kept


def test_a_refused_attachment_on_a_reply_is_reported_beside_its_field_too(
        customer_client, app):
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import Ticket

    customer_client.post("/tickets/new", data=FORM, follow_redirects=True)
    with app.app_context():
        ticket_id = db.session.scalar(select(Ticket.id))
    response = customer_client.post(f"/tickets/{ticket_id}/reply", data={
        "body": "Here is the program.", "attachments": (io.BytesIO(b"MZ\x90\x00"), "setup.exe")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    html = unescape(response.get_data(as_text=True))
    assert 'class="flashes"' not in html
    assert "“setup.exe” is not a file type we accept." in attachments_block(html)
    assert "Here is the program." in html
