"""The in-app help widget (issue 16).

    GET  /widget.js                  the loader a host page embeds (portal/static/widget/)
    GET  /widget/frame?host=&context=   the panel, framed by the host (CSP frame-ancestors)
    GET  /widget/api/home            suggestions for the context, popular articles, status
    GET  /widget/api/suggest?q=      type-ahead
    GET  /widget/api/search?q=&context=&page=   results with snippets (recorded)
    GET  /widget/api/articles/<slug> an article to read in the panel
    POST /widget/api/articles/<slug>/vote   "Was this article helpful?" (JSON)
    POST /widget/api/identify        the host's signed user token -> who is filing
    POST /widget/api/handoff         "Submit a Ticket": the ticket form's address

The API is called by the frame's own script, from the portal's origin, with the frame
token in `X-Widget-Token`; it uses no cookie (third-party frames do not get them), so it
needs no CSRF token either. `/tickets/new?widget=<hand-off token>` is taken here before
the ticket form's search-first gate sees the request.
"""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from portal.content.areas import area_key
from portal.extensions import csrf, limiter
from portal.search.tracking import page_number
from portal.widget import origins, service, tokens

bp = Blueprint("widget", __name__)
api = Blueprint("widget_api", __name__, url_prefix="/widget/api")
csrf.exempt(api)

LOADER_MAX_AGE = 300


def _api_limit() -> str:
    return current_app.config["WIDGET_API_LIMIT"]


@bp.get("/widget.js")
@limiter.exempt
def loader():
    path = Path(current_app.static_folder) / "widget" / "loader.js"
    response = Response(path.read_bytes(), mimetype="text/javascript")
    response.cache_control.public = True
    response.cache_control.max_age = LOADER_MAX_AGE
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"  # loaded by other sites
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/widget/frame")
def frame():
    config = current_app.config
    host = origins.is_allowed(config, request.args.get("host", type=str))
    context = area_key(request.args.get("context", "", type=str)[:200])
    token = (tokens.frame_token(config["SECRET_KEY"], tokens.new_visitor(), host)
             if host else "")
    response = Response(render_template(
        "widget/frame.html", allowed=bool(host), host=host or "", context=context,
        token=token, api_url=url_for("widget_api.home", _external=True).rsplit("/", 1)[0],
        portal_url=url_for("kb.home", _external=True).rstrip("/"),
        product_name=config["PRODUCT_NAME"],
        # the home view's data in the page: the panel is drawn without a second round trip
        home=service.home(context) if host else None), status=200 if host else 403)
    # frame-ancestors decides who may frame it (portal/web.py then adds no X-Frame-Options)
    response.headers["Content-Security-Policy"] = origins.frame_policy(config)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.before_app_request
def take_over_handoff():
    """`/tickets/new?widget=...`: the widget's searches become this visit's, the identified
    customer is signed in, and the token leaves the address bar."""
    if request.endpoint != "tickets.new" or "widget" not in request.args:
        return None
    adopted, user = service.take_over(request.args.get("widget", type=str) or "")
    if user is not None and (not current_user.is_authenticated or current_user.id != user.id):
        from portal.accounts.views import _begin_session

        _begin_session(user)
    args = {k: v for k, v in request.args.items() if k != "widget"}
    if adopted and "subject" not in args:
        args["from"] = "widget"
    return redirect(url_for("tickets.new", **args), code=303)


# -- the JSON API -------------------------------------------------------------------------

@api.before_request
def frame_only():
    try:
        g.widget_frame = tokens.read_frame_token(current_app.config["SECRET_KEY"],
                                                 request.headers.get("X-Widget-Token"))
    except tokens.TokenRefused:
        return _error("This help panel has expired. Reload it to go on.", 401)
    return None


@api.after_request
def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@api.errorhandler(service.WidgetError)
def refused(error: service.WidgetError):
    return _error(error.message, error.status)


@api.errorhandler(429)
def too_many(_error):
    return _error("Too many requests from your network; wait a minute and try again.", 429)


def _error(message: str, status: int):
    return jsonify(error=message), status


def _body() -> dict:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


@api.get("/home")
@limiter.limit(_api_limit)
def home():
    return jsonify(service.home(area_key(request.args.get("context", "", type=str)[:200])))


@api.get("/suggest")
@limiter.limit(_api_limit)
def suggest():
    return jsonify(service.suggest(request.args.get("q", "", type=str)))


@api.get("/search")
@limiter.limit(_api_limit)
def search():
    return jsonify(service.search(
        g.widget_frame, request.args.get("q", "", type=str),
        area_key(request.args.get("context", "", type=str)[:200]),
        page_number(request.args.get("page"))))


@api.get("/articles/<slug>")
@limiter.limit(_api_limit)
def article(slug: str):
    return jsonify(service.article(g.widget_frame, slug[:200]))


@api.post("/articles/<slug>/vote")
@limiter.limit(_api_limit)
def vote(slug: str):
    body = _body()
    return jsonify(service.vote(g.widget_frame, slug[:200], body.get("helpful"),
                                body.get("reasons"), body.get("comment")))


@api.post("/identify")
@limiter.limit(_api_limit)
def identify():
    identity = service.identify(_body().get("token"))
    return jsonify(identity=service.identity_json(identity))


@api.post("/handoff")
@limiter.limit(_api_limit)
def handoff():
    return jsonify(url=service.handoff(g.widget_frame, _body().get("token")))


def blueprints() -> list[Blueprint]:
    return [bp, api]

