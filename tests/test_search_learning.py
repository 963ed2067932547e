"""Search learns from readers: articles that answered a query rise for it, within bounds."""

from __future__ import annotations

import logging
import re
import threading
import time
from datetime import timedelta
from itertools import count

import pytest
from sqlalchemy import event, select

from portal.extensions import db
from portal.models import FeedbackVote, SearchClick, SearchEvent, Ticket
from portal.search import indexer, learning
from portal.search.query import normalize
from portal.search.service import get_service

QUERY = "reset password"
ARTICLE = "reset-your-password"
OTHER = "locked-account"
ARTICLES = {
    "account/_category.yml": "title: Account\n",
    "account/reset-your-password.md":
        "---\ntitle: Reset your password\n---\nOpen Sign in, choose Forgot password and "
        "follow the mail to reset your password.\n",
    "account/locked-account.md":
        "---\ntitle: Locked account\n---\nAfter five wrong passwords the account is "
        "locked for an hour; an admin can reset it sooner.\n",
    "account/change-email.md":
        "---\ntitle: Change your email address\n---\nEdit your profile to change it.\n",
}
_ips = count(1)


@pytest.fixture
def make_kb(make_app, write_articles):
    """An app on a small knowledge base with its search index built."""
    folder = write_articles(ARTICLES)

    def factory(**settings):
        app = make_app(ARTICLES_DIR=folder, FEEDBACK_MIN_SECONDS=0.0, **settings)
        indexer.build(get_service(app).engine, folder)
        return app

    return factory


@pytest.fixture
def app(make_kb):
    return make_kb()


def a_reader(app, ip: str | None = None, user=None):
    """A browser of its own (its own visitor id), from its own IP unless one is given."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip or f"198.51.100.{next(_ips)}"
    if user is not None:
        client.post("/login", data={"email": user.email, "password": "correct horse 1"})
    return client


def search_and_open(client, query: str = QUERY, slug: str = ARTICLE) -> None:
    """Search, click the result (the beacon the results page sends) and read the article."""
    html = client.get("/search", query_string={"q": query}).get_data(as_text=True)
    search_id = re.search(r"/api/click\?search=(\d+)", html).group(1)
    assert client.post(f"/api/click?search={search_id}&slug={slug}&position=1"
                       ).status_code == 204
    assert client.get(f"/articles/{slug}").status_code == 200


def vote(client, slug: str = ARTICLE, helpful: bool = True) -> None:
    html = client.get(f"/articles/{slug}").get_data(as_text=True)
    started = re.search(r'name="started" value="([^"]+)"', html).group(1)
    data = {"started": started, "helpful": "yes" if helpful else "no",
            "reasons": [] if helpful else ["unsolved"], "comment": ""}
    assert client.post(f"/feedback/articles/{slug}", data=data).status_code == 303


def file_ticket(client) -> None:
    response = client.post("/tickets/new", data={
        "subject": "Still cannot sign in", "description": "The reset mail never arrives.",
        "severity": "3", "product_area": "", "phone": "", "idempotency_key": f"k{next(_ips)}"})
    assert response.status_code == 303, response.get_data(as_text=True)


def helpful_readers(app, make_user, n: int, query: str = QUERY, slug: str = ARTICLE) -> list:
    """n signed-in customers who searched, opened the article and answered Yes."""
    readers = []
    for _ in range(n):
        client = a_reader(app, user=make_user(org="Acme Paving"))
        search_and_open(client, query, slug)
        vote(client, slug)
        readers.append(client)
    return readers


def days_pass(app, days: float) -> None:
    """Move every click, search, vote and ticket `days` into the past."""
    delta = timedelta(days=days)
    with app.app_context():
        for model, fields in ((SearchEvent, ["created_at"]), (SearchClick, ["created_at"]),
                              (FeedbackVote, ["created_at", "updated_at"]),
                              (Ticket, ["created_at", "updated_at"])):
            for row in db.session.scalars(select(model)):
                for name in fields:
                    setattr(row, name, getattr(row, name) - delta)
        db.session.commit()


def boosts(app, query: str = QUERY) -> dict[str, float]:
    """What the ranking would get for the query, once this process has re-read the clicks."""
    with app.app_context():
        learning.refresh()
        return learning.learned_boosts(normalize(query))


def learned(app, query: str = QUERY) -> dict[str, learning.LearnedBoost]:
    with app.app_context():
        return {row.slug: row for row in learning.compute() if row.query == query}


# -- learning ------------------------------------------------------------------------------

def test_three_readers_who_clicked_x_after_q_and_voted_it_helpful_raise_x_for_q(
        app, make_user):
    assert boosts(app) == {}
    helpful_readers(app, make_user, 3)
    found = boosts(app)
    assert list(found) == [ARTICLE]
    assert 0 < found[ARTICLE] <= app.config["SEARCH_LEARN_MAX_BOOST"]
    assert boosts(app, "Reset   PASSWORD") == pytest.approx(found)  # the normalized query
    assert boosts(app, "locked account") == {}
    print(f"3 fresh readers: +{found[ARTICLE]:.3f}")


def test_the_boost_grows_with_the_log_of_readers_and_is_capped(make_kb, make_user):
    app = make_kb()
    helpful_readers(app, make_user, 3)
    three = boosts(app)[ARTICLE]
    helpful_readers(app, make_user, 9)
    twelve = boosts(app)[ARTICLE]
    assert three < twelve < 4 * three  # more readers, more boost; far less than 4x
    with app.app_context():
        policy = learning.Policy.from_config(app.config)
    assert policy.boost(10_000) == policy.max_boost == 0.3
    assert policy.boost(3) == pytest.approx(three, rel=1e-3)
    print(f"3 readers: +{three:.3f}, 12 readers: +{twelve:.3f}, cap +{policy.max_boost}")


def test_one_visitor_clicking_50_times_boosts_nothing(app, make_user):
    user = make_user(org="Acme Paving")
    client = a_reader(app, user=user)
    for _ in range(50):
        search_and_open(client)
    vote(client)
    days_pass(app, 2)
    assert boosts(app) == {}
    row = learned(app)[ARTICLE]
    assert row.readers == 1 and row.boost == 0


def test_one_person_on_several_browsers_is_one_reader(app, make_user):
    user = make_user(org="Acme Paving")
    for _ in range(4):  # a new browser (visitor id) and network each time, same account
        client = a_reader(app, user=user)
        search_and_open(client)
    vote(client)
    assert learned(app)[ARTICLE].readers == 1


def test_many_visitor_ids_from_one_ip_count_as_one(app):
    for _ in range(6):
        search_and_open(a_reader(app, ip="203.0.113.9"))
    days_pass(app, 2)  # long enough that no ticket followed
    assert boosts(app) == {}
    assert learned(app)[ARTICLE].readers == 1
    for _ in range(2):  # two more readers, on networks of their own
        search_and_open(a_reader(app))
    days_pass(app, 2)
    assert learned(app)[ARTICLE].readers == 3
    assert list(boosts(app)) == [ARTICLE]


def test_the_ip_is_kept_only_as_a_keyed_hash(app):
    search_and_open(a_reader(app, ip="203.0.113.9"))
    # Another new browser there (the same first search would be counted as the first's).
    search_and_open(a_reader(app, ip="203.0.113.9"), query="forgot password")
    search_and_open(a_reader(app, ip="203.0.113.10"))
    with app.app_context():
        hashes = db.session.scalars(select(SearchClick.ip_hash).order_by(SearchClick.id)).all()
    assert hashes[0] == hashes[1] != hashes[2]
    assert all(re.fullmatch(r"[0-9a-f]{16}", h) for h in hashes)
    assert learning.ip_hash("203.0.113.9", "another key") != hashes[0]
    # An IPv6 host that changes its address within its /64 is still one network.
    assert (learning.ip_hash("2001:db8:1:2::5", "k") == learning.ip_hash("2001:db8:1:2:a::9", "k")
            != learning.ip_hash("2001:db8:1:3::5", "k"))
    assert learning.ip_hash("not an address", "k") is None


def test_fewer_than_the_minimum_readers_give_no_boost(app, make_user):
    helpful_readers(app, make_user, 2)
    assert boosts(app) == {}
    assert learned(app)[ARTICLE].readers == 2
    helpful_readers(app, make_user, 1)
    assert list(boosts(app)) == [ARTICLE]


def test_the_minimum_is_a_setting(make_kb, make_user):
    app = make_kb(SEARCH_LEARN_MIN_READERS=2)
    helpful_readers(app, make_user, 2)
    assert list(boosts(app)) == [ARTICLE]


def test_a_boost_fades_with_age(app, make_user):
    helpful_readers(app, make_user, 3)
    fresh = boosts(app)[ARTICLE]
    days_pass(app, 30)  # one half-life
    month_old = boosts(app)[ARTICLE]
    with app.app_context():
        policy = learning.Policy.from_config(app.config)
    assert month_old < fresh
    assert month_old == pytest.approx(policy.boost(1.5), rel=1e-3)  # 3 readers at half weight
    days_pass(app, 61)  # past the 90-day window: forgotten
    assert boosts(app) == {}
    print(f"3 readers: +{fresh:.3f} fresh, +{month_old:.3f} after 30 days, none after 91")


def test_an_anonymous_reader_counts_once_no_ticket_followed(app):
    for _ in range(3):
        search_and_open(a_reader(app))
    assert boosts(app) == {}  # a ticket may still follow: not yet a success
    days_pass(app, 1.5)
    assert list(boosts(app)) == [ARTICLE]


def test_a_reader_who_filed_a_ticket_after_reading_does_not_count(app, make_user):
    readers = helpful_readers(app, make_user, 3)
    file_ticket(readers[0])
    assert boosts(app) == {}
    assert learned(app)[ARTICLE].readers == 2
    helpful_readers(app, make_user, 1)
    assert list(boosts(app)) == [ARTICLE]


def test_a_ticket_filed_long_after_reading_does_not_matter(app, make_user):
    readers = helpful_readers(app, make_user, 3)
    days_pass(app, 2)
    file_ticket(readers[0])
    assert learned(app)[ARTICLE].readers == 3


def test_a_signed_out_reader_who_then_signs_in_and_files_does_not_count(app, make_user):
    for _ in range(3):
        search_and_open(a_reader(app))
    latecomer = a_reader(app)
    search_and_open(latecomer)
    user = make_user(org="Acme Paving")
    latecomer.post("/login", data={"email": user.email, "password": "correct horse 1"})
    file_ticket(latecomer)  # the ticket keeps the visit's searches and articles read
    days_pass(app, 2)
    assert learned(app)[ARTICLE].readers == 3


def test_a_reader_who_answered_no_does_not_count(app, make_user):
    helpful_readers(app, make_user, 2)
    client = a_reader(app, user=make_user(org="Acme Paving"))
    search_and_open(client)
    vote(client, helpful=False)
    days_pass(app, 2)
    assert boosts(app) == {}
    assert learned(app)[ARTICLE].readers == 2


def test_the_editors_ignored_words_do_not_split_what_readers_taught(make_app, write_articles,
                                                                   make_user):
    folder = write_articles(ARTICLES | {"_search.yml": "ignore:\n  - please help\n"})
    app = make_app(ARTICLES_DIR=folder, FEEDBACK_MIN_SECONDS=0.0)
    indexer.build(get_service(app).engine, folder)
    helpful_readers(app, make_user, 2, query="please help reset password")
    helpful_readers(app, make_user, 1)
    assert list(boosts(app)) == [ARTICLE]  # looked up the way the ranking does
    assert learned(app)[ARTICLE].readers == 3


def test_learned_boosts_never_waits_for_the_database(app, make_user):
    helpful_readers(app, make_user, 3)
    with app.app_context():
        learning.refresh()
        threads = []

        def record(*_args):
            threads.append(threading.get_ident())

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            started = time.perf_counter()
            for _ in range(1000):
                found = learning.learned_boosts(QUERY)
            per_call = (time.perf_counter() - started) / 1000
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
            learning.wait_for_refresh()
    assert list(found) == [ARTICLE]
    assert threading.get_ident() not in threads  # at most a background check
    assert per_call < 0.001
    print(f"learned_boosts: {per_call * 1e6:.1f} microseconds a call")


def test_new_readers_are_learned_in_the_background(make_kb, make_user):
    app = make_kb(SEARCH_LEARN_REFRESH_SECONDS=0, SEARCH_LEARN_CHECK_SECONDS=0)
    helpful_readers(app, make_user, 3)  # each search asked for boosts: still none
    with app.app_context():
        learning.wait_for_refresh()
        learning.learned_boosts(QUERY)  # answers at once, and starts a recomputation
        learning.wait_for_refresh()
        assert list(learning.learned_boosts(QUERY)) == [ARTICLE]
        learning.wait_for_refresh()


def test_a_database_error_means_no_boosts_and_is_logged(app, make_user, monkeypatch, caplog):
    helpful_readers(app, make_user, 3)
    assert list(boosts(app)) == [ARTICLE]

    def broken(*args, **kwargs):
        raise RuntimeError("database is down")

    monkeypatch.setattr(learning, "compute", broken)
    with app.app_context(), caplog.at_level(logging.ERROR):
        learning.refresh()
        assert learning.learned_boosts(QUERY) == {}
    assert "could not learn from readers" in caplog.text
    with app.app_context():
        assert learning.learned_boosts("") == {}


# -- the editors' page ---------------------------------------------------------------------

def editor_client(app, make_user, role: str = "editor"):
    return a_reader(app, user=make_user(role=role))


def test_an_editor_sees_boosted_by_n_readers_in_30_days_and_can_reset_it(make_kb, make_user):
    app = make_kb(SEARCH_LEARN_WINDOW_DAYS=30)
    helpful_readers(app, make_user, 3)
    helpful_readers(app, make_user, 3, query="locked out", slug=OTHER)
    editor = editor_client(app, make_user)
    html = editor.get("/search/learning").get_data(as_text=True)
    assert html.count("boosted by 3 readers in 30 days") == 2
    assert "reset password" in html and "Reset your password" in html
    assert "locked out" in html and "Locked account" in html
    assert re.search(r"\+0\.\d\d", html)
    response = editor.post("/search/learning/reset", data={"query": QUERY, "slug": ARTICLE})
    assert response.status_code == 303
    html = editor.get(response.headers["Location"]).get_data(as_text=True)
    assert "Reset: “reset password” no longer favours Reset your password" in html
    assert html.count("boosted by 3 readers in 30 days") == 1
    assert boosts(app) == {}
    assert list(boosts(app, "locked out")) == [OTHER]
    # Readers who come after the reset teach search again.
    helpful_readers(app, make_user, 3)
    assert list(boosts(app)) == [ARTICLE]


def test_an_editor_can_reset_everything(app, make_user):
    helpful_readers(app, make_user, 3)
    helpful_readers(app, make_user, 3, query="locked out", slug=OTHER)
    admin = editor_client(app, make_user, role="admin")
    assert admin.post("/search/learning/reset-all").status_code == 303
    assert boosts(app) == {} and boosts(app, "locked out") == {}
    html = admin.get("/search/learning").get_data(as_text=True)
    assert "Search has not learned anything from readers yet" in html


def test_the_reset_buttons_need_the_csrf_token(make_kb, make_user):
    app = make_kb(WTF_CSRF_ENABLED=True)
    editor = app.test_client()
    user = make_user(role="editor")
    page = editor.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    editor.post("/login", data={"email": user.email, "password": "correct horse 1",
                                "csrf_token": token})
    html = editor.get("/search/learning").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    assert editor.post("/search/learning/reset-all").status_code == 400
    assert editor.post("/search/learning/reset-all",
                       data={"csrf_token": token}).status_code == 303


def test_a_customer_cannot_see_the_page(app, make_user):
    customer = a_reader(app, user=make_user(org="Acme Paving"))
    assert customer.get("/search/learning").status_code == 403
    assert customer.post("/search/learning/reset-all").status_code == 403
    agent = editor_client(app, make_user, role="agent")
    assert agent.get("/search/learning").status_code == 403
    anonymous = app.test_client().get("/search/learning")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


# -- the command ---------------------------------------------------------------------------

def test_the_reset_command_clears_it(app, make_user):
    helpful_readers(app, make_user, 3)
    helpful_readers(app, make_user, 3, query="locked out", slug=OTHER)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["search", "reset-learning", "--query", "Reset  Password"])
    assert result.exit_code == 0, result.output
    assert "reset password" in result.output and ARTICLE in result.output
    assert "3 readers" in result.output
    assert boosts(app) == {}
    assert list(boosts(app, "locked out")) == [OTHER]
    print(result.output)

    result = runner.invoke(args=["search", "reset-learning", "--article", "no-such-article"])
    assert result.exit_code != 0 and "Unknown article" in result.output

    result = runner.invoke(args=["search", "reset-learning", "--article", OTHER])
    assert result.exit_code == 0 and "locked out" in result.output
    assert boosts(app, "locked out") == {}

    result = runner.invoke(args=["search", "reset-learning"])
    assert result.exit_code == 0 and "nothing was boosted" in result.output.lower()
