"""Two requests casting the same vote at the same moment still leave one row.

Runs on SQLite, and on PostgreSQL when PORTAL_TEST_DATABASE_URL is set. A hook
on the real database connection holds each request just before its INSERT until
both have got there, so both have looked for an existing vote, found none, and
try to insert: the race happens every run, not by luck.
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


class InsertGate:
    """Let the first INSERT into feedback_vote through only once two requests wait there."""

    def __init__(self, parties: int = 2):
        self.barrier = threading.Barrier(parties, timeout=10)
        self.met = False

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO FEEDBACK_VOTE"):
            try:
                self.barrier.wait()
                self.met = True
            except threading.BrokenBarrierError:
                pass


def _token(client) -> str:
    html = client.get(ARTICLE_URL).get_data(as_text=True)
    return re.search(r'name="started" value="([^"]+)"', html).group(1)


def _race(app, clients, data_for) -> list:
    gate = InsertGate(len(clients))
    results: list = [None] * len(clients)
    tokens = [_token(c) for c in clients]

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
    assert gate.met, "both requests should have reached the INSERT together"
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
