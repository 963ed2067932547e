"""The editors' search file (`_search.yml`): read, checked with lines, reloaded, applied."""

from __future__ import annotations

import os
import re
import textwrap

import pytest

from portal.config import PROJECT_ROOT
from portal.content.loader import load_tree, signature
from portal.search.editorial import (
    EMPTY_RULES,
    Expansion,
    Promotion,
    SearchRules,
    get_search_rules,
    load_rules,
    parse_rules,
)

ARTICLES = {
    "billing/refunds.md": "# Refunds\n",
    "billing/change-your-plan.md": "# Change your plan\n",
    "billing/old-prices.md": "---\ndraft: true\n---\n# Old prices\n",
    "account/close-your-account.md": "---\naliases: [delete-account]\n---\n# Close it\n",
}

GOOD_FILE = """\
# Words readers use for the words we use.
synonyms:
  - [invoice, bill, receipt]
  - [Cancel, unsubscribe, "close account"]
related:
  cell phone: [mobile app]
promote:
  - query: refund
    articles: [billing/refunds.md]
  - query: [change plan, upgrade, downgrade]
    articles: [billing/change-your-plan, refunds]
ignore:
  - please help
  - ACME
"""


@pytest.fixture
def tree(write_articles):
    return load_tree(write_articles(ARTICLES))


def rules_of(text: str, tree=None) -> SearchRules:
    rules, problems = parse_rules(textwrap.dedent(text), tree)
    assert [p for p in problems if p.severity == "error"] == []
    return rules


def problems_of(text: str, tree=None) -> list[str]:
    return [str(p) for p in parse_rules(textwrap.dedent(text), tree)[1]]


# -- reading -------------------------------------------------------------------------------

def test_a_good_file_is_read_into_normalised_rules(tree):
    rules, problems = parse_rules(GOOD_FILE, tree)
    assert problems == []
    assert rules.synonyms == (("invoice", "bill", "receipt"),
                              ("cancel", "unsubscribe", "close account"))
    assert dict(rules.related) == {"cell phone": ("mobile app",)}
    assert rules.promotions == (
        Promotion(("refund",), ("refunds",)),
        Promotion(("change plan", "upgrade", "downgrade"), ("change-your-plan", "refunds")),
    )
    assert rules.ignore == ("please help", "acme")


def test_terms_are_normalised_like_queries_and_yaml_keywords_stay_words():
    rules = rules_of("""
        synonyms:
          - [E-mail, "Mail"]
          - [no, none, 404, not found]
          - invoice, bill
    """)
    assert rules.synonyms == (("e mail", "mail"), ("no", "none", "404", "not found"),
                              ("invoice", "bill"))


def test_a_missing_file_gives_empty_rules_and_no_problems(tmp_path):
    assert load_rules(tmp_path) == (EMPTY_RULES, [])
    assert EMPTY_RULES.promoted_for("refund") == []
    assert EMPTY_RULES.expansions(["bill"]) == []
    assert EMPTY_RULES.strip_ignored("please help") == "please help"


def test_an_empty_file_or_empty_sections_give_empty_rules(tmp_path):
    (tmp_path / "_search.yml").write_text("# nothing yet\n")
    rules, problems = load_rules(tmp_path)
    assert problems == [] and rules.synonyms == () and rules.promotions == ()
    assert problems_of("synonyms:\nrelated: {}\npromote: []\nignore:\n") == []


def test_the_digest_follows_the_file_bytes(tmp_path):
    (tmp_path / "_search.yml").write_text("ignore: [acme]\n")
    first = load_rules(tmp_path)[0].digest
    (tmp_path / "_search.yml").write_text("ignore: [acme, please]\n")
    assert first and load_rules(tmp_path)[0].digest not in ("", first)


def test_without_a_tree_articles_are_named_by_the_loaders_slug_rule():
    rules = rules_of("""
        promote:
          - query: refund
            articles: [billing/Refunds.md, billing/change-your-plan, vat]
    """)
    assert rules.promotions[0].slugs == ("refunds", "change-your-plan", "vat")


# -- checking ------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("synonyms:\n  - [a, b\nignore: [x]\n",
     "_search.yml:3: error: search file is not valid YAML: did not find expected ',' or ']' "
     "(while parsing a flow sequence started on line 2)"),
    ("- invoice\n- bill\n",
     "_search.yml:1: error: the search file must be a mapping of sections"),
    ("synonyms: invoice, bill\n", "_search.yml:1: error: 'synonyms' must be a list of groups"),
    ("synonyms: {a: b}\n", "_search.yml:1: error: 'synonyms' must be a list of groups"),
    ("synonyms:\n  - [a, b]\n  - []\n", "_search.yml:3: error: empty synonym group"),
    ("synonyms:\n  -\n", "_search.yml:2: error: empty synonym group"),
    ("synonyms:\n  - [a, b]\n  - [invoice bill]\n",
     "_search.yml:3: error: a synonym group needs at least two terms ('invoice bill' alone); "
     "separate them with commas"),
    ("synonyms:\n  - [a, [b, c]]\n",
     "_search.yml:2: error: each entry in a synonym group must be a word or phrase"),
    ("synonyms:\n  - [a, '?!', b]\n",
     "_search.yml:2: error: '?!' in a synonym group has no letters or digits"),
    ("synonyms:\n  - [bill, invoice, Bill]\n",
     "_search.yml:2: warning: 'bill' is listed twice in a synonym group"),
    ("synonyms:\n  - [bill, invoice]\n  - [bill, check]\n",
     "_search.yml:3: warning: 'bill' is also in the synonym group on line 2; both groups apply"),
    ("related: [cell phone, mobile app]\n", "_search.yml:1: error: 'related' must map a term"),
    ("related:\n  cell phone: []\n",
     "_search.yml:2: error: 'cell phone' in 'related' lists nothing to find"),
    ("promote: refund\n", "_search.yml:1: error: 'promote' must be a list of entries"),
    ("promote:\n  - refund\n", "_search.yml:2: error: each promotion needs 'query' and 'articles'"),
    ("promote:\n  - query: refund\n", "_search.yml:2: error: promotion without 'articles'"),
    ("promote:\n  - query: refund\n    articles: [billing/nope.md]\n",
     "_search.yml:3: error: promoted article 'billing/nope.md' does not exist"),
    ("promote:\n  - query: refund\n    articles:\n      - refunds\n      - nope\n",
     "_search.yml:5: error: promoted article 'nope' does not exist"),
    ("promote:\n  - query: prices\n    articles: [billing/old-prices.md]\n",
     "_search.yml:3: warning: promoted article billing/old-prices.md is a draft"),
    ("promote:\n  - query: leave\n    articles: [delete-account]\n",
     "_search.yml:3: warning: 'delete-account' is an old slug of account/close-your-account.md"),
    ("promote:\n  - query: refund\n    articles: [refunds]\n"
     "  - query: [upgrade, Refund]\n    articles: [change-your-plan]\n",
     "_search.yml:4: error: query 'refund' is already promoted on line 2"),
    ("promote:\n  - query: refund\n    articles: [refunds]\n    weight: 3\n",
     "_search.yml:4: warning: unknown promotion field 'weight'"),
    ("ignore: {acme: 1}\n", "_search.yml:1: error: 'ignore' must be a list of words or phrases"),
    ("synonyms:\n  - [acme, acme corp]\nignore: [acme]\n",
     "_search.yml:3: warning: 'acme' is also a synonym on line 2"),
    ("synonym:\n  - [a, b]\n",
     "_search.yml:1: warning: unknown section 'synonym' (did you mean 'synonyms'?)"),
    ("ignore: [a]\nignore: [b]\n",
     "_search.yml:2: error: section 'ignore' appears twice (first on line 1)"),
])
def test_each_mistake_is_reported_with_its_line(tree, text, expected):
    found = problems_of(text, tree)
    assert any(problem.startswith(expected) for problem in found), found


def test_a_broken_entry_leaves_the_rest_of_the_file_working(tree):
    rules, problems = parse_rules(textwrap.dedent("""
        synonyms:
          - [invoice]
          - [invoice, bill]
        promote:
          - query: refund
            articles: [nope.md, refunds]
          - query: upgrade
            articles: [nope.md]
        ignore: [acme]
    """), tree)
    assert [p.line for p in problems] == [3, 7, 9]
    assert rules.synonyms == (("invoice", "bill"),)
    assert rules.promotions == (Promotion(("refund",), ("refunds",)),)
    assert rules.ignore == ("acme",)


def test_unreadable_bytes_are_an_error_not_a_crash(tmp_path):
    (tmp_path / "_search.yml").write_bytes(b"ignore: [caf\xe9]\n")
    rules, problems = load_rules(tmp_path)
    assert rules == EMPTY_RULES
    assert [str(p) for p in problems] == ["_search.yml: error: not valid UTF-8 (byte 12)"]


# -- kb check ------------------------------------------------------------------------------

def run_check(runner, folder):
    return runner.invoke(args=["kb", "check", str(folder)])


def test_kb_check_reports_search_file_errors_with_lines_and_fails(runner, write_articles):
    root = write_articles(ARTICLES | {"_search.yml": """\
        synonyms:
          - [invoice]
        promote:
          - query: refund
            articles: [billing/gone.md]
          - query: old prices
            articles: [billing/old-prices.md]
    """})
    result = run_check(runner, root)
    out = result.output
    assert result.exit_code == 1
    assert "_search.yml:2: error: a synonym group needs at least two terms" in out
    assert "_search.yml:5: error: promoted article 'billing/gone.md' does not exist" in out
    assert "_search.yml:7: warning: promoted article billing/old-prices.md is a draft" in out
    assert "4 articles checked: 2 errors, 1 warning" in out


def test_kb_check_passes_a_good_search_file(runner, write_articles):
    root = write_articles(ARTICLES | {"_search.yml": GOOD_FILE})
    result = run_check(runner, root)
    assert result.exit_code == 0, result.output
    assert "_search.yml" not in result.output
    assert "4 articles checked: 0 errors, 0 warnings" in result.output


def test_the_search_file_is_not_read_as_an_article_or_category(write_articles):
    tree = load_tree(write_articles(ARTICLES | {"_search.yml": GOOD_FILE}))
    assert sorted(tree.by_path) == sorted(ARTICLES)
    assert tree.problems == []


# -- reloading with the content ------------------------------------------------------------

def write_rules(root, text: str, bump: int) -> None:
    """Write the file and move its modification time, so the change is seen at once."""
    path = root / "_search.yml"
    path.write_text(textwrap.dedent(text))
    stamp = path.stat().st_mtime_ns + bump * 1_000_000_000
    os.utime(path, ns=(stamp, stamp))


def test_the_app_rereads_the_search_file_when_it_changes(make_app, write_articles):
    root = write_articles(ARTICLES)
    app = make_app(ARTICLES_DIR=root)
    assert get_search_rules(app) == EMPTY_RULES  # no file: empty rules

    write_rules(root, "ignore: [acme]\n", bump=1)
    assert get_search_rules(app).ignore == ("acme",)

    write_rules(root, "ignore: [acme, please help]\n", bump=2)
    with app.app_context():
        assert get_search_rules().ignore == ("acme", "please help")

    (root / "_search.yml").unlink()
    assert get_search_rules(app) == EMPTY_RULES


def test_promotions_follow_the_articles_they_name(make_app, write_articles):
    root = write_articles(ARTICLES)
    app = make_app(ARTICLES_DIR=root)
    write_rules(root, "promote:\n  - query: refund\n    articles: [refunds]\n", bump=1)
    assert get_search_rules(app).promoted_for("refund") == ["refunds"]

    page = root / "billing/refunds.md"
    page.write_text("---\ndraft: true\n---\n# Refunds, not yet\n")
    os.utime(page, ns=(page.stat().st_mtime_ns + 3 * 10**9,) * 2)
    assert get_search_rules(app).promoted_for("refund") == []


def test_the_folder_signature_watches_only_the_top_search_file(write_articles):
    root = write_articles(ARTICLES)
    before = signature(root)
    (root / "billing/_search.yml").write_text("ignore: [x]\n")
    (root / "notes.yml").write_text("x: 1\n")
    assert signature(root) == before
    (root / "_search.yml").write_text("ignore: [x]\n")
    assert signature(root) != before


# -- applying the rules --------------------------------------------------------------------

@pytest.fixture
def rules(tree) -> SearchRules:
    return rules_of("""
        synonyms:
          - [invoice, bill, receipt]
          - [cancel, unsubscribe, close account]
          - [bill, charge]
        related:
          cell phone: [mobile app, phone]
        promote:
          - query: refund
            articles: [refunds]
          - query: [change plan, upgrade]
            articles: [change-your-plan, refunds]
          - query: plan
            articles: [close-your-account]
          - query: acme invoice
            articles: [close-your-account]
        ignore: [please help, acme]
    """, tree)


def test_a_promotion_matches_its_exact_query_first_then_any_query_holding_its_words(rules):
    assert rules.promoted_for("refund") == ["refunds"]
    assert rules.promoted_for("how do i get a refund") == ["refunds"]
    assert rules.promoted_for("refunds") == []  # whole words: plurals are listed separately
    # exact match first, then the promotion with more words, then file order
    assert rules.promoted_for("plan") == ["close-your-account"]
    assert rules.promoted_for("plan change") == [
        "change-your-plan", "refunds", "close-your-account"]
    assert rules.promoted_for("upgrade plan") == [
        "change-your-plan", "refunds", "close-your-account"]
    assert rules.promoted_for("password") == []
    assert rules.promoted_for("") == []


def test_promotions_ignore_the_ignored_words_on_both_sides(rules):
    assert rules.promoted_for("please help refund") == ["refunds"]
    assert rules.promoted_for("acme refund") == ["refunds"]
    assert rules.promoted_for("invoice") == ["close-your-account"]  # 'acme invoice' minus acme


def test_expansions_find_terms_and_phrases_in_the_query(rules):
    found = rules.expansions("how do i close account for my bill".split())
    assert found == [
        Expansion(3, ("close", "account"), ("cancel", "unsubscribe")),
        Expansion(7, ("bill",), ("invoice", "receipt", "charge")),  # both groups
    ]


def test_related_terms_go_one_way(rules):
    assert rules.expansions(["cell", "phone"]) == [
        Expansion(0, ("cell", "phone"), ("mobile app", "phone"))]
    assert rules.expansions(["mobile", "app"]) == []
    assert rules.expansions(["phone"]) == []


def test_the_longest_term_wins_without_overlaps():
    rules = rules_of("""
        synonyms:
          - [account, profile]
          - [close account, cancel]
    """)
    assert rules.expansions(["close", "account", "account"]) == [
        Expansion(0, ("close", "account"), ("cancel",)),
        Expansion(2, ("account",), ("profile",)),
    ]


def test_ignored_phrases_are_dropped_as_whole_words(rules):
    assert rules.strip_ignored("please help acme invoice missing") == "invoice missing"
    assert rules.strip_ignored("please acmes help") == "please acmes help"
    assert rules.strip_ignored("acme") == "acme"  # nothing else to search for: kept
    assert rules.strip_ignored("acme please help") == "acme please help"


def test_rules_are_immutable_and_hashable(rules):
    with pytest.raises(AttributeError):
        rules.ignore = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        rules.related["x"] = ("y",)  # type: ignore[index]
    assert hash(rules) == hash(rules)


# -- the README ----------------------------------------------------------------------------

def test_the_readme_example_is_a_valid_search_file(write_articles):
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("\n## The editors' search file\n", 1)[1].split("\n## ", 1)[0]
    example = re.search(r"(?:\n    .*)+", section)  # the first indented block
    assert example is not None
    root = write_articles({
        "billing/refunds.md": "# Refunds\n", "billing/change-your-plan.md": "# Plans\n",
        "troubleshooting/mobile-app-offline-sync.md": "# Sync\n",
        "_search.yml": textwrap.dedent(example.group(0)),
    })
    rules, problems = load_rules(root, load_tree(root))
    assert problems == []
    assert rules.synonyms and rules.related and rules.promotions and rules.ignore
