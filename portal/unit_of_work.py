"""One unit of work per request: commit at the end, or roll back and remove the files the
request saved; then send the mail it queued.

How a request ends (after the view, before the response leaves):

- the view returned an answer below 400 and did not call `discard()`: what it changed is
  committed, once. Then the mail it queued (portal.tickets.mail outbox rows) is sent
  when PORTAL_MAIL_SEND_IMMEDIATELY is on; a mail failure is recorded on the outbox row
  for `flask tickets send-mail` and never fails the request.
- the view answered 400 or above (a form error, a refusal, an error page), raised, or
  called `discard()`: everything is rolled back, the files saved for it are deleted and
  its mail is dropped with its rows. A 4xx is the view's own "this did not happen", so a
  form error never commits half-made changes, and a view cannot forget to undo them.
- the commit itself failed (the database went away): as if the view had raised that
  error (a database outage gives the 503 page that keeps what the user typed), and the
  visitor's session is put back as it was, so no "Saved." appears on the next page.

Views hold no commit or rollback. Services flush when they need ids or locks. Commands
and background jobs run outside requests and commit for themselves.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask import Flask, Response, current_app, g, has_request_context, request, session
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import ORMExecuteState, Session

from portal import outage
from portal.extensions import db

log = logging.getLogger(__name__)

_WORK = "portal_unit_of_work"
# Keys in Session.info: what to run when the open transaction rolls back, or commits.
_UNDO = "portal_undo_on_rollback"
_ON_COMMIT = "portal_run_on_commit"
_CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class _Work:
    """What one request has done so far."""
    wrote: bool = False  # changes since the last commit or rollback
    discarded: bool = False
    kept: bool = False  # keep() was called: a 4xx answer commits too
    mail: list[int] = field(default_factory=list)  # outbox rows flushed, not yet committed
    committed_mail: list[int] = field(default_factory=list)  # committed: send at the end
    visitor_session: dict | None = None  # the cookie session as the request found it


def init_app(app: Flask) -> None:
    app.before_request(_begin)
    app.after_request(_end)
    app.teardown_request(_abandon)
    _listen_to_sessions()


# -- for views and services ---------------------------------------------------------------

def discard() -> None:
    """Keep nothing this request did: roll back now (so the page shows what is stored,
    not the half-made change), delete its saved files and drop its mail. For a refusal
    answered with a redirect; an answer of 400 or above needs no call."""
    _roll_back()
    work = g.get(_WORK)
    if work is not None:
        work.discarded = True


def keep() -> None:
    """Commit at the end even though the answer will be a 4xx: for a refusal that must
    still record something (a failed sign-in counted against its limit). An exception
    or a 5xx answer still rolls everything back."""
    work = g.get(_WORK)
    if work is not None:
        work.kept = True


def on_rollback(undo: Callable[[], None]) -> None:
    """Run `undo` if the open transaction rolls back; forget it once it commits. For
    files written for rows not yet committed (portal.tickets.attachments uses it)."""
    db.session().info.setdefault(_UNDO, []).append(undo)


def on_commit(done: Callable[[], None]) -> None:
    """Run `done` once the open transaction has committed (never if it rolls back): for
    in-memory state that must follow the database, such as a cache to forget. It must
    not use the database itself."""
    db.session().info.setdefault(_ON_COMMIT, []).append(done)


@contextmanager
def best_effort(what: str) -> Iterator[None]:
    """Commit what the block records at once, on its own, for records a page does not
    depend on (a click counted on a GET). A database problem is logged and rolled back,
    and the page goes on (during an outage, with its notice: portal.outage). Only where
    the request has nothing else pending."""
    try:
        yield
        db.session.commit()
    except SQLAlchemyError as error:
        if outage.is_outage(error):
            outage.mark_down(error)  # logs it and rolls back
        else:
            log.exception("could not record %s", what)
            _roll_back()


# -- the request's life -------------------------------------------------------------------

def _begin() -> None:
    work = _Work()
    if request.method in _CHANGING_METHODS:
        work.visitor_session = copy.deepcopy(dict(session))
    setattr(g, _WORK, work)


def _keeps(work: _Work, response: Response) -> bool:
    status = response.status_code
    return not work.discarded and (status < 400 or (work.kept and status < 500))


def _end(response: Response) -> Response:
    work = g.get(_WORK)
    if work is None:  # a before_request answered first: nothing was done
        return response
    if not _keeps(work, response):
        _roll_back()
        g.pop(_WORK, None)
        if response.status_code >= 500:
            _restore_visitor_session(work)
        _send(work.committed_mail)  # committed earlier by code that commits for itself
        return response
    try:
        if work.wrote or _pending():
            db.session.commit()
    except Exception as error:  # answered like the view's own error
        _roll_back()
        g.pop(_WORK, None)
        _restore_visitor_session(work)
        log.warning("commit failed on %s %s: %s", request.method, request.path,
                    str(error).splitlines()[0][:200] if str(error) else type(error).__name__)
        return current_app.make_response(current_app.handle_user_exception(error))
    g.pop(_WORK, None)
    _send(work.committed_mail + work.mail)
    return response


def _abandon(error: BaseException | None) -> None:
    """The response never reached `_end` (an error in another after_request hook)."""
    if g.pop(_WORK, None) is not None:
        _roll_back()


def _roll_back() -> None:
    try:
        db.session.rollback()
    except Exception:  # the connection may be gone; nothing left to undo
        log.warning("rollback failed", exc_info=True)
    _undo(db.session())


def _pending() -> bool:
    """Changes not flushed yet (flushed ones set `wrote`)."""
    if not db.session.registry.has():  # the request never used the database
        return False
    sess = db.session()
    return bool(sess.new or sess.deleted or sess.dirty)


def _restore_visitor_session(work: _Work) -> None:
    """Nothing happened, so the next page must not say otherwise (flashes, notices)."""
    if work.visitor_session is None:
        return
    session.clear()
    session.update(work.visitor_session)


def _send(message_ids: list[int]) -> None:
    """After the commit: try the request's mail now; what fails stays in the outbox."""
    if not message_ids or not current_app.config["MAIL_SEND_IMMEDIATELY"]:
        return
    from portal.notices import clock
    from portal.tickets import mail

    try:
        mail.deliver(clock.now(), message_ids=message_ids)
        db.session.commit()
    except Exception:  # mail never fails the request
        db.session.rollback()
        log.exception("could not record the delivery of mail %s", message_ids)


# -- following the database session -------------------------------------------------------

def _undo(sess: Session) -> None:
    sess.info.pop(_ON_COMMIT, None)
    _run(sess.info.pop(_UNDO, []), "clean-up after a rollback")


def _run(callbacks: list[Callable[[], None]], what: str) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:  # one failure must not stop the others
            log.exception("%s failed", what)


def _request_work(sess: Session) -> _Work | None:
    if not has_request_context():
        return None
    work = g.get(_WORK)
    if work is None or not db.session.registry.has() or sess is not db.session.registry():
        return None
    return work


def _after_flush(sess: Session, _flush_context) -> None:
    work = _request_work(sess)
    if work is None:
        return
    from portal.models import OutboxMessage

    work.wrote = True
    work.mail.extend(o.id for o in sess.new if isinstance(o, OutboxMessage))


def _on_execute(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        work = _request_work(state.session)
        if work is not None:
            work.wrote = True


def _after_commit(sess: Session) -> None:
    if sess.in_nested_transaction():  # a savepoint: the transaction is still open
        return
    sess.info.pop(_UNDO, None)
    _run(sess.info.pop(_ON_COMMIT, []), "work after a commit")
    work = _request_work(sess)
    if work is not None:
        work.committed_mail.extend(work.mail)
        work.mail.clear()
        work.wrote = False


def _after_rollback(sess: Session) -> None:
    if sess.in_nested_transaction():
        return
    _undo(sess)
    work = _request_work(sess)
    if work is not None:
        work.mail.clear()
        work.wrote = False


def _listen_to_sessions() -> None:
    """Once per process: the listeners serve every app (they look at the current one)."""
    for name, listener in (("after_flush", _after_flush), ("do_orm_execute", _on_execute),
                           ("after_commit", _after_commit),
                           ("after_rollback", _after_rollback)):
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)
