"""The widget's context: articles say which product areas they belong to, and a host page
that names the area its user is in gets those articles first, before and in searches."""

from __future__ import annotations

import re

import pytest

from portal.config import PROJECT_ROOT
from portal.content.areas import area_key
from portal.content.loader import load_tree
from portal.search import indexer, learning
from portal.search.query import normalize
from portal.search.service import CONTEXT_BOOST, get_service
from tests.feedback_pages import page_fields

# Two answers to "card payment": the fleet one says it a little more often, so it wins on
# text alone; only the billing one declares the billing area.
CARDS = {
    "billing/_category.yml": "title: Billing\n",
    "billing/pay-by-card.md": """
        ---
        title: Pay by card
        areas: [Billing]
        ---
        Add a card for the card payment of your subscription. Invoices follow by mail.
        """,
    "fleet/_category.yml": "title: Fleet\n",
    "fleet/fuel-cards.md": """
        ---
        title: Fuel cards
        ---
        Give drivers a fuel card. Each card payment at the pump is a card payment on the
        truck's log, one card per truck.
        """,
    "billing/change-plan.md": """
        ---
        title: Change your plan
        product_areas: billing, plans
        ---
        Move between monthly and annual plans, or add seats.
        """,
    "billing/draft-refunds.md": """
        ---
        title: Refunds
        areas: [billing]
        draft: true
        ---
        Refunds of a card payment go back to the card within ten days.
        """,
    "fleet/trucks.md": """
        ---
        title: Add a truck
        areas: [fleet]
        ---
        Register a truck with its plate number.
        """,
}


def slugs(page) -> list[str]:
    return [item.article.slug for item in page.items]


@pytest.fixture
def app(searchable_app):
    return searchable_app(CARDS)


# -- front matter ----------------------------------------------------------------------------

def test_areas_come_as_a_list_a_comma_separated_string_or_product_areas(write_articles):
    tree = load_tree(write_articles({
        "a/listed.md": "---\nareas: [Billing, Load Tickets]\n---\nx\n",
        "a/block.md": "---\nareas:\n  - billing\n  - mobile_app\n---\nx\n",
        "a/comma.md": "---\nareas: 'billing,  load tickets ,'\n---\nx\n",
        "a/alias.md": "---\nproduct_areas: [Billing]\n---\nx\n",
        "a/both.md": "---\nareas: billing\nproduct_areas: [plans, BILLING]\n---\nx\n",
        "a/toml.md": '+++\nareas = ["Billing"]\n+++\nx\n',
        "a/none.md": "---\ntitle: No areas\n---\nx\n",
    }))
    areas = {a.slug: a.areas for a in tree.articles}
    assert areas == {
        "listed": ("billing", "load-tickets"), "block": ("billing", "mobile-app"),
        "comma": ("billing", "load-tickets"), "alias": ("billing",),
        "both": ("billing", "plans"), "toml": ("billing",), "none": (),
    }
    assert tree.problems == []


def test_area_names_are_compared_by_their_key():
    assert area_key("Billing") == "billing"
    assert area_key("  Load Tickets ") == "load-tickets"
    assert area_key("load_tickets") == area_key("LOAD--tickets!") == "load-tickets"
    assert area_key("--Mobile / App--") == "mobile-app"
    assert area_key("Facturación") == "facturacion"
    assert area_key("Счета") == "счета"
    assert area_key("!!!") == ""
    assert area_key("a" * 70) == "a" * 60
    assert area_key("a" * 59 + "-bcd") == "a" * 59  # cut at 60, no trailing "-"


def test_bad_areas_are_left_out_and_reported_with_file_and_line(runner, write_articles):
    root = write_articles({
        "a/items.md": "---\ntitle: Items\nareas: [billing, 3, {x: 1}, '!!', null]\n---\nx\n",
        "a/mapping.md": "---\ntitle: Mapping\nproduct_areas: {billing: yes}\n---\nx\n",
    })
    tree = load_tree(root)
    assert tree.by_slug["items"].areas == ("billing",)
    assert tree.by_slug["mapping"].areas == ()
    out = runner.invoke(args=["kb", "check", str(root)]).output
    assert "a/items.md:3: warning: 'areas': 3 is not a product area name (ignored)" in out
    assert "a/items.md:3: warning: 'areas': {'x': 1} is not a product area name" in out
    assert "a/items.md:3: warning: 'areas': '!!' is not a product area name" in out
    assert "a/items.md:3: warning: 'areas': None is not a product area name" in out
    # a value that is no list at all is a wrong field type, as for tags
    assert "a/mapping.md:3: error: 'product_areas' must be a list of product areas" in out


def test_the_sample_billing_articles_declare_the_billing_area():
    tree = load_tree(PROJECT_ROOT / "articles")
    in_billing = {a.slug for a in tree.published() if "billing" in a.areas}
    assert {"invoices-and-receipts", "payment-method-failed", "change-your-plan"} <= in_billing
    assert all(a.category == "billing" for a in tree.articles if "billing" in a.areas)


# -- searching in a context -------------------------------------------------------------------

def test_the_context_ranks_its_articles_above_a_slightly_better_answer_from_elsewhere(app):
    service = get_service(app)
    with app.app_context():
        plain = service.search("card payment")
        assert slugs(plain)[:2] == ["fuel-cards", "pay-by-card"]
        for context in ("billing", "Billing", " BILLING "):
            in_billing = service.search("card payment", context=context)
            assert slugs(in_billing)[:2] == ["pay-by-card", "fuel-cards"], context
            # a boost, not a filter: the answer from elsewhere is still there, and the
            # billing articles that do not answer are not added
            assert set(slugs(in_billing)) == set(slugs(plain)) == {"fuel-cards", "pay-by-card"}
            assert in_billing.total == plain.total


def test_the_boost_is_the_size_of_what_readers_can_teach(app):
    service = get_service(app)
    with app.app_context():
        plain = {i.article.slug: i.score for i in service.search("card payment").items}
        boosted = {i.article.slug: i.score
                   for i in service.search("card payment", context="billing").items}
    assert boosted["fuel-cards"] == plain["fuel-cards"]
    assert boosted["pay-by-card"] == pytest.approx(plain["pay-by-card"] + CONTEXT_BOOST,
                                                   abs=1e-3)
    assert CONTEXT_BOOST == app.config["SEARCH_LEARN_MAX_BOOST"]


def test_without_a_context_or_with_one_no_article_declares_search_is_unchanged(app):
    service = get_service(app)
    with app.app_context():
        def ranked(**kwargs):
            return [(i.article.slug, i.score) for i in service.search("card", **kwargs).items]

        plain = ranked()
        assert plain
        for context in (None, "", "   ", "!!", "warehouse"):
            assert ranked(context=context) == plain, context


def test_a_context_keeps_the_category_filter_and_paging(app):
    service = get_service(app)
    with app.app_context():
        fleet_only = service.search("card payment", category_slug="fleet", context="billing")
        assert slugs(fleet_only) == ["fuel-cards"]
        first = service.search("card payment", per_page=1, context="billing")
        second = service.search("card payment", page=2, per_page=1, context="billing")
    assert slugs(first) + slugs(second) == ["pay-by-card", "fuel-cards"]


def test_a_draft_in_the_context_does_not_appear_in_searches(app):
    with app.app_context():
        page = get_service(app).search("refunds card", context="billing")
    assert "draft-refunds" not in slugs(page)


# -- suggestions before any search ------------------------------------------------------------

def test_context_articles_are_the_published_ones_of_that_area_by_title(app):
    service = get_service(app)
    with app.app_context():
        assert [a.slug for a in service.context_articles("billing")] == [
            "change-plan", "pay-by-card"]  # the draft is left out; by title
        assert [a.slug for a in service.context_articles("Plans")] == ["change-plan"]
        assert [a.slug for a in service.context_articles("fleet")] == ["trucks"]
        assert [a.slug for a in service.context_articles("billing", limit=1)] == [
            "change-plan"]
        assert service.context_articles("warehouse") == []
        assert service.context_articles("") == []
        assert service.context_articles("billing", limit=0) == []


def test_context_articles_put_the_most_read_first(make_app, write_articles):
    app = make_app(ARTICLES_DIR=write_articles(CARDS), SEARCH_STATS_SECONDS=0,
                   FEEDBACK_MIN_SECONDS=0)
    client = app.test_client()
    # One reader opens "Pay by card" from the ticket form's suggestions: it is read lately.
    client.get("/tickets/suggested/pay-by-card", query_string={"subject": "card"})
    with app.app_context():
        assert [a.slug for a in get_service(app).context_articles("billing")] == [
            "pay-by-card", "change-plan"]


def test_what_readers_taught_and_the_context_do_not_add_up(make_app, write_articles,
                                                           make_user):
    """Per article the larger boost counts: an article readers already lifted above the
    context's boost gains nothing more from its area."""
    folder = write_articles(CARDS)
    app = make_app(ARTICLES_DIR=folder, FEEDBACK_MIN_SECONDS=0.0, SEARCH_LEARN_MIN_READERS=1,
                   SEARCH_LEARN_FULL_READERS=1, SEARCH_LEARN_MAX_BOOST=1.0)
    service = get_service(app)
    indexer.build(service.engine, folder)
    with app.app_context():
        plain = {i.article.slug: i.score for i in service.search("card payment").items}
    taught_by_one_reader(app, make_user(org="Acme Paving"), "card payment", "pay-by-card")
    with app.app_context():
        learning.refresh()
        taught = learning.learned_boosts(normalize("card payment"))["pay-by-card"]
        assert taught > CONTEXT_BOOST
        learned = {i.article.slug: i.score for i in service.search("card payment").items}
        both = {i.article.slug: i.score
                for i in service.search("card payment", context="billing").items}
    assert learned["pay-by-card"] == pytest.approx(plain["pay-by-card"] + taught, abs=1e-3)
    assert both == learned


def taught_by_one_reader(app, user, query: str, slug: str) -> None:
    """A signed-in reader searches, opens `slug` from the results and finds it helpful."""
    client = app.test_client()
    client.post("/login", data={"email": user.email, "password": "correct horse 1"})
    html = client.get("/search", query_string={"q": query}).get_data(as_text=True)
    search_id = re.search(r"/api/click\?search=(\d+)", html).group(1)
    assert client.post(f"/api/click?search={search_id}&slug={slug}&position=1"
                       ).status_code == 204
    fields = page_fields(client, f"/articles/{slug}")
    assert client.post(f"/feedback/articles/{slug}",
                       data=fields | {"helpful": "yes"}).status_code == 303
