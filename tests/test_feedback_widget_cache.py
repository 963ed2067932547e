"""The feedback widget is rendered once per article, yet every reader gets their own tokens."""

from __future__ import annotations

import re


def _tokens(html: str) -> tuple[set[str], set[str]]:
    csrf = set(re.findall(r'name="csrf_token" value="([^"]+)"', html))
    started = set(re.findall(r'name="started" value="([^"]+)"', html))
    return csrf, started


def test_each_reader_gets_their_own_signed_values_in_the_shared_widget(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    first = app.test_client().get("/articles/reset-your-password").get_data(as_text=True)
    second = app.test_client().get("/articles/reset-your-password").get_data(as_text=True)
    assert "@@" not in first and "@@" not in second
    (csrf_a,), (started_a,) = _tokens(first)
    (csrf_b,), (started_b,) = _tokens(second)
    assert csrf_a != csrf_b
    assert started_a and started_b


def test_a_reader_who_voted_sees_their_vote_not_the_shared_widget(make_app):
    app = make_app(FEEDBACK_MIN_SECONDS=0)
    client = app.test_client()
    page = client.get("/articles/reset-your-password").get_data(as_text=True)
    (_,), (started,) = _tokens(page)
    client.post("/feedback/articles/reset-your-password",
                data={"helpful": "yes", "started": started})
    again = client.get("/articles/reset-your-password").get_data(as_text=True)
    assert "You answered Yes" in again
    assert "You answered Yes" not in app.test_client().get(
        "/articles/reset-your-password").get_data(as_text=True)
