"""Command-line tools registered on the app: `flask --app wsgi kb|search|users|orgs ...`
(`users` is in portal/admin/users_cli.py, `orgs` in portal/admin/orgs_cli.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from portal.content.check import check_folder

kb_cli = AppGroup("kb", help="Knowledge base content: check, index, sync.")
search_cli = AppGroup("search", help="Search: what it learned from readers.")


@kb_cli.command("check")
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
def check_command(folder: Path | None) -> None:
    """Check articles for errors (exit 1) and warnings (exit 0)."""
    folder = folder or current_app.config["ARTICLES_DIR"]
    if not folder.is_dir():
        click.echo(f"{folder}: not a folder", err=True)
        sys.exit(1)
    report = check_folder(folder)
    for problem in report.problems:
        click.echo(str(problem), err=problem.severity == "error")
    click.echo(f"{_count(report.articles, 'article')} checked: "
               f"{_count(report.errors, 'error')}, {_count(report.warnings, 'warning')}")
    sys.exit(1 if report.errors else 0)


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@kb_cli.command("index")
@click.option("--changed", is_flag=True,
              help="Re-index only articles changed since the last build.")
@click.option("--wait", type=float, default=None,
              help="Seconds to wait for another running build (default from settings).")
def index_command(changed: bool, wait: float | None) -> None:
    """Build the search index (a new generation, switched in atomically)."""
    from portal.search import indexer
    from portal.search.engine import IndexBusy
    from portal.search.service import get_service

    service = get_service()
    wait = current_app.config["INDEX_LOCK_WAIT_SECONDS"] if wait is None else wait
    try:
        run = indexer.update_changed if changed else indexer.build
        click.echo(str(run(service.engine, service.articles_dir, wait=wait)))
    except IndexBusy as exc:
        raise click.ClickException(f"Index not built: {exc}. Try again later.") from exc


@kb_cli.command("sync")
@click.option("--no-pull", is_flag=True, help="Do not git pull; only re-index local changes.")
def sync_command(no_pull: bool) -> None:
    """Pull the articles repository (if it is one), re-index what changed, reload."""
    from portal.search.engine import IndexBusy
    from portal.search.service import get_service
    from portal.search.sync import SyncError, sync

    git_pull = current_app.config["SYNC_GIT_PULL"] and not no_pull
    try:
        click.echo(str(sync(get_service(), git_pull=git_pull,
                            wait=current_app.config["INDEX_LOCK_WAIT_SECONDS"])))
    except (SyncError, IndexBusy) as exc:
        raise click.ClickException(str(exc)) from exc


@search_cli.command("reset-learning")
@click.option("--query", default=None, help="Only this search (as typed; it is normalized).")
@click.option("--article", "slug", default=None, help="Only this article (slug or old slug).")
def reset_learning_command(query: str | None, slug: str | None) -> None:
    """Make search forget what readers taught it (everything, or one query and/or article).

    Clicks until now stop counting; readers who come later teach it again.
    """
    from portal.content import get_store
    from portal.extensions import db
    from portal.search import learning

    normalized = ""
    if query is not None:
        normalized = learning.query_key(query)
        if not normalized:
            raise click.ClickException(f"--query {query!r} has no words to reset.")
    if slug is not None:
        tree = get_store().tree()
        current = slug if slug in tree.by_slug else tree.aliases.get(slug)
        if current is None:
            raise click.ClickException(f"Unknown article {slug!r}: no article has this slug.")
        slug = current
    cleared = learning.reset(normalized, slug or "")
    db.session.commit()
    scope = " and ".join(part for part in (
        normalized and f'search "{normalized}"', slug and f"article {slug}") if part)
    click.echo(f"Reset learning for {scope or 'every search and article'}: "
               + (f"{_count(len(cleared), 'boost')} cleared." if cleared
                  else "nothing was boosted."))
    for row in cleared:
        click.echo(f'  "{row.query}" -> {row.slug}: boosted by '
                   f"{_count(row.readers, 'reader')} (+{row.boost:.2f})")


def init_app(app: Flask) -> None:
    from portal.admin.orgs_cli import orgs_cli
    from portal.admin.users_cli import users_cli

    app.cli.add_command(kb_cli)
    app.cli.add_command(orgs_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(search_cli)
    import portal.mailin.cli  # noqa: F401  (adds `tickets ingest-email` to tickets_cli)
    from portal.tickets.cli import tickets_cli

    app.cli.add_command(tickets_cli)


def main() -> None:
    """Console script: the same commands as `flask --app wsgi`."""
    from flask.cli import FlaskGroup

    from portal import create_app

    FlaskGroup(create_app=lambda: create_app())(prog_name="portal")
