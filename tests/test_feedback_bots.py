"""Bots kept out without third-party services: honeypot, time trap, CSRF, rate limits."""

from __future__ import annotations

import socket
import uuid

import pytest
from sqlalchemy import select

from portal.extensions import db, limiter
from portal.feedback import service
from portal.models import FeedbackVote
from tests.feedback_pages import ARTICLE, ARTICLE_URL, JSON, VOTE_URL, page_fields


def cast(client, helpful: str, reasons=(), comment: str = "", json: bool = False, **extra):
    data = page_fields(client) | {"helpful": helpful, "reasons": list(reasons),
                                  "comment": comment} | extra
    return client.post(VOTE_URL, data=data, headers=JSON if json else {})


def votes(app) -> list[FeedbackVote]:
    with app.app_context():
        found = list(db.session.scalars(select(FeedbackVote).order_by(FeedbackVote.id)))
        db.session.expunge_all()
        return found


def widget_html(client) -> str:
    html = client.get(ARTICLE_URL).get_data(as_text=True)
    return html[html.index('id="feedback"'):]


@pytest.fixture
def app(make_app):
    return make_app(FEEDBACK_MIN_SECONDS=0)


def test_a_filled_honeypot_gets_the_normal_answer_and_nothing_is_stored(app, client):
    human = cast(app.test_client(), "no", ["other"], "real", json=True)
    bot = cast(client, "no", ["other"], "buy pills", json=True, website="http://spam.example")
    assert bot.status_code == human.status_code == 200
    assert bot.get_json() == human.get_json()
    plain = cast(client, "yes", website="http://spam.example")
    assert plain.status_code == 303 and "Thanks for letting us know" in widget_html(client)
    assert [v.comment for v in votes(app)] == ["real"]


def test_answering_faster_than_a_person_stores_nothing(make_app):
    app = make_app(FEEDBACK_MIN_SECONDS=60)
    client = app.test_client()
    answer = cast(client, "no", ["missing"], "too quick", json=True)
    assert answer.status_code == 200 and answer.get_json()["message"] == service.NO_THANKS
    assert cast(client, "yes").status_code == 303
    assert votes(app) == []


def test_a_missing_or_forged_page_token_stores_nothing(app, client):
    for started in ("", "not-a-token", service.issue_form_token(
            "another-secret", service.ArticleVersion(ARTICLE, "x.md", None, "0"), now=0)):
        answer = client.post(VOTE_URL, data={"helpful": "yes", "started": started},
                             headers=JSON)
        assert answer.get_json()["ok"] is True
    other_page = page_fields(client, "/articles/reset-your-password")["started"]
    client.post(VOTE_URL, data={"helpful": "yes", "started": other_page})
    assert votes(app) == []


def test_the_time_trap_measures_from_page_load():
    version = service.ArticleVersion("a", "a.md", "c" * 40, "s" * 64)
    token = service.issue_form_token("k", version, now=1000.0)
    quick = service.read_form_token("k", token, "a", now=1001.5)
    slow = service.read_form_token("k", token, "a", now=1003.0)
    assert quick.commit == "c" * 40 and quick.sha == "s" * 64
    assert service.is_suspected_bot("", quick, 2.0)
    assert not service.is_suspected_bot("", slow, 2.0)
    assert service.is_suspected_bot("x", slow, 2.0)
    assert service.read_form_token("k", token, "b") is None


def test_a_post_without_csrf_token_is_a_400_page_and_stores_nothing(make_app):
    app = make_app(FEEDBACK_MIN_SECONDS=0, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    fields = page_fields(client)
    assert "csrf_token" in fields
    refused = client.post(VOTE_URL, data={"helpful": "yes", "started": fields["started"]})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "The form expired" in html and "Traceback" not in html
    assert votes(app) == []
    assert cast(client, "yes").status_code == 303  # with the token it goes through
    assert len(votes(app)) == 1


def test_too_many_votes_from_one_reader_are_refused_politely(make_app):
    app = make_app(FEEDBACK_MIN_SECONDS=0, FEEDBACK_VISITOR_LIMIT="3 per minute")
    client = app.test_client()
    # The first vote, before the reader has a visitor cookie, counts against the address.
    for _ in range(1 + 3):
        assert cast(client, "yes", json=True).status_code == 200
    refused = cast(client, "no", ["other"], "my words", json=True)
    assert refused.status_code == 429
    assert "wait a minute" in refused.get_json()["message"]

    plain = cast(client, "no", ["other"], "my words")
    assert plain.status_code == 303
    html = widget_html(client)
    assert "wait a minute" in html and ">my words</textarea>" in html
    [vote] = votes(app)
    assert vote.helpful is True


def test_too_many_votes_from_one_address_are_refused(make_app):
    app = make_app(FEEDBACK_MIN_SECONDS=0, FEEDBACK_IP_LIMIT="2 per minute")
    for n in range(2):
        assert cast(app.test_client(), "yes", json=True).status_code == 200, n
    assert cast(app.test_client(), "yes", json=True).status_code == 429
    assert len(votes(app)) == 2


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_with_redis_down_voting_works_and_limits_fall_back_to_memory(make_app, caplog):
    """Decision: feedback keeps working when Redis is unreachable; Flask-Limiter logs the
    outage and counts in this process's memory until Redis is back."""
    app = make_app(FEEDBACK_MIN_SECONDS=0, FEEDBACK_VISITOR_LIMIT="2 per minute",
                   RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{_closed_port()}/0")
    client = app.test_client()
    try:
        for _ in range(1 + 2):  # the first vote counts against the address (no cookie yet)
            assert cast(client, "yes", json=True).status_code == 200
        assert cast(client, "yes", json=True).status_code == 429
    finally:
        limiter._storage_dead = False  # the limiter object is shared by every test app
    assert len(votes(app)) == 1
    assert "falling back to in-memory storage" in caplog.text


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
def test_limits_are_counted_in_redis_when_configured(make_app):
    prefix = f"test-feedback-{uuid.uuid4().hex}"
    app = make_app(FEEDBACK_MIN_SECONDS=0, FEEDBACK_VISITOR_LIMIT="2 per minute",
                   RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0",
                   RATELIMIT_KEY_PREFIX=prefix)
    client = app.test_client()
    import redis

    try:
        for _ in range(1 + 2):  # the first vote counts against the address (no cookie yet)
            assert cast(client, "yes", json=True).status_code == 200
        assert cast(client, "yes", json=True).status_code == 429
        keys = redis.Redis(host="127.0.0.1", port=6379).keys(f"*{prefix}*")
        assert keys, "the limiter should count in Redis"
    finally:
        server = redis.Redis(host="127.0.0.1", port=6379)
        for key in server.keys(f"*{prefix}*"):
            server.delete(key)
        limiter._key_prefix = ""  # the limiter object is shared by every test app
