"""What a visitor searched for and read reaches their ticket, while the session cookie
stays small however much they read."""

from __future__ import annotations

import random
import string

from sqlalchemy import func, select

from portal.content import get_store
from portal.extensions import db
from portal.models import Ticket, VisitTrail


def _slugs(app, n: int) -> list[str]:
    with app.app_context():
        return list(get_store().tree().by_slug)[:n]


def _long_query(rng: random.Random) -> str:
    words = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(4, 11)))
             for _ in range(40)]
    return " ".join(words)[:200]


def test_cookie_stays_small_after_twenty_long_searches_and_twenty_reads(app, client):
    rng = random.Random(12)
    for _ in range(20):
        assert client.get("/search", query_string={"q": _long_query(rng)}).status_code == 200
    slugs = _slugs(app, 20)
    for slug in slugs:
        assert client.get(f"/articles/{slug}").status_code == 200
    cookie = client.get_cookie("session")
    assert cookie is not None and len(cookie.value) < 400, len(cookie.value)
    with app.app_context():  # and everything is still known, on the server
        kinds = dict(db.session.execute(select(VisitTrail.kind, func.count())
                                        .group_by(VisitTrail.kind)).all())
    assert kinds == {"q": 20, "a": len(slugs)}


def test_a_ticket_gets_the_latest_twenty_searches(app, client, make_user, login):
    make_user(email="casey@acme.test", org="Acme Paving")
    login("casey@acme.test")
    for n in range(30):
        client.get("/search", query_string={"q": f"question number {n}"})
    client.post("/tickets/new", data={
        "subject": "Export totals are wrong", "description": "The March export is 10% high.",
        "severity": "2", "product_area": "", "phone": "", "idempotency_key": "k-trail-2"})
    with app.app_context():
        ticket = db.session.scalars(select(Ticket)).one()
        assert ticket.searches == [f"question number {n}" for n in range(10, 30)]
        stored = db.session.scalar(select(func.count()).select_from(VisitTrail))
    assert 20 <= stored <= 30  # older ones are pruned now and then, and after the window


def test_articles_read_without_searching_are_not_recorded(app, client):
    for slug in _slugs(app, 3):
        client.get(f"/articles/{slug}")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(VisitTrail)) == 0


def test_the_ticket_keeps_the_searches_and_reads_made_before_signing_in(
        app, client, make_user, login):
    make_user(email="casey@acme.test", org="Acme Paving")
    client.get("/search", query_string={"q": "export totals wrong"})
    slug = _slugs(app, 1)[0]
    client.get(f"/articles/{slug}")
    client.get("/search", query_string={"q": "export totals"})
    login("casey@acme.test")
    page = client.get("/tickets/new")
    assert page.status_code == 200
    assert "export totals wrong" in page.get_data(as_text=True)
    response = client.post("/tickets/new", data={
        "subject": "Export totals are wrong", "description": "The March export is 10% high.",
        "severity": "2", "product_area": "", "phone": "", "idempotency_key": "k-trail-1"})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:2000]
    with app.app_context():
        ticket = db.session.scalars(select(Ticket)).one()
        assert ticket.searches == ["export totals wrong", "export totals"]
        assert ticket.viewed_articles == [slug]


def test_a_repeated_search_moves_to_the_end(app, client):
    for query in ["alpha one", "beta two", "alpha one"]:
        client.get("/search", query_string={"q": query})
    with app.app_context():
        values = db.session.scalars(select(VisitTrail.value)
                                    .order_by(VisitTrail.at, VisitTrail.id)).all()
    assert values == ["beta two", "alpha one"]
