"""Articles without a summary are listed with the start of their text, as plain words."""

from __future__ import annotations

from portal.content.excerpt import excerpt


def test_the_first_paragraph_of_prose_is_taken_as_plain_text():
    body = ("## Before you start\n\n```bash\ncurl x\n```\n\n| a | b |\n|---|---|\n\n- a list\n\n"
            "See [the **guide**](other.md) and ![diagram](d.png) with `code`, "
            "<b>bold</b> and snake_case_names.[^1]\n\nSecond paragraph.\n")
    assert excerpt(body) == "See the guide and with code, bold and snake_case_names."


def test_a_long_paragraph_is_cut_at_a_word_with_an_ellipsis():
    text = excerpt("word " * 100, limit=50)
    assert text.endswith("…") and len(text) <= 51 and " wor…" not in text


def test_markup_never_survives_into_the_excerpt():
    body = "<div>an HTML block</div>\n\nHello <img src=x onerror=alert(1)> there <b>you</b>.\n"
    assert excerpt(body) == "Hello there you."


def test_an_article_without_a_summary_is_listed_with_its_first_words(make_app, write_articles):
    folder = write_articles({
        "start/plain.md": "# Plain page\n\nThe first words explain **what** this page is for.\n",
        "start/summed.md": "---\ntitle: Summed\nsummary: Chosen by the editor.\n---\nBody text.\n",
    })
    html = make_app(ARTICLES_DIR=folder).test_client().get("/categories/start").get_data(
        as_text=True)
    assert "The first words explain what this page is for." in html
    assert "Chosen by the editor." in html and "Body text." not in html


def test_the_article_page_describes_itself_for_link_previews(make_app, write_articles):
    folder = write_articles({"start/plain.md": "# Plain page\n\nWhat \"this\" page is for.\n"})
    html = make_app(ARTICLES_DIR=folder).test_client().get("/articles/plain").get_data(
        as_text=True)
    assert '<meta name="description" content="What &#34;this&#34; page is for.">' in html
