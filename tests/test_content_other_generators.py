"""Articles written for Jekyll, Hugo, MkDocs or Docusaurus load, render and index like ours."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.content.check import check_folder
from portal.content.excerpt import excerpt
from portal.content.loader import load_tree
from portal.content.render import render_markdown, strip_template_tags
from portal.search.documents import from_article, plain_text
from tests.test_rendering import executable_parts


def problems_of(tree, path: str) -> list[str]:
    return [str(p) for p in tree.problems if p.path == path]


# -- titles from file and folder names ------------------------------------------------


def test_an_article_named_with_spaces_is_titled_as_written_hyphens_and_all(write_articles):
    tree = load_tree(write_articles({
        "account/Two-step login.md": "No heading here.\n",
        "browsers/Pop-up blockers.md": "No heading here either.\n",
        "browsers/Wi-Fi and the mobile app.markdown": "Text.\n",
    }))
    assert tree.by_slug["two-step-login"].title == "Two-step login"
    assert tree.by_slug["pop-up-blockers"].title == "Pop-up blockers"
    assert tree.by_slug["wi-fi-and-the-mobile-app"].title == "Wi-Fi and the mobile app"


def test_slug_style_file_names_still_become_sentence_titles(write_articles):
    tree = load_tree(write_articles({
        "a/reset-your-password.md": "Text.\n",
        "b/change_your_email.md": "Text.\n",
    }))
    assert tree.by_slug["reset-your-password"].title == "Reset your password"
    assert tree.by_slug["change-your-email"].title == "Change your email"


def test_category_folders_follow_the_same_rule_as_file_names(write_articles):
    tree = load_tree(write_articles({
        "Sign-in and two-step login/a.md": "Text.\n",
        "getting-started/b.md": "Text.\n",
        "mobile_app/c.md": "Text.\n",
    }))
    titles = {c.path: c.title for c in tree.categories.values()}
    assert titles["Sign-in and two-step login"] == "Sign-in and two-step login"
    assert titles["getting-started"] == "Getting started"
    assert titles["mobile_app"] == "Mobile app"


# -- front matter from other site generators ------------------------------------------

JEKYLL = """\
---
layout: post
title: Reset your password
description: Get back into your account in two minutes.
permalink: /help/reset-password/
categories: [account, security]
date: 2023-04-05 10:00:00 +0200
last_modified_at: 2024-01-02
author: Sam
comments: false
---
Open the sign-in page and click **Forgot password**.
"""

HUGO = """\
---
title: "Reset your password"
description: Get back into your account in two minutes.
date: 2023-04-05
lastmod: 2024-01-02
draft: false
weight: 20
slug: reset-password
categories: account
keywords: [password, sign in]
toc: true
menu:
  main:
    parent: Account
---
Open the sign-in page and click **Forgot password**.
"""

DOCUSAURUS = """\
---
id: reset-password
title: Reset your password
sidebar_label: Password
sidebar_position: 20
description: Get back into your account in two minutes.
keywords: [password, sign in]
hide_table_of_contents: true
last_update:
  date: 2024-01-02
  author: Sam
---
Open the sign-in page and click **Forgot password**.
"""

MKDOCS = """\
---
title: Reset your password
description: Get back into your account in two minutes.
hide:
  - navigation
  - toc
search:
  boost: 2
status: new
tags:
  - password
---
Open the sign-in page and click **Forgot password**.
"""

NEXTJS = """\
---
title: Reset your password
description: Get back into your account in two minutes.
lastUpdated: 2024-01-02
last_modified: 2024-01-02
category: Account
author: Sam
image: /img/reset.png
---
Open the sign-in page and click **Forgot password**.
"""


def test_a_jekyll_article_with_layout_and_permalink_loads_with_its_description_as_summary(
        write_articles):
    tree = load_tree(write_articles({"account/reset.md": JEKYLL}))
    article = tree.by_slug["reset"]
    assert article.title == "Reset your password"
    assert article.summary == "Get back into your account in two minutes."
    assert article.meta_error == "" and not article.draft
    assert problems_of(tree, "account/reset.md") == []


@pytest.mark.parametrize("text", [JEKYLL, HUGO, DOCUSAURUS, MKDOCS, NEXTJS],
                         ids=["jekyll", "hugo", "docusaurus", "mkdocs", "nextjs"])
def test_well_known_fields_of_other_generators_load_without_warnings(write_articles, text):
    tree = load_tree(write_articles({"account/reset.md": text}))
    article = tree.by_slug["reset"]
    assert article.title == "Reset your password"
    assert article.summary == "Get back into your account in two minutes."
    assert problems_of(tree, "account/reset.md") == []
    assert "Forgot password" in render_markdown(article.body).html


def test_field_names_are_read_in_any_case_as_hugo_does(write_articles):
    tree = load_tree(write_articles({
        "c/a.md": "---\nTitle: Capitals\nDescription: Short.\nWeight: 2\nDate: 2024-01-05\n"
                  "---\nx\n"}))
    article = tree.by_slug["a"]
    assert (article.title, article.summary, article.order) == ("Capitals", "Short.", 2)
    assert tree.problems == []


def test_a_truly_unknown_field_still_gets_a_warning_with_its_line(write_articles):
    tree = load_tree(write_articles({
        "c/a.md": "---\ntitle: A\nlayout: page\nfavourite_colour: blue\n---\nBody\n"}))
    assert problems_of(tree, "c/a.md") == [
        "c/a.md:4: warning: unknown front matter field 'favourite_colour' (ignored)"]


def test_keywords_act_like_tags(write_articles):
    tree = load_tree(write_articles({
        "c/a.md": "---\ntitle: A\ntags: [billing]\nkeywords: [invoice, Billing, VAT]\n---\nx\n",
        "c/b.md": "---\ntitle: B\nkeywords: refund, money back\n---\nx\n",
    }))
    assert tree.by_slug["a"].tags == ["billing", "invoice", "VAT"]
    assert tree.by_slug["b"].tags == ["refund", "money back"]


@pytest.mark.parametrize(("value", "expected"), [("'3'", 3), ("' 10 '", 10), ("\"-2\"", -2),
                                                 ("7", 7), ("4.0", 4)])
def test_an_order_given_as_a_string_or_whole_float_is_a_number(write_articles, value, expected):
    tree = load_tree(write_articles({"c/a.md": f"---\ntitle: A\norder: {value}\n---\nx\n"}))
    assert tree.by_slug["a"].order == expected
    assert problems_of(tree, "c/a.md") == []


def test_a_non_numeric_order_is_a_warning_and_the_article_still_shows(
        make_app, write_articles, runner):
    root = write_articles({"c/a.md": "---\ntitle: Shown normally\norder: first\n---\nBody\n"})
    tree = load_tree(root)
    assert tree.by_slug["a"].order == 0 and tree.by_slug["a"].meta_error == ""
    result = runner.invoke(args=["kb", "check", str(root)])
    assert result.exit_code == 0, result.output
    assert "c/a.md:3: warning: 'order' must be a whole number" in result.output
    page = make_app(ARTICLES_DIR=root).test_client().get("/articles/a")
    assert page.status_code == 200 and "Shown normally" in page.get_data(as_text=True)
    assert "could not be read" not in page.get_data(as_text=True)


def test_weight_sidebar_position_or_nav_order_place_the_article_when_order_is_absent(
        write_articles):
    tree = load_tree(write_articles({
        "c/hugo.md": "---\ntitle: Hugo\nweight: 3\n---\nx\n",
        "c/docusaurus.md": "---\ntitle: Docusaurus\nsidebar_position: '2'\n---\nx\n",
        "c/just-the-docs.md": "---\ntitle: Just the docs\nnav_order: 1\n---\nx\n",
        "c/ours.md": "---\ntitle: Ours\norder: 4\nweight: 0\n---\nx\n",
    }))
    assert [a.title for a in tree.in_category("c")] == [
        "Just the docs", "Docusaurus", "Hugo", "Ours"]
    assert tree.problems == []


@pytest.mark.parametrize("front_matter", [
    "title: 2024\n",
    "title: 2024-01-05\n",
    "title: 3.5\n",
    "tags: billing, refunds\n",
    "tags: [2024-01-05, 42, words]\n",
    "categories: Billing\n",
    "categories: [Billing, Refunds]\n",
    "category: [Billing]\n",
    "date: 2024-01-05\n",
    "date: 2024-01-05T10:30:00Z\n",
    "lastUpdated: { date: 2024-01-05, author: Sam }\n",
    "keywords: { not: a list }\n",
    "weight: heavy\n",
    "sidebar_position: [1, 2]\n",
    "published: 2024-01-05\n",
    "hide: [navigation, toc]\n",
])
def test_odd_values_in_front_matter_never_break_the_article(
        make_app, write_articles, front_matter):
    root = write_articles({"c/odd.md": f"---\n{front_matter}---\nThe body is readable.\n"})
    tree = load_tree(root)
    article = tree.by_slug["odd"]
    assert article.meta_error == ""
    assert all(p.severity == "warning" for p in tree.problems)
    assert isinstance(article.title, str) and article.title
    assert all(isinstance(tag, str) for tag in article.tags)
    page = make_app(ARTICLES_DIR=root).test_client().get("/articles/odd")
    assert page.status_code == 200 and "The body is readable." in page.get_data(as_text=True)


def test_titles_given_as_numbers_or_dates_are_shown_as_written(write_articles):
    tree = load_tree(write_articles({
        "c/year.md": "---\ntitle: 2024\n---\nx\n",
        "c/day.md": "---\ntitle: 2024-01-05\n---\nx\n",
    }))
    assert tree.by_slug["year"].title == "2024"
    assert tree.by_slug["day"].title == "2024-01-05"


def test_published_false_keeps_an_article_from_readers_like_a_draft(write_articles):
    tree = load_tree(write_articles({
        "c/hidden.md": "---\ntitle: Hidden\npublished: false\n---\nx\n",
        "c/shown.md": "---\ntitle: Shown\npublished: true\n---\nx\n",
    }))
    assert tree.by_slug["hidden"].draft and not tree.by_slug["shown"].draft


def test_hugo_toml_front_matter_is_read_like_yaml(write_articles):
    tree = load_tree(write_articles({"c/toml.md": (
        '+++\ntitle = "Reset your password"\ndescription = "Back in two minutes."\n'
        "date = 2024-01-05\nweight = 2\ntags = [\"password\"]\n\n[params]\nicon = \"key\"\n"
        "+++\nOpen the sign-in page.\n")}))
    article = tree.by_slug["toml"]
    assert (article.title, article.summary, article.order, article.tags) == (
        "Reset your password", "Back in two minutes.", 2, ["password"])
    assert article.body.strip() == "Open the sign-in page."
    assert tree.problems == []


def test_broken_toml_front_matter_is_reported_with_its_line(write_articles):
    tree = load_tree(write_articles({"c/toml.md": '+++\ntitle = "A"\nweight 2\n+++\nBody\n'}))
    assert any(p.line == 3 and "TOML" in p.message and p.severity == "error"
               for p in tree.problems), tree.problems
    assert tree.by_slug["toml"].body.strip() == "Body"


def test_an_article_from_another_generator_is_indexed_exactly_like_a_native_one(
        make_app, write_articles):
    native = ("---\ntitle: Reset your password\nsummary: Get back into your account in two "
              "minutes.\ntags: [password, sign in]\norder: 20\n---\n"
              "Open the sign-in page and click **Forgot password**.\n")
    root = write_articles({"account/native.md": native, "account/hugo.md": HUGO})
    tree = load_tree(root)
    ours, theirs = from_article(tree.by_slug["native"]), from_article(tree.by_slug["hugo"])
    assert theirs.summary == "Get back into your account in two minutes."
    assert theirs.text == "Open the sign-in page and click Forgot password."
    assert (theirs.title, theirs.summary, theirs.tags, theirs.text, theirs.headings) == (
        ours.title, ours.summary, ours.tags, ours.text, ours.headings)
    assert tree.by_slug["hugo"].order == tree.by_slug["native"].order
    assert (render_markdown(tree.by_slug["hugo"].body).html
            == render_markdown(tree.by_slug["native"].body).html)

    app = make_app(ARTICLES_DIR=root)
    assert app.test_cli_runner().invoke(args=["kb", "index"]).exit_code == 0
    found = app.test_client().get("/api/search", query_string={"q": "forgot password"})
    assert sorted(r["slug"] for r in found.get_json()["results"]) == ["hugo", "native"]


# -- template tags and components outside code ----------------------------------------

TEMPLATED = """\
---
title: Install the app
---
import Tabs from '@theme/Tabs';
import TabItem from '@theme/TabItem';

Welcome to {{ site.name }}. {% include note.html kind="tip" %}

<Tabs groupId="os">
  <TabItem value="mac" label="macOS" default>
    Drag the app to **Applications**.
  </TabItem>
  <TabItem value="win" label="Windows">
    Run the installer.
  </TabItem>
</Tabs>

{{< youtube abc123 >}}

{{% notice tip %}}
Restart after installing.
{{% /notice %}}

<Admonition type="note">Your data stays on the device.</Admonition>

Ask <Callout /> for help. Use `{{ site.name }}` and `<Tabs>` in your own templates:

```liquid
{% include note.html %}
<TabItem value="x">
```
"""


def test_kb_check_warns_about_template_tags_with_file_and_line(runner, write_articles):
    root = write_articles({"guides/install.md": TEMPLATED})
    result = runner.invoke(args=["kb", "check", str(root)])
    out = result.output
    assert result.exit_code == 0, out
    lines = [line for line in out.splitlines() if line.startswith("guides/install.md")]
    assert [line.split(":")[1] for line in lines] == [
        "4", "5", "7", "9", "10", "12", "13", "15", "16", "18", "20", "22", "24", "26"]
    assert ("guides/install.md:7: warning: template variable '{{ site.name }}' is not "
            "supported; it is left out of the page (and 1 more on this line)") in out
    assert ("guides/install.md:4: warning: MDX line 'import Tabs from '@theme/Tabs';' is not "
            "supported; it is left out of the page") in out
    assert "guides/install.md:9: warning: MDX component '<Tabs groupId=\"os\">'" in out
    assert "guides/install.md:18: warning: Hugo shortcode '{{< youtube abc123 >}}'" in out
    assert all(":29:" not in line and ":30:" not in line for line in lines)  # in code
    assert "1 article checked: 0 errors, 14 warnings" in out


def test_template_tags_inside_code_are_not_reported(write_articles):
    root = write_articles({"c/a.md": (
        "Write `{% include x %}` or `<Tabs>`.\n\n```html\n{{ page.title }}\n<Tabs>\n```\n\n"
        "~~~\n{% raw %}\n~~~\n")})
    assert check_folder(root).problems == []


def test_template_tags_are_not_indexed_but_text_inside_components_is():
    text, headings = plain_text(TEMPLATED.split("---\n", 2)[2])
    prose = text.split("Use {{")[0]
    for noise in ("import", "theme", "site.name", "include", "note.html", "youtube", "abc123",
                  "notice", "groupId", "TabItem", "macOS", "Admonition", "Callout"):
        assert noise not in prose, noise
    for words in ("Welcome to .", "Drag the app to Applications.", "Run the installer.",
                  "Restart after installing.", "Your data stays on the device.", "Ask ",
                  " for help."):
        assert words in prose, words
    # code is kept as written: people document templates
    assert "Use {{ site.name }} and <Tabs> in your own templates" in text
    assert "{% include note.html %}\n<TabItem value=\"x\">" in text


def test_text_between_paired_components_is_indexed():
    assert plain_text('<Tab label="A">Click Save</Tab>')[0] == "Click Save"
    assert plain_text("{% raw %}Type {{ name }} here{% endraw %}")[0] == "Type {{ name }} here"


def test_template_tags_render_as_the_text_around_them():
    html = render_markdown(TEMPLATED.split("---\n", 2)[2]).html
    for noise in ("import", "{{", "{%", "youtube", "notice", "groupId", "TabItem", "macOS",
                  "Admonition", "Callout"):
        assert noise not in html.split("<code")[0], noise
    assert "<p>Welcome to ." in html
    assert "<p>Drag the app to <strong>Applications</strong>.</p>" in html
    assert "<p>Run the installer.</p>" in html
    assert "<p>Restart after installing.</p>" in html
    assert "<p>Your data stays on the device.</p>" in html
    assert html.count("<pre") == 1  # indented text inside components is not code


def test_template_tags_inside_code_render_verbatim():
    html = render_markdown(
        "Use `{{ site.name }}` and `<Tabs>`.\n\n```\n{% include note.html %}\n<TabItem>\n```\n"
    ).html
    assert "<code>{{ site.name }}</code>" in html and "<code>&lt;Tabs&gt;</code>" in html
    assert "{% include note.html %}" in html and "&lt;TabItem&gt;" in html


def test_raw_blocks_show_their_content_as_written():
    html = render_markdown("{% raw %}\nType {{ customer.name }} in the template.\n"
                           "{% endraw %}\n").html
    assert html.strip() == "<p>Type {{ customer.name }} in the template.</p>"


def test_a_mdx_import_before_the_heading_does_not_keep_the_heading_twice(write_articles):
    tree = load_tree(write_articles({
        "c/a.md": "import Tabs from '@theme/Tabs';\n\n# Install the app\n\nDo this.\n"}))
    article = tree.by_slug["a"]
    assert article.title == "Install the app"
    assert "Install the app" not in article.body
    assert article.excerpt == "Do this."


def test_the_excerpt_leaves_template_syntax_out():
    assert excerpt("{% include note.html %}\n\nWelcome to {{ site.name }}, the "
                   "<Highlight>fast</Highlight> way.\n") == "Welcome to , the fast way."
    assert excerpt("import X from 'x';\n\nFirst words.\n") == "First words."


TEMPLATE_XSS = [
    '<Tab label="A" onclick="alert(1)">Click Save<script>alert(1)</script></Tab>',
    "<Callout onClick={() => alert(1)} />",
    '<TabItem value="x" onmouseover="alert(1)">\n\n<img src=x onerror=alert(1)>\n\n</TabItem>',
    "<scr{% if x %}ipt>alert(1)</scr{% endif %}ipt>",
    "<img src=x on{{ handler }}error=alert(1)>",
    "<a href=\"java{{ x }}script:alert(1)\">go</a>",
    "{{< rawhtml >}}<script>alert(1)</script>{{< /rawhtml >}}",
    "{% raw %}<svg onload=alert(1)>{% endraw %}",
    "<Admonition type=\"note\"><iframe src=\"javascript:alert(1)\"></iframe></Admonition>",
    "import x from 'data:text/javascript,alert(1)';\n\n<Foo dangerouslySetInnerHTML={{ "
    "__html: '<img src=x onerror=alert(1)>' }} />",
]


@pytest.mark.parametrize("payload", TEMPLATE_XSS)
def test_components_and_template_tags_cannot_smuggle_script(payload):
    html = render_markdown(f"Before.\n\n{payload}\n\nAfter.\n").html
    assert executable_parts(html) == [], html
    assert "Before." in html and "After." in html


def test_a_component_with_onclick_keeps_only_its_text():
    html = render_markdown('<Tab label="A" onclick="alert(1)">Click Save</Tab>').html
    assert html == "<p>Click Save</p>"


# -- placeholders are text, not components --------------------------------------------


def test_placeholders_like_your_api_key_stay_visible_on_the_page():
    html = render_markdown(
        "Send <YOUR_API_KEY> to https://<DOMAIN>/api and replace <API KEY> with yours.\n\n"
        "<WORKSPACE-ID>\n").html
    assert "&lt;YOUR_API_KEY&gt;" in html and "&lt;DOMAIN&gt;" in html
    assert "&lt;API KEY&gt;" in html and "&lt;WORKSPACE-ID&gt;" in html


def test_placeholders_are_indexed_and_appear_in_excerpts():
    text = plain_text("Send <YOUR_API_KEY> to <DOMAIN>.\n")[0]
    assert text == "Send <YOUR_API_KEY> to <DOMAIN>."
    assert excerpt("Send <YOUR_API_KEY> to <DOMAIN>.\n") == "Send <YOUR_API_KEY> to <DOMAIN>."


def test_placeholders_are_not_reported_by_the_check(write_articles):
    root = write_articles({"c/a.md": "Replace <YOUR_API_KEY> and <DOMAIN>.\n"})
    assert check_folder(root).problems == []


def test_uppercase_html_is_still_html_not_a_placeholder():
    html = render_markdown("Some <B>bold</B> text.<BR>\n").html
    assert "<b>" in html and "<br>" in html
    assert "&lt;B&gt;" not in html and "&lt;BR&gt;" not in html


# -- line numbers ------------------------------------------------------------------------


def test_check_counts_lines_from_the_file_when_the_title_heading_is_dropped(write_articles):
    root = write_articles({"c/a.md": "# Title\n\nIntro\n\nSee [x](nowhere.md) {{ x }}\n"})
    assert [(p.line, p.severity) for p in check_folder(root).problems] == [
        (5, "error"), (5, "warning")]


def test_a_hugo_ref_in_a_link_points_to_the_article_it_names(make_app, write_articles, runner):
    root = write_articles({
        "docs/install.md": "# Install\n\nSee [setup]({{< ref \"setup.md\" >}}) first, not "
                           "[this]({{< relref \"gone.md\" >}}).\n",
        "docs/setup.md": "# Setup\n\nText.\n",
    })
    html = make_app(ARTICLES_DIR=root).test_client().get("/articles/install").get_data(
        as_text=True)
    assert 'href="/articles/setup"' in html
    assert "{{&lt;" not in html and "{{<" not in html
    out = runner.invoke(args=["kb", "check", str(root)]).output
    assert "docs/install.md:3: error: broken link: gone.md" in out
    assert ("docs/install.md:3: warning: Hugo shortcode '{{< ref \"setup.md\" >}}' is not "
            "supported; it is read as a plain link to the file it names (and 1 more on this "
            "line)") in out


PIECES = ["{{ x }}", "{% if a %}", "{% raw %}", "{% endraw %}", "{{< note >}}", "{{% /note %}}",
          "<Tabs>", "</Tabs>", "<TabItem value=\"a\">", "<Callout />", "<DOMAIN>", "```", "`",
          "import X from 'x';", "export const a = 1;", "{", "}", "<", ">", "\n", "\n\n", "  ",
          "    ", "text", "# Heading", "- item"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40))
def test_leaving_template_syntax_out_never_moves_a_line(pieces):
    text = "".join(pieces)
    for escape_placeholders in (False, True):
        stripped = strip_template_tags(text, escape_placeholders=escape_placeholders)
        assert stripped.count("\n") == text.count("\n")
    render_markdown(text)
    plain_text(text)
