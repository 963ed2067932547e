"""Each route's own body limit is the one that applies (security review finding 4).

The README allows 5 attachments of 10 MB each, but the app-wide 16 MB limit answered 413
first: the CSRF check reads the form before the ticket route could raise the limit.
"""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from portal.extensions import db
from portal.models import Ticket

MB = 1024 * 1024


@pytest.fixture
def customer(make_app, make_user):
    app = make_app(WTF_CSRF_ENABLED=True)  # the check that read the form too early
    make_user(email="carol@acme.example", name="Carol", org="Acme")
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"email": "carol@acme.example", "password": "correct horse 1",
                                "csrf_token": csrf(page)})
    client.get("/search?q=export")
    return app, client


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)


def log_file(name: str, size: int):
    return (io.BytesIO(b"2026-12-01 09:00 export started\n" * (size // 32)), name)


def post_multipart(client, url: str, fields: dict, files: list):
    """Encoded in memory: the test client's own temporary file for a large body is never
    closed, which pytest reports as an error."""
    boundary, body = encode_multipart(MultiDict(
        [*fields.items(), *(("attachments", FileStorage(*f)) for f in files)]))
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def ticket_form(client) -> dict:
    page = client.get("/tickets/new").get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page).group(1)
    return {"csrf_token": csrf(page), "idempotency_key": key, "subject": "Export totals wrong",
            "description": "The totals are off on every report.", "severity": "3",
            "product_area": ""}


def test_a_ticket_with_attachments_over_16_mb_in_all_is_filed(customer):
    app, client = customer
    response = post_multipart(client, "/tickets/new", ticket_form(client),
                              [log_file("a.log", 9 * MB), log_file("b.log", 9 * MB)])
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    with app.app_context():
        ticket = db.session.scalars(select(Ticket)).one()
        assert sorted(a.original_name for a in ticket.attachments) == ["a.log", "b.log"]


def test_a_body_over_the_routes_limit_gets_a_clear_page(customer):
    _, client = customer
    response = post_multipart(client, "/tickets/new", ticket_form(client),
                              [log_file(f"{n}.log", 11 * MB) for n in range(5)])
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "at most 52 MB in all" in page and "Back button" in page
    assert "Traceback" not in page


def test_other_forms_keep_the_small_app_wide_limit(customer):
    _, client = customer
    response = client.post("/login", data={"email": "x" * (17 * MB)})
    assert response.status_code == 413
