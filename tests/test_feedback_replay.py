"""A page's feedback form counts for the reader it was shown to, not for whoever copies it.

The form's signed page token names its visitor: the one in the reader's visitor cookie,
or, for a browser that had none, a new visitor whose cookie the first vote sets. Sent
again without that cookie, or with another visitor's, it is refused and stores nothing.
"""

from __future__ import annotations

import re

import pytest
from flask import template_rendered
from sqlalchemy import select

from portal.extensions import db
from portal.feedback import service
from portal.models import FeedbackVote
from tests.feedback_pages import ARTICLE_URL, JSON, VOTE_URL, page_fields

OTHER_URL = "/articles/reset-your-password"
OTHER_VOTE_URL = "/feedback/articles/reset-your-password"


def votes(app) -> list[FeedbackVote]:
    with app.app_context():
        found = db.session.scalars(select(FeedbackVote).order_by(FeedbackVote.id)).all()
        for vote in found:
            _ = vote.reasons
        db.session.expunge_all()
        return list(found)


def send(client, token: str, helpful: str = "no", reasons=("other",), comment: str = "",
         *, url: str = VOTE_URL, json: bool = True):
    data = {"started": token, "helpful": helpful, "reasons": list(reasons), "comment": comment}
    return client.post(url, data=data, headers=JSON if json else {})


def widget_html(client, url: str = ARTICLE_URL) -> str:
    html = client.get(url).get_data(as_text=True)
    return html[html.index('id="feedback"'):]


def assert_refused(answer) -> None:
    assert answer.status_code == 403
    assert answer.get_json() == {"ok": False, "field": None, "message": service.NOT_YOUR_PAGE}
    assert "reload the page" in service.NOT_YOUR_PAGE


@pytest.fixture
def app(make_app):
    return make_app(FEEDBACK_MIN_SECONDS=0)


def test_one_page_token_sent_by_many_browsers_from_one_address_stores_one_vote(make_app):
    # Limits high enough that only the token can be what stops the copies.
    app = make_app(FEEDBACK_MIN_SECONDS=0, FEEDBACK_IP_LIMIT="100 per minute",
                   FEEDBACK_VISITOR_LIMIT="100 per minute")
    token = page_fields(app.test_client())["started"]
    answers = [send(app.test_client(), token, comment=f"visitor {n}") for n in range(11)]

    assert len(votes(app)) <= 1
    assert answers[0].status_code == 200 and answers[0].get_json()["ok"] is True
    for answer in answers[1:]:
        assert_refused(answer)
    [vote] = votes(app)
    assert vote.comment == "visitor 0"


def test_a_token_shown_to_a_visitor_needs_that_visitors_cookie(app):
    reader = app.test_client()
    assert send(reader, page_fields(reader)["started"], "yes").status_code == 200
    token = page_fields(reader)["started"]  # the page as shown to this visitor

    assert_refused(send(app.test_client(), token, comment="no cookie at all"))
    other = app.test_client()
    assert send(other, page_fields(other)["started"], "yes").status_code == 200
    assert_refused(send(other, token, comment="another visitor's cookie"))
    assert [(v.helpful, v.comment) for v in votes(app)] == [(True, ""), (True, "")]

    assert send(reader, token, comment="mine").status_code == 200
    assert [(v.helpful, v.comment) for v in votes(app)] == [(False, "mine"), (True, "")]


def test_a_token_from_a_signed_in_readers_page_does_not_vote_for_anyone_else(app, make_user):
    make_user(email="reader@example.com")
    member = app.test_client()
    member.post("/login", data={"email": "reader@example.com", "password": "correct horse 1"})
    token = page_fields(member)["started"]

    assert_refused(send(app.test_client(), token))
    assert votes(app) == []
    assert send(member, token).status_code == 200
    [vote] = votes(app)
    assert vote.voter.startswith("user:")


def test_a_refused_answer_keeps_what_the_reader_typed(app):
    token = page_fields(app.test_client())["started"]
    assert send(app.test_client(), token).status_code == 200

    late = app.test_client()
    answer = send(late, token, comment="My carefully typed words", json=False)
    assert answer.status_code == 303 and answer.headers["Location"].endswith("#feedback")
    html = widget_html(late)
    assert "reload the page" in html and "is-error" in html
    assert re.search(r'id="feedback-reasons"[^>]*data-feedback-reasons>', html)  # open
    assert ">My carefully typed words</textarea>" in html
    assert len(votes(app)) == 1

    # The page it now shows carries a token of this reader's own: that one works.
    fresh = re.search(r'name="started" value="([^"]+)"', html).group(1)
    assert send(late, fresh, comment="My carefully typed words").status_code == 200
    assert [v.comment for v in votes(app)] == ["", "My carefully typed words"]


def test_readers_of_the_shared_page_vote_and_change_their_answer_in_place(app):
    for _ in range(2):  # until the page is shared
        app.test_client().get(ARTICLE_URL)
    renders: list[str] = []

    def record(sender, template, context, **extra):
        renders.append(template.name)

    template_rendered.connect(record, app)
    try:
        readers = [app.test_client() for _ in range(2)]
        tokens = [page_fields(reader)["started"] for reader in readers]
    finally:
        template_rendered.disconnect(record, app)
    assert "kb/article.html" not in renders  # both pages came from the shared one
    assert tokens[0] != tokens[1]

    for reader, token in zip(readers, tokens, strict=True):
        # With JavaScript the page stays: the same token sends the first and the next answer.
        assert send(reader, token, "yes").get_json()["ok"] is True
        assert send(reader, token, "no", ["unclear"]).get_json()["ok"] is True
        assert "You answered No" in widget_html(reader)
    found = votes(app)
    assert len(found) == 2 and len({v.voter for v in found}) == 2
    assert [v.reason_codes for v in found] == [["unclear"], ["unclear"]]


def test_a_reader_with_articles_open_in_several_tabs_can_answer_in_each(app):
    reader = app.test_client()
    first_tab = page_fields(reader)["started"]
    second_tab = page_fields(reader, OTHER_URL)["started"]  # opened before any answer
    assert send(reader, first_tab, "yes").status_code == 200
    assert send(reader, second_tab, "yes", url=OTHER_VOTE_URL).status_code == 200
    found = votes(app)
    assert len(found) == 2 and found[0].voter == found[1].voter
    assert "You answered Yes" in widget_html(reader, OTHER_URL)
