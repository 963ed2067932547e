"""Publishing: `kb sync` and POST /hooks/git against a real temporary git repository."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from portal.content import get_store
from portal.search import indexer
from portal.search.service import get_service

SECRET = "correct-horse-battery-staple"


def git(cwd: Path, *args: str, author: str = "Ada Author") -> str:
    email = author.lower().replace(" ", ".") + "@example.com"
    done = subprocess.run(
        ["git", "-c", f"user.name={author}", "-c", f"user.email={email}",
         "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
        cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def write(folder: Path, rel: str, title: str, body: str) -> None:
    path = folder / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\ntitle: {title}\n---\n\n{body}\n", encoding="utf-8")


@pytest.fixture
def repos(tmp_path):
    """An origin, an editor's clone that pushes, and the site's checkout that pulls."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "--bare", str(origin))
    editor = tmp_path / "editor"
    git(tmp_path, "clone", str(origin), str(editor))
    write(editor, "help/sign-in.md", "Sign in", "Use your work email to sign in.")
    write(editor, "help/exports.md", "Exports", "Download a CSV export of your projects.")
    git(editor, "add", ".")
    git(editor, "commit", "-m", "First articles")
    git(editor, "push", "origin", "HEAD:main")
    site = tmp_path / "site-articles"
    git(tmp_path, "clone", "--branch", "main", str(origin), str(site))
    return editor, site


def publish(editor: Path, author: str = "Edna Editor") -> None:
    write(editor, "help/quux-widget.md", "Quux widget",
          "The quuxinator widget lives in Settings.")
    write(editor, "help/exports.md", "Exports", "Download an Excel export of your projects.")
    git(editor, "add", ".", author=author)
    git(editor, "commit", "-m", "Quux widget", author=author)
    git(editor, "push", "origin", "HEAD:main", author=author)


def found(client, query: str) -> list[str]:
    data = client.get("/api/search", query_string={"q": query}).get_json()
    return [r["slug"] for r in data["results"]]


@pytest.fixture
def site(make_app, repos):
    editor, checkout = repos
    app = make_app(ARTICLES_DIR=checkout, WEBHOOK_SECRET=SECRET)
    indexer.build(get_service(app).engine, checkout)
    return app, editor, checkout


def github_signature(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def push_event() -> bytes:
    return json.dumps({"ref": "refs/heads/main", "commits": [{"id": "x"}]}).encode()


def test_a_bad_signature_is_refused_and_nothing_is_pulled(site):
    app, editor, checkout = site
    publish(editor)
    before = git(checkout, "rev-parse", "HEAD")
    client = app.test_client()
    body = push_event()
    for headers in [{"X-Hub-Signature-256": github_signature(body, "wrong-secret")},
                    {"X-Hub-Signature-256": "sha256=" + "0" * 64},
                    {"X-Hub-Signature-256": "sha1=" + "0" * 40},
                    {"X-Gitlab-Token": "not-the-secret"},
                    {}]:
        response = client.post("/hooks/git", data=body, headers=headers,
                               content_type="application/json")
        assert response.status_code == 403, headers
        assert response.get_json()["ok"] is False
    assert git(checkout, "rev-parse", "HEAD") == before
    assert found(client, "quuxinator") == []


def test_a_signature_over_another_body_is_refused(site):
    app, editor, checkout = site
    signed = push_event()
    response = app.test_client().post(
        "/hooks/git", data=signed + b" ", content_type="application/json",
        headers={"X-Hub-Signature-256": github_signature(signed)})
    assert response.status_code == 403


def test_a_good_github_signature_pulls_reindexes_and_refreshes_history(site):
    app, editor, checkout = site
    client = app.test_client()
    assert found(client, "excel") == []
    publish(editor)
    body = push_event()
    response = client.post("/hooks/git", data=body, content_type="application/json",
                           headers={"X-Hub-Signature-256": github_signature(body),
                                    "X-GitHub-Event": "push"})
    assert response.status_code == 200, response.get_data(as_text=True)
    data = response.get_json()
    assert data["ok"] and data["pulled"] and data["source"] == "github"
    assert data["before"] != data["after"]
    assert data["index"]["mode"] == "changed" and data["index"]["indexed"] == 2
    assert git(checkout, "rev-parse", "HEAD") == git(editor, "rev-parse", "HEAD")
    assert found(client, "quuxinator") == ["quux-widget"]
    assert found(client, "excel") == ["exports"]
    with app.app_context():
        store = get_store(app)
        history = store.history(store.tree().by_slug["exports"])
    assert history.modified_by == "Edna Editor" and history.created_by == "Ada Author"
    page = client.get("/articles/exports").get_data(as_text=True)
    assert "Edna Editor" in page


def test_with_background_reloads_the_webhook_answers_first_and_pages_follow(make_app, repos):
    """In production (PORTAL_CONTENT_RELOAD_SECONDS above 0) the webhook's worker does not
    reload the articles before answering: its paced background reload does, and pages
    show the new text once it is complete."""
    editor, checkout = repos
    app = make_app(ARTICLES_DIR=checkout, WEBHOOK_SECRET=SECRET, CONTENT_RELOAD_SECONDS=2.0)
    indexer.build(get_service(app).engine, checkout)
    client = app.test_client()
    assert "CSV export" in client.get("/articles/exports").get_data(as_text=True)
    publish(editor)
    body = push_event()
    response = client.post("/hooks/git", data=body, content_type="application/json",
                           headers={"X-Hub-Signature-256": github_signature(body),
                                    "X-GitHub-Event": "push"})
    assert response.status_code == 200 and response.get_json()["pulled"]
    assert get_store(app).wait_for_reload(timeout=30)
    assert found(client, "quuxinator") == ["quux-widget"]
    page = client.get("/articles/exports").get_data(as_text=True)
    assert "Excel export" in page and "Edna Editor" in page


def test_a_good_gitlab_token_is_accepted(site):
    app, editor, _checkout = site
    publish(editor)
    response = app.test_client().post("/hooks/git", data=push_event(),
                                      content_type="application/json",
                                      headers={"X-Gitlab-Token": SECRET})
    assert response.status_code == 200 and response.get_json()["source"] == "gitlab"
    assert found(app.test_client(), "quuxinator") == ["quux-widget"]


def test_github_ping_is_answered_without_pulling(site):
    app, editor, checkout = site
    publish(editor)
    before = git(checkout, "rev-parse", "HEAD")
    body = b'{"zen": "Keep it logically awesome."}'
    response = app.test_client().post(
        "/hooks/git", data=body, content_type="application/json",
        headers={"X-Hub-Signature-256": github_signature(body), "X-GitHub-Event": "ping"})
    assert response.status_code == 200 and response.get_json()["message"] == "pong"
    assert git(checkout, "rev-parse", "HEAD") == before


def test_without_a_configured_secret_every_call_is_refused(make_app, repos):
    _editor, checkout = repos
    app = make_app(ARTICLES_DIR=checkout, WEBHOOK_SECRET="")
    body = push_event()
    response = app.test_client().post("/hooks/git", data=body,
                                      headers={"X-Hub-Signature-256": github_signature(body, "")})
    assert response.status_code == 403
    assert "not configured" in response.get_json()["error"]


def test_the_webhook_works_with_csrf_protection_on(make_app, repos):
    editor, checkout = repos
    app = make_app(ARTICLES_DIR=checkout, WEBHOOK_SECRET=SECRET, WTF_CSRF_ENABLED=True)
    publish(editor)
    body = push_event()
    response = app.test_client().post("/hooks/git", data=body, content_type="application/json",
                                      headers={"X-Hub-Signature-256": github_signature(body)})
    assert response.status_code == 200
    assert found(app.test_client(), "quuxinator") == ["quux-widget"]


def test_a_failed_pull_is_reported_not_hidden(site):
    app, editor, checkout = site
    write(checkout, "help/exports.md", "Exports", "A local edit nobody committed.")
    git(checkout, "commit", "-am", "Local commit that diverges", author="Site Admin")
    publish(editor)
    body = push_event()
    response = app.test_client().post("/hooks/git", data=body, content_type="application/json",
                                      headers={"X-Hub-Signature-256": github_signature(body)})
    assert response.status_code == 502
    assert "git pull --ff-only failed" in response.get_json()["error"]


def test_the_webhook_is_rate_limited(make_app, repos):
    _editor, checkout = repos
    app = make_app(ARTICLES_DIR=checkout, WEBHOOK_SECRET=SECRET, WEBHOOK_LIMIT="2 per minute")
    client = app.test_client()
    codes = [client.post("/hooks/git", data=b"{}").status_code for _ in range(3)]
    assert codes == [403, 403, 429]


def test_kb_sync_pulls_and_reindexes(site):
    app, editor, _checkout = site
    publish(editor)
    result = app.test_cli_runner().invoke(args=["kb", "sync"])
    assert result.exit_code == 0, result.output
    assert "Pulled" in result.output and "2 changed" in result.output
    assert found(app.test_client(), "quuxinator") == ["quux-widget"]
    again = app.test_cli_runner().invoke(args=["kb", "sync"])
    assert "Already up to date" in again.output and "nothing to do" in again.output


def test_kb_sync_outside_git_only_reindexes(make_app, write_articles):
    folder = write_articles({"a/one.md": "---\ntitle: One\n---\nFirst text.\n"})
    app = make_app(ARTICLES_DIR=folder)
    indexer.build(get_service(app).engine, folder)
    (folder / "a/two.md").write_text("---\ntitle: Two\n---\nSecond zebra text.\n")
    result = app.test_cli_runner().invoke(args=["kb", "sync"])
    assert result.exit_code == 0, result.output
    assert "not a git checkout" in result.output and "1 changed" in result.output
    assert found(app.test_client(), "zebra") == ["two"]


# -- replays: a delivery is acted on once --------------------------------------------------

DELIVERY = "72d3162e-cc78-11e3-81ab-4c9367dc0958"


def publish_word(editor: Path, word: str) -> None:
    write(editor, f"help/{word}.md", word.title(), f"The {word} setting lives in Settings.")
    git(editor, "add", ".", author="Edna Editor")
    git(editor, "commit", "-m", f"Add {word}", author="Edna Editor")
    git(editor, "push", "origin", "HEAD:main", author="Edna Editor")


def github_push(body: bytes, delivery: str | None = DELIVERY) -> dict[str, str]:
    headers = {"X-Hub-Signature-256": github_signature(body), "X-GitHub-Event": "push"}
    if delivery is not None:
        headers["X-GitHub-Delivery"] = delivery
    return headers


def post_hook(client, body: bytes, headers: dict[str, str]):
    return client.post("/hooks/git", data=body, content_type="application/json", headers=headers)


def test_a_replayed_delivery_is_answered_without_running_the_sync_again(site):
    app, editor, checkout = site
    client = app.test_client()
    publish(editor)
    body = push_event()
    first = post_hook(client, body, github_push(body))
    assert first.status_code == 200 and first.get_json()["pulled"]
    # Later an editor publishes again, and someone replays the captured first call verbatim.
    publish_word(editor, "zanzibar")
    before = git(checkout, "rev-parse", "HEAD")
    replay = post_hook(client, body, github_push(body))
    assert replay.status_code == 200, replay.get_data(as_text=True)
    data = replay.get_json()
    assert data["ok"] is True and data["message"] == "already processed"
    assert "pulled" not in data
    assert git(checkout, "rev-parse", "HEAD") == before  # nothing was pulled
    assert found(client, "zanzibar") == []  # nor indexed


def test_a_replay_with_another_or_no_delivery_id_is_still_caught_by_its_signed_body(site):
    """GitHub signs the body, not the X-GitHub-Delivery header, so a replayer could change
    or drop the header: the signed body itself is remembered too."""
    app, editor, checkout = site
    client = app.test_client()
    body = push_event()
    assert post_hook(client, body, github_push(body)).status_code == 200
    publish_word(editor, "zanzibar")
    before = git(checkout, "rev-parse", "HEAD")
    for delivery in ("00000000-0000-0000-0000-000000000001", None):
        replay = post_hook(client, body, github_push(body, delivery))
        assert replay.get_json()["message"] == "already processed", delivery
    assert git(checkout, "rev-parse", "HEAD") == before


def test_a_new_delivery_runs(site):
    app, editor, _checkout = site
    client = app.test_client()
    body = push_event()
    assert post_hook(client, body, github_push(body)).get_json()["ok"]
    publish_word(editor, "zanzibar")
    second = json.dumps({"ref": "refs/heads/main", "after": "abc123"}).encode()
    response = post_hook(client, second, github_push(second, "a-new-delivery-id"))
    assert response.status_code == 200 and response.get_json()["pulled"]
    assert found(client, "zanzibar") == ["zanzibar"]


def test_gitlab_deliveries_are_remembered_by_their_event_uuid(site):
    app, editor, checkout = site
    client = app.test_client()
    body = push_event()
    headers = {"X-Gitlab-Token": SECRET, "X-Gitlab-Event": "Push Hook",
               "X-Gitlab-Event-UUID": "13792a34-cac6-4fda-95a8-c58e00a3954e"}
    assert post_hook(client, body, headers).get_json()["ok"]
    publish_word(editor, "zanzibar")
    before = git(checkout, "rev-parse", "HEAD")
    replay = post_hook(client, body, headers)
    assert replay.status_code == 200 and replay.get_json()["message"] == "already processed"
    assert git(checkout, "rev-parse", "HEAD") == before
    # The next push GitLab sends has its own UUID, even when its body looks the same.
    fresh = post_hook(client, body, headers | {
        "X-Gitlab-Event-UUID": "5fd4b1a9-0b1e-4a3b-9a53-8d1f2c7e6d10"})
    assert fresh.get_json()["pulled"] and found(client, "zanzibar") == ["zanzibar"]


def test_a_delivery_that_failed_can_be_delivered_again(site):
    app, editor, checkout = site
    write(checkout, "help/exports.md", "Exports", "A local edit nobody committed.")
    git(checkout, "commit", "-am", "Local commit that diverges", author="Site Admin")
    publish(editor)
    client = app.test_client()
    body = push_event()
    assert post_hook(client, body, github_push(body)).status_code == 502
    git(checkout, "reset", "--hard", "HEAD~1")  # the admin repairs the checkout
    again = post_hook(client, body, github_push(body))  # GitHub's "Redeliver"
    assert again.status_code == 200 and again.get_json()["pulled"]
    assert found(client, "quuxinator") == ["quux-widget"]


def test_identical_deliveries_arriving_together_run_once(site):
    app, editor, _checkout = site
    publish(editor)
    body = push_event()
    start = threading.Barrier(2)
    answers: list[dict] = []

    def deliver() -> None:
        client = app.test_client()
        start.wait(timeout=30)
        answers.append(post_hook(client, body, github_push(body)).get_json())

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(a.get("message") == "already processed" for a in answers) == [False, True]
    assert [a["ok"] for a in answers] == [True, True]
    assert found(app.test_client(), "quuxinator") == ["quux-widget"]


def test_deliveries_are_forgotten_after_a_day(app):
    from portal.hooks import deliveries

    received = datetime(2030, 3, 4, 12, 0, tzinfo=UTC)
    with app.app_context():
        delivery = deliveries.identify("github", {"X-GitHub-Delivery": DELIVERY}, b"{}")
        assert deliveries.claim(delivery, received) is True
        assert deliveries.claim(delivery, received + timedelta(hours=23)) is False
        assert deliveries.claim(delivery, received + timedelta(hours=25)) is True
        assert deliveries.remembered() == 1  # the old entry was pruned, not kept beside it
