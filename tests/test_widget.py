"""The help widget's server side: the framed panel, its cookie-free API, the hand-off to the
ticket form and identified users (issue 16). The loader and the panel in a real browser,
across two sites, are in tests/browser/test_widget_browser.py."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import FeedbackVote, SearchEvent, Ticket, User
from portal.search import indexer
from portal.search.service import get_service
from portal.widget import tokens

HOST = "http://localhost:8001"
SECRET = "shared-with-the-host-product"


@pytest.fixture
def app(make_app):
    app = make_app(WIDGET_ALLOWED_ORIGINS=[HOST, "https://app.example.com"],
                   WIDGET_SECRET=SECRET, WIDGET_AUDIENCE="https://help.example.com")
    with app.app_context():
        indexer.build(get_service().engine, app.config["ARTICLES_DIR"])
    return app


def frame_token(client, host: str = HOST) -> str:
    page = client.get("/widget/frame", query_string={"host": host, "context": "Billing"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    start = html.index('data-token="') + len('data-token="')
    return html[start:html.index('"', start)]


class Panel:
    """What the frame's script does: every call with the frame token, no cookie."""

    def __init__(self, app, host: str = HOST):
        self.client = app.test_client(use_cookies=False)
        self.token = frame_token(self.client, host)

    def get(self, path: str, **query):
        return self.client.get(f"/widget/api/{path}", query_string=query,
                               headers={"X-Widget-Token": self.token})

    def post(self, path: str, body: dict | None = None):
        return self.client.post(f"/widget/api/{path}", json=body or {},
                                headers={"X-Widget-Token": self.token})


def user_token(email="robin@acme.test", organisation="Acme Paving",
               audience="https://help.example.com", secret=SECRET, expires_in=600) -> str:
    return tokens.sign_user_token(secret, email, organisation, audience, expires_in)


# -- the frame --------------------------------------------------------------------------------

def test_the_frame_may_be_framed_by_the_listed_origins_only(app):
    client = app.test_client()
    page = client.get("/widget/frame", query_string={"host": HOST})
    assert page.status_code == 200
    policy = page.headers["Content-Security-Policy"]
    assert f"frame-ancestors {HOST} https://app.example.com" in policy
    assert "X-Frame-Options" not in page.headers
    assert "Set-Cookie" not in page.headers

    other = client.get("/widget/frame", query_string={"host": "http://evil.example"})
    assert other.status_code == 403
    assert "not allowed to show the help widget" in other.get_data(as_text=True)
    assert "frame-ancestors http://evil.example" not in other.headers["Content-Security-Policy"]
    assert 'data-token=""' in other.get_data(as_text=True) or "data-token" not in \
        other.get_data(as_text=True)


def test_with_no_origin_listed_nobody_may_frame_the_panel(make_app):
    app = make_app()
    page = app.test_client().get("/widget/frame", query_string={"host": HOST})
    assert page.status_code == 403
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_other_pages_still_refuse_to_be_framed_by_other_sites(app):
    page = app.test_client().get("/")
    assert page.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in page.headers["Content-Security-Policy"]


def test_the_loader_is_small_javascript_anyone_may_load(app):
    response = app.test_client().get("/widget.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert len(response.data) <= 10 * 1024
    assert "PortalKnowledgeBase" in response.get_data(as_text=True)


def test_bad_origins_in_the_setting_stop_the_start(make_app):
    from portal.config import SettingsError

    with pytest.raises(SettingsError, match="PORTAL_WIDGET_ALLOWED_ORIGINS|WIDGET_ALLOWED"):
        make_app(WIDGET_ALLOWED_ORIGINS=["https://app.example.com/path"])


# -- the API ----------------------------------------------------------------------------------

def test_the_api_needs_the_frame_token_and_refuses_a_forged_one(app):
    client = app.test_client(use_cookies=False)
    assert client.get("/widget/api/home").status_code == 401
    forged = tokens.frame_token("another-secret", "wVisitor12345678", HOST)
    answer = client.get("/widget/api/search", query_string={"q": "password"},
                        headers={"X-Widget-Token": forged})
    assert answer.status_code == 401
    assert "expired" in answer.get_json()["error"]


def test_search_with_a_typo_finds_articles_and_is_recorded_as_a_widget_search(app):
    panel = Panel(app)
    answer = panel.get("search", q="pasword reset")
    assert answer.status_code == 200
    data = answer.get_json()
    assert data["total"] > 0 and data["searched"] is True
    assert any("password" in r["title"].lower() for r in data["results"])
    assert all("<script" not in r["snippet_html"] for r in data["results"])
    assert "Set-Cookie" not in answer.headers
    with app.app_context():
        events = list(db.session.scalars(select(SearchEvent)))
    assert [(e.query, e.source) for e in events] == [("pasword reset", "widget")]


def test_home_shows_status_and_popular_articles_and_any_string_is_answered(app):
    panel = Panel(app)
    home = panel.get("home", context="billing").get_json()
    assert home["status"]["hours"] and isinstance(home["status"]["open_now"], bool)
    assert home["popular"]
    for hostile in ["", "<script>alert(1)</script>", "a" * 5000, "\x00\ufffd", "((("]:
        assert panel.get("search", q=hostile).status_code == 200
        assert panel.get("suggest", q=hostile).status_code == 200


def test_an_article_is_read_in_the_panel_and_voted_on(app):
    panel = Panel(app)
    panel.get("search", q="password")
    slug = panel.get("search", q="password").get_json()["results"][0]["slug"]
    page = panel.get(f"articles/{slug}").get_json()
    assert page["html"] and page["feedback"]["question"] == "Was this article helpful?"
    assert panel.post(f"articles/{slug}/vote", {"helpful": "maybe"}).status_code == 422
    refused = panel.post(f"articles/{slug}/vote", {"helpful": "no", "reasons": []})
    assert refused.status_code == 422
    reason = page["feedback"]["reasons"][0]["value"]
    answer = panel.post(f"articles/{slug}/vote",
                        {"helpful": "no", "reasons": [reason], "comment": "Too short."})
    assert answer.status_code == 200 and answer.get_json()["ok"]
    with app.app_context():
        [vote] = db.session.scalars(select(FeedbackVote)).all()
    assert (vote.article_slug, vote.helpful, vote.comment) == (slug, False, "Too short.")
    assert panel.get(f"articles/{slug}").get_json()["feedback"]["current"] == "no"
    assert panel.get("articles/no-such-article").status_code == 404


# -- "Submit a Ticket" ------------------------------------------------------------------------

def test_submit_a_ticket_needs_a_search_in_the_widget_first(app):
    panel = Panel(app)
    answer = panel.post("handoff")
    assert answer.status_code == 409
    assert "Search" in answer.get_json()["error"]


def test_the_ticket_form_opens_without_a_search_bounce_and_keeps_the_widget_searches(
        app, make_user, login):
    panel = Panel(app)
    panel.get("search", q="export totals wrong")
    slug = panel.get("search", q="reset password").get_json()["results"][0]["slug"]
    panel.get(f"articles/{slug}")
    url = panel.post("handoff").get_json()["url"]
    assert "/tickets/new?widget=" in url

    make_user(email="casey@acme.test", org="Acme Paving")
    browser = app.test_client()  # the reader's own browser, a new tab on the portal
    login("casey@acme.test") if False else browser.post(
        "/login", data={"email": "casey@acme.test", "password": "correct horse 1"})
    landed = browser.get(url.replace("http://localhost", ""))
    assert landed.status_code == 303
    assert "widget=" not in landed.headers["Location"]
    form = browser.get(landed.headers["Location"])
    assert form.status_code == 200  # not sent back to search
    assert "export totals wrong" in form.get_data(as_text=True)
    filed = browser.post("/tickets/new", data={
        "subject": "Exports are wrong", "description": "Totals are 10% high.",
        "severity": "3", "product_area": "", "phone": "", "idempotency_key": "widget-1"})
    assert filed.status_code == 303
    with app.app_context():
        [ticket] = db.session.scalars(select(Ticket)).all()
    assert ticket.searches == ["export totals wrong", "reset password"]
    assert ticket.viewed_articles == [slug]


def test_a_forged_handoff_opens_nothing(app, make_user):
    make_user(email="casey@acme.test", org="Acme Paving")
    browser = app.test_client()
    browser.post("/login", data={"email": "casey@acme.test", "password": "correct horse 1"})
    forged = tokens.handoff_token("another-secret", "wVisitor12345678")
    landed = browser.get(f"/tickets/new?widget={forged}")
    assert browser.get(landed.headers["Location"]).headers["Location"].endswith("/search")


# -- identified users -------------------------------------------------------------------------

def test_a_host_signed_user_is_identified_and_refused_when_tampered_expired_or_foreign(
        app, make_user):
    make_user(email="robin@acme.test", org="Acme Paving", name="Robin")
    panel = Panel(app)
    good = panel.post("identify", {"token": user_token()})
    assert good.status_code == 200
    assert good.get_json()["identity"]["email"] == "robin@acme.test"
    assert good.get_json()["identity"]["organisation"] == "Acme Paving"

    token = user_token()
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    for bad in [tampered, user_token(expires_in=-3600),
                user_token(audience="https://help.other-site.example"),
                user_token(secret="not-the-shared-secret"), "nonsense", ""]:
        answer = panel.post("identify", {"token": bad})
        assert answer.status_code == 403, bad
        assert "could not confirm who you are" in answer.get_json()["error"]


def test_staff_accounts_are_never_signed_in_by_a_host_token(app, make_user):
    make_user(email="agent@bitumio.test", role="agent")
    answer = Panel(app).post("identify", {"token": user_token(email="agent@bitumio.test")})
    assert answer.status_code == 403


def test_an_identified_customer_files_without_signing_in_and_the_link_works_once(
        app, make_user):
    make_user(email="robin@acme.test", org="Acme Paving", name="Robin")
    panel = Panel(app)
    panel.get("search", q="export")
    url = panel.post("handoff", {"token": user_token()}).get_json()["url"]
    path = url.replace("http://localhost", "")

    browser = app.test_client()  # never signed in
    landed = browser.get(path)
    form = browser.get(landed.headers["Location"])
    assert form.status_code == 200 and 'name="idempotency_key"' in form.get_data(as_text=True)

    stranger = app.test_client()  # the same link, copied elsewhere: not signed in again
    again = stranger.get(stranger.get(path).headers["Location"])
    assert again.status_code in (302, 303) and "/login" in again.headers["Location"]


def test_a_first_time_identified_customer_gets_a_confirmed_account(app):
    panel = Panel(app)
    answer = panel.post("identify", {"token": user_token(email="New.Person@Acme.test")})
    assert answer.status_code == 200
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "new.person@acme.test"))
        assert user is not None and user.email_verified_at is not None
        assert user.role.value == "customer" and not user.password_hash


def test_user_tokens_round_trip_and_reject_far_future_expiry():
    token = tokens.sign_user_token("s", "a@b.test", "Org", "https://x", 60)
    assert tokens.read_user_token("s", "https://x", token).email == "a@b.test"
    far = tokens.sign_user_token("s", "a@b.test", "Org", "https://x", 10 * 86400)
    with pytest.raises(tokens.TokenRefused, match="too far"):
        tokens.read_user_token("s", "https://x", far)
    with pytest.raises(tokens.TokenRefused, match="expired"):
        tokens.read_user_token("s", "https://x", token, now=time.time() + 3600)
