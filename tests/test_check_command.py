"""`flask kb check` tells editors what is wrong, with file and line, before they merge."""

from __future__ import annotations

from portal.config import PROJECT_ROOT


def run_check(runner, folder):
    return runner.invoke(args=["kb", "check", str(folder)])


def test_sample_articles_pass_the_check(runner):
    result = run_check(runner, PROJECT_ROOT / "articles")
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.output


def test_errors_are_reported_with_file_and_line_and_fail_the_check(runner, write_articles):
    root = write_articles({
        "billing/bad-yaml.md": "---\ntitle: Fine\ntags: [a, b\nsummary: x\n---\nBody\n",
        "billing/links.md": "---\ntitle: Links\n---\nIntro\n\nSee [this](nowhere.md) and\n"
                            "![shot](images/missing.png)\n",
        "billing/dup.md": "# One\n",
        "account/dup.md": "# Two\n",
        "account/alias-a.md": "---\naliases: [shared-old]\n---\n# A\n",
        "account/alias-b.md": "---\naliases: [shared-old]\n---\n# B\n",
        "account/wrong-types.md": "---\ntitle: T\norder: first\ndraft: maybe\n---\nx\n",
    })
    result = run_check(runner, root)
    out = result.output
    assert result.exit_code == 1
    assert "billing/bad-yaml.md:4: error: front matter is not valid YAML" in out
    assert "billing/links.md:6: error: broken link: nowhere.md" in out
    assert "billing/links.md:7: error: missing image: images/missing.png" in out
    assert "slug 'dup' is already used" in out
    assert "alias 'shared-old' is also claimed" in out
    # a wrong order only misplaces the article: a warning (issue 10)
    assert "account/wrong-types.md:3: warning: 'order' must be a whole number" in out
    assert "account/wrong-types.md:4: error: 'draft' must be true or false" in out


def test_warnings_alone_pass_the_check(runner, write_articles):
    # `author` is a field other site generators use, so it passes silently (issue 10)
    root = write_articles({"c/a.md": "---\ntitle: A\nreviewer: someone\n---\nBody\n"})
    result = run_check(runner, root)
    assert result.exit_code == 0
    assert "c/a.md:3: warning: unknown front matter field 'reviewer'" in result.output
    assert "1 article checked: 0 errors, 1 warning" in result.output


def test_unknown_fields_do_not_stop_the_article_from_showing(make_app, write_articles):
    root = write_articles({"c/a.md": "---\ntitle: Shown anyway\nreviewer: someone\n---\nBody\n"})
    page = make_app(ARTICLES_DIR=root).test_client().get("/articles/a")
    assert page.status_code == 200 and "Shown anyway" in page.get_data(as_text=True)
    assert "could not be read" not in page.get_data(as_text=True)


def test_a_missing_folder_is_an_error(runner, tmp_path):
    result = run_check(runner, tmp_path / "nope")
    assert result.exit_code != 0
