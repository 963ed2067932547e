"""A reader browsing the help center: home, categories, articles, errors."""

from __future__ import annotations


def test_home_lists_categories_with_counts_and_a_search_box(client):
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'role="search"' in html and 'name="q"' in html
    assert "Browse by topic" in html
    assert "Recently updated" in html
    assert "Technical support policy" in html or "Policies" in html


def test_unknown_page_is_a_friendly_404_with_search(client):
    page = client.get("/articles/no-such-article")
    assert page.status_code == 404
    html = page.get_data(as_text=True)
    assert "We could not find that page" in html and 'name="q"' in html
    assert "Traceback" not in html


def test_unexpected_error_is_a_500_page_without_traceback(make_app):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    page = app.test_client().get("/boom")
    assert page.status_code == 500
    html = page.get_data(as_text=True)
    assert "Something went wrong" in html
    assert "secret internals" not in html and "Traceback" not in html


def test_templates_render_outside_a_request_for_mail_and_commands(app):
    from flask import render_template_string

    with app.app_context():
        html = render_template_string(
            "{{ product_name }}{% include 'tickets/_still_need_help.html' %}")
    assert html.strip() == app.config["PRODUCT_NAME"]
