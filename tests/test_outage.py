"""A database outage (security review finding 2): a signed-in reader keeps reading, as a
guest with a notice; what needs the database answers 503 with a clear page and keeps
what the user typed. Runs on SQLite and on PostgreSQL (PORTAL_TEST_DATABASE_URL)."""

from __future__ import annotations

import re

import pytest

from portal import create_app
from tests.conftest import TEST_DATABASE_URL, _base_config
from tests.feedback_pages import ARTICLE_URL, VOTE_URL, page_fields


def unreachable_url(tmp_path) -> str:
    if TEST_DATABASE_URL.startswith("postgresql"):
        return re.sub(r"@[^/]+/", "@127.0.0.1:9/", TEST_DATABASE_URL)  # nothing listens
    return f"sqlite:///{tmp_path}/no-such-folder/portal.db"


@pytest.fixture
def outage(make_app, make_user, tmp_path):
    """(working app, client signed in as a customer who has searched, app without a DB)."""
    app = make_app()
    make_user(email="carol@acme.example", name="Carol", org="Acme")
    client = app.test_client()
    response = client.post("/login", data={"email": "carol@acme.example",
                                           "password": "correct horse 1"})
    assert response.status_code in (302, 303)
    assert client.get("/search?q=export").status_code == 200
    down = create_app(_base_config(tmp_path) | {  # not make_app: nothing to empty afterwards
        "SQLALCHEMY_DATABASE_URI": unreachable_url(tmp_path), "FEEDBACK_MIN_SECONDS": 0,
        "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}}
        if TEST_DATABASE_URL.startswith("postgresql") else {}})
    down_client = down.test_client()
    same_browser(client, down_client)
    return client, down_client, down


def same_browser(source, target) -> None:
    for cookie in source._cookies.values():
        target.set_cookie(cookie.key, cookie.value, domain=cookie.domain)


def no_traceback(page: str) -> None:
    assert "Traceback" not in page and "OperationalError" not in page
    assert "sqlalchemy" not in page.lower()


def test_a_signed_in_reader_keeps_reading_as_a_guest_with_a_notice(outage):
    _, client, _ = outage
    for url in ("/", ARTICLE_URL, "/search?q=password", "/contact"):
        response = client.get(url)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, (url, response.status_code)
        assert "signed in" in page and "guest" in page, url  # the notice
        no_traceback(page)


def test_the_ticket_form_answers_503_and_keeps_the_typed_text(outage):
    _, client, _ = outage
    response = client.post("/tickets/new", data={
        "subject": "Export totals are wrong", "description": "Every report from Smith Road",
        "severity": "2", "idempotency_key": "k" * 32})
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Export totals are wrong" in page and "Every report from Smith Road" in page
    assert "not filed" in page
    no_traceback(page)


@pytest.mark.parametrize("method, url, data, kept", [
    ("get", "/tickets/", None, None),
    ("get", "/tickets/1", None, None),
    ("get", "/training/", None, None),
    ("get", "/status", None, None),
    ("get", "/status.json", None, None),
    ("get", "/status/feed.atom", None, None),
    ("post", "/login", {"email": "carol@acme.example", "password": "x"}, "carol@acme.example"),
    ("post", "/tickets/1/reply", {"body": "Here is the log you asked for"},
     "Here is the log you asked for"),
])
def test_pages_that_need_the_database_answer_503_with_a_clear_page(outage, method, url, data,
                                                                   kept):
    _, client, _ = outage
    response = getattr(client, method)(url, data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 503, (url, response.status_code)
    no_traceback(page)
    if url.endswith(".json"):
        assert response.json["status"] == 503
    elif url.endswith(".atom"):
        pass
    else:
        assert "briefly unavailable" in page or "not" in page
    if kept:
        assert kept in page


def test_a_no_vote_keeps_its_comment_when_the_database_is_down(outage):
    up, client, _ = outage
    fields = page_fields(up, ARTICLE_URL)  # the page was read before the outage
    same_browser(up, client)
    fields.update({"helpful": "no", "reasons": ["unclear"],
                   "comment": "Step 3 names a button that is not there"})
    response = client.post(VOTE_URL, data=fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Step 3 names a button that is not there" in page
    no_traceback(page)


def test_a_guests_vote_keeps_its_comment_too_with_or_without_javascript(make_app, tmp_path):
    up = make_app().test_client()
    fields = page_fields(up, ARTICLE_URL)
    down = create_app(_base_config(tmp_path) | {
        "SQLALCHEMY_DATABASE_URI": unreachable_url(tmp_path), "FEEDBACK_MIN_SECONDS": 0})
    client = down.test_client()
    same_browser(up, client)
    fields.update({"helpful": "no", "reasons": ["unclear"], "comment": "Which menu is it?"})
    response = client.post(VOTE_URL, data=fields)
    assert response.status_code == 503 and "Which menu is it?" in response.get_data(as_text=True)
    answer = client.post(VOTE_URL, data=fields, headers={"Accept": "application/json"})
    assert answer.status_code == 503 and answer.json["message"].startswith(
        "Our database did not answer, so nothing was saved")


def test_signing_out_works_during_an_outage(outage):
    _, client, _ = outage
    assert client.post("/logout").status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "browsing as a guest" not in page and "Sign in" in page
