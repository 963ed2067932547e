"""Two requests casting the same vote at the same moment still leave one row.

Runs on SQLite, and on PostgreSQL when PORTAL_TEST_DATABASE_URL is set. A hook
on the real database connection holds each request just before a chosen statement
(the vote's INSERT, or its UPDATE) until both have got there, so both have read
the vote as it was before either wrote: the race happens every run, not by luck.
"""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import event, func, select

from portal.extensions import db
from portal.models import FeedbackReason, FeedbackVote

ARTICLE_URL = "/articles/technical-support-policy"
VOTE_URL = "/feedback/articles/technical-support-policy"


class Gate:
    """Let the first `statement` (INSERT into feedback_vote unless told) through only once
    all the racing requests wait there."""

    def __init__(self, parties: int = 2, statement: str = "INSERT INTO FEEDBACK_VOTE"):
        self.barrier = threading.Barrier(parties, timeout=10)
        self.statement = statement
        self.met = False

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if not self.met and statement.lstrip().upper().startswith(self.statement):
            try:
                self.barrier.wait()
                self.met = True
            except threading.BrokenBarrierError:
                pass


def _token(client) -> str:
    html = client.get(ARTICLE_URL).get_data(as_text=True)
    return re.search(r'name="started" value="([^"]+)"', html).group(1)


def _race(app, clients, data_for, statement: str = "INSERT INTO FEEDBACK_VOTE",
          tokens: list[str] | None = None) -> list:
    gate = Gate(len(clients), statement)
    results: list = [None] * len(clients)
    tokens = tokens or [_token(c) for c in clients]

    def run(n: int) -> None:
        try:
            results[n] = clients[n].post(
                VOTE_URL, data=data_for(n) | {"started": tokens[n]},
                headers={"Accept": "application/json"})
        except Exception as exc:  # surfaced by the assertions below
            results[n] = exc

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", gate)
    try:
        threads = [threading.Thread(target=run, args=(n,)) for n in range(len(clients))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        event.remove(engine, "before_cursor_execute", gate)
    assert gate.met, f"both requests should have reached {statement} together"
    return results


@pytest.fixture
def app(make_app):
    return make_app(FEEDBACK_MIN_SECONDS=0)


def _counts(app) -> tuple[int, int]:
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(FeedbackVote)),
                db.session.scalar(select(func.count()).select_from(FeedbackReason)))


def test_same_reader_voting_twice_at_once_leaves_one_row(app, make_user):
    make_user(email="twin@example.com")
    clients = [app.test_client(), app.test_client()]
    for client in clients:
        client.post("/login", data={"email": "twin@example.com", "password": "correct horse 1"})

    results = _race(app, clients, lambda n: {"helpful": "no", "reasons": ["missing", "other"],
                                             "comment": f"from thread {n}"})
    for result in results:
        assert not isinstance(result, Exception), result
        assert result.status_code == 200 and result.get_json()["ok"] is True
    assert _counts(app) == (1, 2)
    with app.app_context():
        vote = db.session.scalars(select(FeedbackVote)).one()
        assert vote.comment in {"from thread 0", "from thread 1"}
        assert vote.reason_codes == ["missing", "other"]


def test_same_anonymous_visitor_racing_yes_and_no_leaves_one_row(app):
    first = app.test_client()
    first.post(VOTE_URL, data={"helpful": "yes", "started": _token(first)})
    cookie = first.get_cookie("portal_visitor")
    assert cookie is not None
    with app.app_context():
        db.session.execute(FeedbackVote.__table__.delete())
        db.session.commit()

    second = app.test_client()
    second.set_cookie("portal_visitor", cookie.value)
    answers = [{"helpful": "yes"}, {"helpful": "no", "reasons": ["unclear"]}]
    results = _race(app, [first, second], lambda n: answers[n])
    for result in results:
        assert not isinstance(result, Exception), result
        assert result.status_code == 200
    votes, reasons = _counts(app)
    assert votes == 1 and reasons in (0, 1)


def test_one_visitor_changing_reasons_twice_at_once_gets_answers_not_errors(app):
    """Both requests read the vote with its old reasons, then both add the same new one."""
    first = app.test_client()
    answer = first.post(VOTE_URL, data={"helpful": "no", "reasons": ["missing"],
                                        "started": _token(first)})
    assert answer.status_code == 303
    cookie = first.get_cookie("portal_visitor")
    second = app.test_client()
    second.set_cookie("portal_visitor", cookie.value)

    results = _race(app, [first, second],
                    lambda n: {"helpful": "no", "reasons": ["missing", "other"],
                               "comment": f"from tab {n}"},
                    statement="UPDATE FEEDBACK_VOTE")
    for result in results:
        assert not isinstance(result, Exception), result
        assert result.status_code == 200, result.get_data(as_text=True)[:300]
        assert result.get_json()["ok"] is True
    assert _counts(app) == (1, 2)
    with app.app_context():
        vote = db.session.scalars(select(FeedbackVote)).one()
        assert vote.reason_codes == ["missing", "other"]
        assert vote.comment in {"from tab 0", "from tab 1"}


def test_one_visitor_sending_different_reasons_at_once_keeps_one_answer_whole(app):
    """Whichever request writes last decides the reasons; none is a mix or an error."""
    first = app.test_client()
    first.post(VOTE_URL, data={"helpful": "no", "reasons": ["missing", "unclear"],
                               "started": _token(first)})
    second = app.test_client()
    second.set_cookie("portal_visitor", first.get_cookie("portal_visitor").value)
    answers = [["outdated", "other"], ["other", "broken"]]
    results = _race(app, [first, second],
                    lambda n: {"helpful": "no", "reasons": answers[n], "comment": f"tab {n}"},
                    statement="UPDATE FEEDBACK_VOTE")
    for result in results:
        assert not isinstance(result, Exception), result
        assert result.status_code == 200, result.get_data(as_text=True)[:300]
    with app.app_context():
        vote = db.session.scalars(select(FeedbackVote)).one()
        assert (vote.comment, vote.reason_codes) in (("tab 0", ["other", "outdated"]),
                                                     ("tab 1", ["broken", "other"]))


def test_one_page_token_sent_by_many_browsers_at_once_stores_one_vote(app):
    """Cookie-less browsers replaying one page's token all at once: one vote, no errors."""
    token = _token(app.test_client())
    browsers = [app.test_client() for _ in range(5)]
    results = _race(app, browsers, lambda n: {"helpful": "no", "reasons": ["other"],
                                              "comment": f"browser {n}"},
                    tokens=[token] * len(browsers))
    for result in results:
        assert not isinstance(result, Exception), result
        assert result.status_code in (200, 403), result.get_data(as_text=True)[:300]
    votes, reasons = _counts(app)
    assert votes == 1 and reasons == 1
