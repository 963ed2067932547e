"""Support knowledge base and self-service portal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from portal import resources
from portal.config import load_settings


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints. No migrations or network here.
    Templates and migrations come from the checkout, or from the copy an installed wheel
    carries; see portal/resources.py."""
    instance_path = (config or {}).get("INSTANCE_PATH") or resources.default_instance_path()
    app = Flask(
        __name__,
        template_folder=str(resources.templates_dir()),
        instance_relative_config=True,
        instance_path=str(instance_path),
    )
    app.config.update(load_settings(app.instance_path, config))
    from portal.body_limits import LimitedRequest

    app.request_class = LimitedRequest

    from portal import cli, errors, unit_of_work, web
    from portal.content import store
    from portal.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(resources.migrations_dir()))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    store.init_app(app)
    web.init_app(app)
    errors.init_app(app)
    unit_of_work.init_app(app)
    cli.init_app(app)

    from portal.accounts.views import bp as accounts_bp
    from portal.feedback.views import bp as feedback_bp
    from portal.kb.views import bp as kb_bp
    from portal.search.learning_views import bp as search_learning_bp
    from portal.search.views import bp as search_bp
    from portal.tickets import blueprint as tickets_blueprint

    app.register_blueprint(kb_bp)
    app.register_blueprint(search_bp)
    app.register_blueprint(search_learning_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(feedback_bp)
    app.register_blueprint(tickets_blueprint())

    from portal.contact.views import bp as contact_bp
    from portal.mailin.views import bp as mailin_bp
    from portal.notices import blueprint as notices_blueprint
    from portal.training.views import bp as training_bp

    app.register_blueprint(notices_blueprint())
    app.register_blueprint(contact_bp)
    app.register_blueprint(training_bp)
    app.register_blueprint(mailin_bp)

    from portal.api.views import bp as api_bp
    from portal.hooks.views import bp as hooks_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(hooks_bp)

    from portal.admin.views import bp as admin_bp

    app.register_blueprint(admin_bp)
    from portal.widget.views import blueprints as widget_blueprints

    for blueprint in widget_blueprints():
        app.register_blueprint(blueprint)
    from portal.health import bp as health_bp

    app.register_blueprint(health_bp)
    return app
