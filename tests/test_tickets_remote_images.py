"""Ticket text loads nothing from other sites in agents' browsers (review finding 6): a
remote image written by a customer (Markdown or raw HTML, on the web or by mail) is shown
as a link naming its host, and ticket pages only allow images from the portal itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Ticket

MAIL = Path(__file__).parent / "data" / "mail"
PIXEL = "![t](https://evil.test/pixel.png)"
PIXEL_LINK = ('<a href="https://evil.test/pixel.png" rel="nofollow noopener noreferrer">'
              "Image: t (evil.test)</a>")


@pytest.fixture
def people(make_user):
    return {
        "customer": make_user(email="casey@acme.test", org="Acme Paving", name="Casey"),
        "agent": make_user(email="alex@bitumio.test", role="agent", name="Alex Agent"),
    }


def signed_in(app, email: str):
    client = app.test_client()
    client.post("/login", data={"email": email, "password": "correct horse 1"})
    return client


def file_ticket(client, description: str) -> int:
    client.get("/search?q=export+totals")
    response = client.post("/tickets/new", data={
        "subject": "Export totals wrong", "description": description, "severity": "2",
        "product_area": "", "idempotency_key": f"key-{len(description)}"})
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])


def render(text: str, own_hosts=frozenset()) -> str:
    from portal.content.render import render_customer_markdown

    return render_customer_markdown(text, own_hosts=own_hosts)


def images(html: str) -> list[str]:
    return re.findall(r"<img\b[^>]*>", html, flags=re.I)


def test_a_tracking_pixel_in_a_ticket_is_a_link_naming_its_host_for_the_agent(app, people):
    customer = signed_in(app, people["customer"].email)
    ticket_id = file_ticket(customer, f"Totals are high.\n\n{PIXEL}\n\n"
                                      '<img src="https://tracker.example/open.gif" alt="logo">')
    customer.post(f"/tickets/{ticket_id}/reply",
                  data={"body": "More: ![chart](//cdn.evil.test/c.png)"})
    agent = signed_in(app, people["agent"].email)
    response = agent.get(f"/tickets/{ticket_id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert images(html) == []  # nothing for the agent's browser to fetch
    assert PIXEL_LINK in html
    assert ('<a href="https://tracker.example/open.gif" rel="nofollow noopener noreferrer">'
            "Image: logo (tracker.example)</a>") in html
    assert "Image: chart (cdn.evil.test)</a>" in html  # the customer's reply too


def test_ticket_pages_only_allow_images_from_the_portal(app, people):
    customer = signed_in(app, people["customer"].email)
    ticket_id = file_ticket(customer, PIXEL)
    agent = signed_in(app, people["agent"].email)
    for client, url in [(agent, f"/tickets/{ticket_id}"), (agent, "/tickets/queue"),
                        (customer, f"/tickets/{ticket_id}"), (customer, "/tickets/")]:
        response = client.get(url)
        assert response.status_code == 200, url
        policy = dict(part.strip().split(" ", 1)
                      for part in response.headers["Content-Security-Policy"].split(";"))
        assert policy["img-src"] == "'self'", url


def test_articles_written_by_editors_may_still_show_remote_images(client):
    response = client.get("/articles/reset-your-password")
    assert response.status_code == 200
    assert "img-src 'self' https:;" in response.headers["Content-Security-Policy"]
    home = client.get("/")
    assert "img-src 'self';" in home.headers["Content-Security-Policy"]


def test_a_pixel_in_an_emailed_ticket_is_a_link_too(make_app, make_user, tmp_path):
    app = make_app(MAILIN_DIR=str(tmp_path / "mailin"), SITE_URL="https://help.bitumio.com")
    make_user(email="alice@acme.example", name="Alice Paver", org="Acme")
    make_user(email="agent@bitumio.com", name="Sam Agent", role="agent")
    raw = (MAIL / "new_ticket.eml").read_bytes().replace(
        b"Screenshot attached.", PIXEL.encode())
    result = app.test_cli_runner().invoke(args=["tickets", "ingest-email"], input=raw)
    assert result.exit_code == 0, result.output
    with app.app_context():
        ticket_id = db.session.scalars(select(Ticket.id)).one()
    html = signed_in(app, "agent@bitumio.com").get(f"/tickets/{ticket_id}").get_data(
        as_text=True)
    assert images(html) == [] and PIXEL_LINK in html


@pytest.mark.parametrize(("text", "shown"), [
    ("![t](https://evil.test/pixel.png)", PIXEL_LINK),
    ("![](https://evil.test/p.png)", "Image (evil.test)</a>"),
    ("![a](http://EVIL.test:8080/p.png)", "Image: a (evil.test:8080)</a>"),
    ("![a](https://good.example@evil.test/p.png)", "Image: a (evil.test)</a>"),
    ('<IMG SRC="https://evil.test/p.png" ALT="big">', "Image: big (evil.test)</a>"),
    ('![a > b "c" <d>](https://evil.test/p.png)',
     "Image: a &gt; b &#34;c&#34; &lt;d&gt; (evil.test)</a>"),
    ('<img src="https://evil.test/p.png" alt="a &quot;q&quot;" title="x">',
     "Image: a &#34;q&#34; (evil.test)</a>"),
    ("![a](//evil.test/p.png)", '<a href="https://evil.test/p.png" rel="nofollow'),
    ('<img src="ht&#9;tps://evil.test/p.png" alt="a">', "Image: a (evil.test)</a>"),
    ('<img src=" https://evil.test/p.png" alt="a">', "Image: a (evil.test)</a>"),
    ("![a](/\\evil.test/p.png)", "Image: a (evil.test)</a>"),
    ('<img src="\\\\evil.test/p.png" alt="a">', "Image: a (evil.test)</a>"),
    ("![a](https://xn--80ak6aa92e.test/p.png)", "Image: a (xn--80ak6aa92e.test)</a>"),
    ("![a](https://аррӏе.test/p.png)", "Image: a (xn--80ak6aa92e.test)</a>"),
    ("[![logo](https://evil.test/l.png)](https://example.com/docs)",
     '<a href="https://example.com/docs" rel="noopener noreferrer">Image: logo (evil.test)</a>'),
])
def test_remote_images_in_customer_text_become_links(text, shown):
    html = render(text)
    assert images(html) == [], html
    assert shown in html, html


@pytest.mark.parametrize("text", [
    "![shot](/tickets/1/files/2)",
    "![shot](images/shot.png)",
    '<img src="/media/logo.png" alt="logo">',
    "![shot](https://help.bitumio.com/media/logo.png)",
])
def test_images_on_the_portal_itself_stay_images(text):
    html = render(text, own_hosts={"help.bitumio.com"})
    assert len(images(html)) == 1, html
