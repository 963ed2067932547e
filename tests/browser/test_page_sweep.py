"""Every page, as every kind of visitor, on a phone and on a desktop (issue 11).

With an incident and an upcoming maintenance on the banner (the widest state of every
page), each page a reader, a customer, an agent, an editor and an admin can reach is
opened at 390x844 and at 1280x900. On each:

- the page never scrolls sideways (document scrollWidth within the viewport);
- axe-core (pinned, see a11y.py) finds no violation of impact moderate or worse;
- no id is used twice;
- a screenshot is saved as screenshots/sweep-<role>-<page>-<width>.png.

The phone pass runs again in the dark theme (prefers-color-scheme: dark), where axe-core
checks the colour contrast of the dark palette.

Each role's test visits all its pages and then reports every problem at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.accounts.service import create_user
from portal.content import get_store
from portal.extensions import db
from portal.feedback import service as feedback
from portal.models import (
    IncomingMail,
    Notice,
    NoticeKind,
    NoticeUpdate,
    TrainingSession,
    User,
)
from portal.tickets import service as tickets
from tests.browser.a11y import axe_violations, describe, duplicate_ids, sideways_overflow

PASSWORD = "correct horse 1"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
ZONE = "America/Los_Angeles"  # not Eastern, so "(Your time: ...)" shows beside the times
WIDGET_HOST = "http://localhost:8001"  # a product page allowed to embed the widget (issue 16)
EMAILS = {"customer": "casey.customer@acme-paving.example", "agent": "alex@bitumio.test",
          "editor": "erin@bitumio.test", "admin": "ada@bitumio.test"}


@dataclass
class Site:
    url: str
    ids: dict[str, int] = field(default_factory=dict)


def seed(app) -> dict[str, int]:
    """Users of every role, a ticket with a conversation, held mail, votes, training, and
    the notices that put two banners on every page."""
    now = datetime.now(UTC)
    ids: dict[str, int] = {}
    with app.app_context():
        for role, email in EMAILS.items():
            name = {"customer": "Casey Customer-Longname", "agent": "Alex Agent",
                    "editor": "Erin Editor", "admin": "Ada Administrator"}[role]
            create_user(email, name, PASSWORD, role, "Acme Paving & Asphalt Holdings"
                        if role == "customer" else None)
        db.session.commit()
        casey = db.session.scalar(select(User).where(User.email == EMAILS["customer"]))
        alex = db.session.scalar(select(User).where(User.email == EMAILS["agent"]))
        ticket, _ = tickets.file_ticket(casey, tickets.NewTicket(
            "Load tickets from the Riverside plant arrive twenty minutes late",
            "Since Monday every load ticket from **Riverside** shows up late.\n\n"
            "```\nERR 504 upstream_timeout plant=riverside-02 retry_after=1200\n```",
            2, "sweep-1", product_area="", searches=["load tickets late"],
            viewed_articles=["load-tickets-not-appearing"]), link=lambda t: "http://x")
        tickets.reply(ticket, alex, "Thanks, we are looking at the plant connector now.",
                      link=lambda t: "http://x")
        tickets.reply(ticket, alex, "Connector logs show retries every 20 minutes.",
                      link=lambda t: "http://x", internal=True)
        tickets.file_ticket(casey, tickets.NewTicket(
            "Nobody can sign in", "Everyone gets an error page.", 1, "sweep-2"),
            link=lambda t: "http://x")
        ids["ticket"] = ticket.id
        ids["customer"] = casey.id
        ids["org"] = casey.organisation_id
        from portal.admin import audit, orgs

        admin = db.session.scalar(select(User).where(User.email == EMAILS["admin"]))
        orgs.add_domain(casey.organisation, "acme-paving.example", audit.Actor.of(admin))
        orgs.suspend(casey.organisation, "Renewal overdue", "Jordan in Accounts",
                     audit.Actor.of(admin))
        orgs.resume(casey.organisation, audit.Actor.of(admin))
        db.session.commit()

        incident = Notice(kind=NoticeKind.INCIDENT,
                          title="Load tickets from some asphalt plants arrive late",
                          description="Tickets reach Bitumio up to 20 minutes late. "
                                      "Nothing is lost.",
                          starts_at=now - timedelta(minutes=40), ends_at=None, revision=2)
        incident.updates.append(NoticeUpdate(
            body="We found the cause in the plant connector and are deploying a fix.",
            created_at=now - timedelta(minutes=10)))
        maintenance = Notice(kind=NoticeKind.MAINTENANCE,
                             title="Database upgrade: sign-in, reports and the API paused",
                             description="The Field app keeps working offline.",
                             starts_at=now + timedelta(hours=20),
                             ends_at=now + timedelta(hours=23), revision=1)
        past = Notice(kind=NoticeKind.MAINTENANCE, title="Search index rebuild",
                      starts_at=now - timedelta(days=3),
                      ends_at=now - timedelta(days=3) + timedelta(hours=1), revision=1)
        db.session.add_all([incident, maintenance, past])

        session = TrainingSession(
            title="Bitumio basics for new estimators and dispatchers",
            description="A guided tour: projects, estimates, crews and daily field reports.",
            starts_at=now + timedelta(days=9), duration_minutes=60, capacity=12,
            seats_taken=0, joining_details="https://meet.example/basics", revision=0)
        db.session.add(session)

        reasons = feedback.parse_reasons(app.config["FEEDBACK_REASONS"])
        store = get_store()
        for slug, yes, no, comment in [
            ("technical-support-policy", 3, 5, "The phone hours differ from the contact page."),
            ("reset-your-password", 0, 2, "The reset email never arrived."),
        ]:
            article = store.tree().by_slug[slug]
            version = feedback.ArticleVersion.of(article, store.history(article))
            for n in range(yes + no):
                feedback.record_vote(version=version, voter=f"visitor:{slug}-{n}", user_id=None,
                                     helpful=n < yes, reasons=["outdated", "missing"],
                                     comment=comment if n == yes + no - 1 else "",
                                     allowed=reasons, comment_max=1000)
        db.session.commit()
        ids["session"] = session.id

        from portal.mailin import service as mailin

        raw = (b"From: Bob Stranger <bob.stranger@unknown-contractor.example>\r\n"
               b"To: support@bitumio.com\r\n"
               b"Subject: Can Bitumio read the scale tickets of our two asphalt plants?\r\n"
               b"Message-ID: <sweep-1@unknown>\r\n\r\n"
               b"We run two asphalt plants and would like to connect them.\r\n")
        mailin.ingest(raw, now)
        db.session.commit()
        ids["mail"] = db.session.scalar(select(IncomingMail.id))
    return ids


def public_pages(site: Site) -> list[tuple[str, str]]:
    return [
        ("home", "/"),
        ("category", "/categories/policies"),
        ("article", "/articles/technical-support-policy"),
        ("article-code", "/articles/api-rate-limits"),
        ("search", "/search?q=password"),
        ("search-none", "/search?q=xylophone+quokka"),
        ("contact", "/contact"),
        ("status", "/status"),
        ("training", "/training/"),
        ("training-session", f"/training/{site.ids['session']}"),
        # The widget's panel (issue 16), opened on its own: what the iframe shows.
        ("widget-panel", f"/widget/frame?host={WIDGET_HOST}&context=billing"),
        ("widget-article", f"/widget/frame?host={WIDGET_HOST}&context=billing"),
    ]


def pages_for(role: str, site: Site) -> list[tuple[str, str]]:
    ticket, mail = site.ids["ticket"], site.ids["mail"]
    if role == "reader":
        return public_pages(site) + [("sign-in", "/login"), ("register", "/register"),
                                     ("forgot", "/forgot"),
                                     ("sign-in-to-file", "/tickets/new"),
                                     ("not-found", "/no-such-page")]
    pages = [("home", "/"), ("article", "/articles/technical-support-policy"),
             ("contact", "/contact"), ("status", "/status"),
             ("training-session", f"/training/{site.ids['session']}"),
             ("account", "/account")]
    if role == "customer":
        pages += [("search", "/search?q=password"), ("ticket-form", "/tickets/new"),
                  ("tickets", "/tickets/"), ("ticket", f"/tickets/{ticket}")]
    if role in ("agent", "admin"):
        pages += [("queue", "/tickets/queue"), ("ticket", f"/tickets/{ticket}"),
                  ("mail-review", "/mail/review/"), ("mail-message", f"/mail/review/{mail}"),
                  ("people", "/admin/users"), ("person", f"/admin/users/{site.ids['customer']}"),
                  ("orgs", "/admin/organisations"),
                  ("org", f"/admin/organisations/{site.ids['org']}")]
    if role in ("editor", "admin"):
        pages += [("health", "/feedback/health"),
                  ("health-article", "/feedback/health/technical-support-policy"),
                  ("search-learning", "/search/learning")]
    if role == "admin":
        pages += [("admin-home", "/admin/"), ("person-new", "/admin/users/new"),
                  ("org-new", "/admin/organisations/new"), ("audit", "/admin/audit"),
                  ("notices", "/admin/notices"),
                  ("notice-form", "/admin/notices/new/maintenance"),
                  ("training", "/training/"), ("training-form", "/training/new")]
    return pages


def sign_in(page, site: Site, email: str) -> None:
    page.goto(site.url + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert page.locator("form[action='/logout']").count() == 1, f"{email} could not sign in"


def show_suggestions(page) -> None:
    """On the ticket form: type a subject and wait for the suggested articles."""
    page.get_by_label("Subject").press_sequentially("reset my password", delay=20)
    page.locator("#ticket-suggestions li a").first.wait_for(timeout=5000)


def widget_ready(page) -> None:
    """The widget's panel, once its home view (status, suggestions) is filled in."""
    page.locator("body[data-ready]").wait_for(state="attached", timeout=5000)


def widget_article(page) -> None:
    """The widget's panel after a search, reading an article, with "No" reasons open."""
    widget_ready(page)
    box = page.get_by_role("searchbox", name="Search the knowledge base")
    box.fill("invoices")
    box.press("Enter")
    page.locator(".kb-results .kb-link").first.click()
    page.locator(".kb-article-title").wait_for()
    page.get_by_role("button", name="No", exact=True).click()


BEFORE_CHECK: dict[str, Callable] = {"ticket-form": show_suggestions,
                                     "widget-panel": widget_ready,
                                     "widget-article": widget_article}
WITHOUT_SITE_HEADER = frozenset({"widget-panel", "widget-article"})


def check_page(page, screenshot, role: str, name: str, width: str) -> list[str]:
    problems = []
    where = f"{role} {name} at {width} ({page.url})"
    overflow = sideways_overflow(page)
    if overflow:
        problems.append(f"{where}: scrolls sideways: {overflow}")
    violations = axe_violations(page)
    if violations:
        problems.append(f"{where}: axe-core found:\n{describe(violations)}")
    twice = duplicate_ids(page)
    if twice:
        problems.append(f"{where}: ids used more than once: {twice}")
    screenshot(page, f"sweep-{role}-{name}-{width}")
    return problems


def open_menus(page) -> bool:
    """Open the phone "Menu" and the account menu, where the page has them."""
    opened = False
    toggle = page.get_by_role("button", name="Menu")
    if toggle.count() == 1 and toggle.is_visible():
        toggle.click()
        opened = True
    account = page.locator(".account-menu summary")
    if account.count() == 1 and account.is_visible():
        account.click()
        opened = True
    return opened


def header_rows(page) -> int:
    """How many rows the header's brand, search and links take."""
    return page.evaluate("""() => {
        const tops = [];
        for (const el of document.querySelectorAll(
                ".header-row > .brand, .header-row > .header-search, .nav-links > li, "
                + ".nav-account > *")) {
            const box = el.getBoundingClientRect();
            if (box.height && !tops.some(t => Math.abs(t - box.top - box.height / 2) < 12)) {
                tops.push(box.top + box.height / 2);
            }
        }
        return tops.length;
    }""")


@pytest.fixture
def site(serve, make_app) -> Site:
    app = make_app(WIDGET_ALLOWED_ORIGINS=[WIDGET_HOST])
    ids = seed(app)
    return Site(serve(app).url, ids)


def sweep(browser, axe_script, screenshot, site: Site, role: str, viewport: dict,
          scheme: str = "light") -> list[str]:
    """Visit every page of the role in one browser context; the problems found."""
    problems: list[str] = []
    failed: list[str] = []  # styles, scripts, the favicon... (not the 404 page itself)
    context = browser.new_context(viewport=viewport, timezone_id=ZONE, color_scheme=scheme)
    context.add_init_script(path=str(axe_script))
    page = context.new_page()
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/no-such-page") else None)
    width = f"{viewport['width']}" + ("" if scheme == "light" else f"-{scheme}")
    try:
        if role != "reader":
            sign_in(page, site, EMAILS[role])
        if role == "customer":  # the ticket form opens after a search
            page.goto(site.url + "/search?q=password")
        for name, path in pages_for(role, site):
            response = page.goto(site.url + path)
            expected = 404 if name == "not-found" else 200
            if response is None or response.status != expected:
                problems.append(f"{role} {name}: HTTP {response and response.status}")
                continue
            page.wait_for_load_state("load")
            if name in BEFORE_CHECK:
                BEFORE_CHECK[name](page)
            problems += check_page(page, screenshot, role, name, width)
            if viewport is DESKTOP and name not in WITHOUT_SITE_HEADER \
                    and header_rows(page) != 1:
                problems.append(f"{role} {name} at {width}: the header takes "
                                f"{header_rows(page)} rows")
            if name in ("home", "article") and open_menus(page):
                problems += check_page(page, screenshot, role, f"{name}-menus-open", width)
    finally:
        context.close()
    if failed:
        problems.append(f"{role} at {width}: requests failed: {sorted(set(failed))}")
    return problems


@pytest.mark.parametrize("role", ["reader", "customer", "agent", "editor", "admin"])
def test_every_page_fits_a_phone_and_passes_axe(role, site, browser, axe_script, screenshot):
    problems = (sweep(browser, axe_script, screenshot, site, role, PHONE)
                + sweep(browser, axe_script, screenshot, site, role, DESKTOP)
                # The dark theme (prefers-color-scheme: dark): contrast, on a phone.
                + sweep(browser, axe_script, screenshot, site, role, PHONE, scheme="dark"))
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)


def test_on_a_phone_suggested_articles_come_before_the_submit_button(serve, make_app, browser,
                                                                    screenshot):
    app = make_app()
    with app.app_context():
        create_user(EMAILS["customer"], "Casey Customer", PASSWORD, "customer", "Acme Paving")
        db.session.commit()
    site = Site(serve(app).url)
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        sign_in(page, site, EMAILS["customer"])
        page.goto(site.url + "/search?q=password")
        page.goto(site.url + "/tickets/new")
        show_suggestions(page)
        suggestions = page.locator("#ticket-suggestions")
        submit = page.get_by_role("button", name="Submit ticket")
        list_box, button_box = suggestions.bounding_box(), submit.bounding_box()
        assert list_box and button_box
        assert list_box["y"] + list_box["height"] <= button_box["y"], (
            f"suggestions end at y={list_box['y'] + list_box['height']:.0f}, "
            f"below the Submit button at y={button_box['y']:.0f}")
        # Between the subject and the button, in the reading order as well as on screen.
        order = page.evaluate("""() => {
            const subject = document.getElementById("subject");
            const list = document.getElementById("ticket-suggestions");
            const button = document.querySelector("#ticket-form button[type=submit]");
            const follows = (a, b) => !!(a.compareDocumentPosition(b)
                                         & Node.DOCUMENT_POSITION_FOLLOWING);
            return [follows(subject, list), follows(list, button)];
        }""")
        assert order == [True, True]
        subject_box = page.get_by_label("Subject").bounding_box()
        assert subject_box and subject_box["y"] < list_box["y"]
        screenshot(page, "tickets-new-phone-suggestions")
    finally:
        context.close()
