"""Customer ticket pages.

    /tickets/new                          GET, POST  file a ticket (only after a search)
    /tickets/                             GET        my organisation's tickets
    /tickets/<id>                         GET        one ticket: conversation, deadline, reply
    /tickets/<id>/reply                   POST       reply (agents: public reply or note)
    /tickets/<id>/files/<file_id>         GET        an attachment, to those who may see it
    /tickets/suggested/<slug>?subject=    GET        a suggested article opened from the form
Agent pages are in portal/tickets/queue.py on the same blueprint.
"""

from __future__ import annotations

import logging
import secrets
from functools import wraps
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    has_request_context,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from portal import outage, unit_of_work
from portal.body_limits import attachments_limit, body_limit
from portal.content import get_store
from portal.content.remote_images import display_host
from portal.content.render import render_customer_markdown
from portal.extensions import db
from portal.kb import page_cache
from portal.mailin.quotes import split_signature
from portal.mailin.service import received_for
from portal.models import MessageKind, Role, TicketAttachment, TicketStatus
from portal.search import event_limits
from portal.search.gate import VISITOR_KEY, has_searched, searched_queries, viewed_articles
from portal.tickets import attachments, deadlines, service
from portal.tickets.forms import AgentReplyForm, ReplyForm, TicketForm, agent_forms, choices

bp = Blueprint("tickets", __name__, url_prefix="/tickets")
log = logging.getLogger(__name__)

GATE_MESSAGE = ("Please search the help center first: most questions already have an answer "
                "here, and the ticket form opens once you have searched.")
VISIT_KEY = "portal_keep_visit"  # survives sign-in, like the search memory
# Browsers never refill a file field, so a refused upload means choosing the files again.
REATTACH = "Nothing was filed yet and your text is kept; choose the files again."
REATTACH_REPLY = "Nothing was sent yet and your text is kept; choose the files again."


def search_first(view):
    """The ticket form (GET and POST) opens only after a non-empty search in this visit."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not has_searched():
            flash(GATE_MESSAGE, "info")
            return redirect(url_for("search.results"), code=303)
        return view(*args, **kwargs)
    return wrapped


def visit_id() -> str:
    if VISIT_KEY not in session:
        session[VISIT_KEY] = secrets.token_hex(16)
    return session[VISIT_KEY]


def ticket_link(ticket) -> str:
    base = current_app.config.get("SITE_URL", "").rstrip("/")
    if base:
        return base + url_for("tickets.show", ticket_id=ticket.id)
    return url_for("tickets.show", ticket_id=ticket.id, _external=True)


def product_areas() -> list[tuple[str, str]]:
    tree = get_store().tree()
    top = sorted((c for c in tree.categories.values() if c.path and c.parent is None),
                 key=lambda c: (c.order, c.title.lower()))
    return [("", "Not sure")] + [(c.path, c.title) for c in top]


def uploads() -> list[attachments.Upload]:
    return [attachments.Upload(f.filename or "", f.stream)
            for f in request.files.getlist("attachments") if f.filename]


@bp.route("/new", methods=["GET", "POST"])
@body_limit(attachments_limit)
@search_first
@login_required
def new():
    refusal = service.filing_refusal(current_user)
    if refusal:
        return render_template("tickets/refused.html", reason=refusal), (
            403 if request.method == "POST" else 200)
    form = TicketForm()
    form.product_area.choices = choices(product_areas())
    if request.method == "GET":
        form.idempotency_key.data = secrets.token_hex(16)
        form.subject.data = form.subject.data or request.args.get("subject", "")[:200]
    visit = visit_id()
    if not form.validate_on_submit():
        return render_new(form, 422 if request.method == "POST" else 200)
    data = service.NewTicket(
        subject=form.subject.data, description=form.description.data,
        severity=form.severity.data, idempotency_key=form.idempotency_key.data or "",
        product_area=form.product_area.data or "", phone=form.phone.data or "",
        searches=searched_queries(), viewed_articles=viewed_articles(), uploads=uploads(),
        visit=visit)
    try:
        ticket, created = service.file_ticket(current_user, data, ticket_link)
    except (service.TicketError, attachments.AttachmentError) as exc:
        if isinstance(exc, service.FilingRefused):
            return render_template("tickets/refused.html", reason=str(exc)), 403
        if isinstance(exc, attachments.AttachmentError):  # beside the field it is about
            form.attachments.errors = [*form.attachments.errors, f"{exc} {REATTACH}"]
        else:
            flash(str(exc), "error")
        return render_new(form, 422)
    except IntegrityError:  # the same form posted twice at once: the other request won
        unit_of_work.discard()
        ticket, created = service.find_by_key(data.idempotency_key), False
        if ticket is None or ticket.requester_id != current_user.id:
            return unavailable(form)
    if created:
        due = deadlines.current_deadline(ticket)
        flash(f"Ticket {ticket.number} filed. We will reply by "
              f"{service.moment(due.due_at)}." if due else f"Ticket {ticket.number} filed.",
              "success")
    else:
        flash(f"You already filed this as ticket {ticket.number}; here it is.", "info")
    return redirect(url_for("tickets.show", ticket_id=ticket.id), code=303)


def render_new(form: TicketForm, status: int = 200):
    policy = deadlines.get_policy()
    levels = [(level, current_app.config[f"SEVERITY{level}_DEFINITION"], policy.summary(level))
              for level in policy.severities]
    return render_template(
        "tickets/new.html", form=form, levels=levels, searches=searched_queries(),
        limits=current_app.config), status


def unavailable(form: TicketForm):
    """Nothing was filed: say so plainly, keep the text, let them try again."""
    try:
        return render_template("tickets/unavailable.html", form=form), 503
    except Exception:  # the database may be needed by the page chrome itself
        log.exception("503 page failed; using the bare one")
        return render_template("tickets/unavailable_bare.html", form=form), 503


@bp.errorhandler(SQLAlchemyError)
@bp.errorhandler(outage.DatabaseUnavailable)
def database_down(error: Exception):
    if isinstance(error, outage.DatabaseUnavailable):  # the account could not be loaded
        log.warning("database unavailable on %s %s", request.method, request.path)
    else:
        log.exception("database error on %s %s", request.method, request.path)
    unit_of_work.discard()  # before the page is drawn: it may need the database itself
    if request.endpoint != "tickets.new":
        from portal.errors import render_outage

        return render_outage()
    return unavailable(TicketForm(meta={"csrf": False}))


@bp.get("/")
@login_required
def mine():
    if service.is_agent(current_user):
        return redirect(url_for("tickets.queue"))
    return render_template("tickets/list.html", tickets=service.customer_tickets(current_user),
                           refusal=service.filing_refusal(current_user))


def ticket_or_404(ticket_id: int):
    try:
        return service.get_ticket(current_user, ticket_id)
    except service.TicketNotFound:
        abort(404)


def render_ticket(ticket, reply_form=None, status: int = 200):
    agent = service.is_agent(current_user)
    if reply_form is None:
        reply_form = AgentReplyForm() if agent else ReplyForm()
    messages = [m for m in ticket.messages if agent or m.kind != MessageKind.INTERNAL]
    return render_template(
        "tickets/show.html", ticket=ticket, messages=messages, agent=agent,
        reply_form=reply_form, current=deadlines.current_deadline(ticket),
        history=[d for d in ticket.deadlines if not d.pending],
        areas=dict(product_areas()), overdue=service.is_overdue(ticket),
        kind_labels=deadlines.KIND_LABELS, closed=ticket.status == TicketStatus.CLOSED,
        emails=received_for(ticket.id) if agent else [],
        **(agent_forms(ticket) if agent else {})), status


@bp.get("/<int:ticket_id>")
@login_required
def show(ticket_id: int):
    return render_ticket(ticket_or_404(ticket_id))


@bp.post("/<int:ticket_id>/reply")
@body_limit(attachments_limit)
@login_required
def reply(ticket_id: int):
    ticket = ticket_or_404(ticket_id)
    agent = service.is_agent(current_user)
    form = AgentReplyForm() if agent else ReplyForm()
    if not form.validate_on_submit():
        return render_ticket(ticket, form, 422)
    try:
        service.reply(
            ticket, current_user, form.body.data, ticket_link,
            internal=agent and form.visibility.data == "internal",
            substantive=agent and form.substantive.data,
            status=TicketStatus(form.status.data) if agent and form.status.data else None,
            uploads=uploads())
    except (service.TicketError, attachments.AttachmentError) as exc:
        unit_of_work.discard()  # the page shows the ticket as stored, without this reply
        if isinstance(exc, attachments.AttachmentError):  # beside the field it is about
            form.attachments.errors = [*form.attachments.errors, f"{exc} {REATTACH_REPLY}"]
        else:
            flash(str(exc), "error")
        return render_ticket(ticket_or_404(ticket_id), form, 422)
    flash("Note saved." if agent and form.visibility.data == "internal" else "Reply sent.",
          "success")
    return redirect(url_for("tickets.show", ticket_id=ticket.id, _anchor="conversation"),
                    code=303)


@bp.get("/<int:ticket_id>/files/<int:file_id>")
@login_required
def attachment(ticket_id: int, file_id: int):
    ticket = ticket_or_404(ticket_id)
    item = db.session.get(TicketAttachment, file_id)
    if item is None or item.ticket_id != ticket.id:
        abort(404)
    if (item.message is not None and item.message.kind == MessageKind.INTERNAL
            and not service.is_agent(current_user)):
        abort(404)
    path = attachments.path_of(item.stored_name)
    if path is None:
        abort(404)
    inline = item.content_type in attachments.INLINE_TYPES
    response = send_file(path, mimetype=item.content_type, as_attachment=not inline,
                         download_name=item.original_name, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.get("/suggested/<slug>")
def suggested(slug: str):
    """Count a suggestion opened from the form (deflection analytics), then show it.

    A reader opening the same one again is counted once (see service); past
    PORTAL_SUGGESTED_LIMIT from one address the article still opens, uncounted."""
    article = get_store().tree().by_slug.get(slug)
    if article is None or article.draft:
        abort(404)
    if event_limits.within_limit("SUGGESTED_LIMIT", "portal.events.suggested"):
        record_suggestion(article.slug)
    return redirect(url_for("kb.article", slug=article.slug))


def record_suggestion(slug: str) -> None:
    """Analytics never stand between the reader and the article: a failure is logged."""
    # Before visit_id() starts a visit; the search's visitor id first: a browser has it
    # before its first visit id, so the reader stays the same once the visit starts.
    who = event_limits.reader(VISITOR_KEY, VISIT_KEY)
    user = current_user if current_user.is_authenticated else None
    with unit_of_work.best_effort("a suggestion click"):
        service.record_suggestion_click(visit_id(), user, slug, request.args.get("subject", ""),
                                        reader=who)


@bp.app_template_filter("ticket_markdown")
def ticket_markdown(text: str) -> Markup:
    """Customer text: images from other sites become links (no tracking pixels for agents)."""
    hosts = [current_app.config.get("SITE_URL") or ""]
    if has_request_context():
        hosts.append("//" + request.host)
    own = {display_host(urlsplit(h)) for h in hosts} - {""}
    text, signature = split_signature(text or "")
    html = render_customer_markdown(text, own)
    if signature:  # folded away, never dropped
        html += ('<details class="mail-signature"><summary>Signature</summary>'
                 + render_customer_markdown(signature, own) + "</details>")
    return Markup(html)  # noqa: S704 - sanitized there


@bp.record_once
def _share_article_pages(state) -> None:
    # "Still need help?" shows under articles once the visitor has searched.
    page_cache.vary(state.app, has_searched)


@bp.app_context_processor
def ticket_links():
    if not has_request_context():  # e.g. a mail rendered by a command: nobody to ask
        return {"ticket_gate_open": False, "show_my_tickets": False, "show_agent_queue": False}
    user = current_user
    signed_in = user.is_authenticated
    return {
        "ticket_gate_open": has_searched(),
        "show_my_tickets": signed_in and user.role == Role.CUSTOMER,
        "show_agent_queue": signed_in and user.has_role(Role.AGENT),
    }
