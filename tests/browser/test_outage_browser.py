"""The database goes away under a signed-in customer (security review finding 2), in
Chromium: reading goes on as a guest with a notice, the ticket they were writing comes
back in a 503 form, and the pages that need the database say so without a traceback."""

from __future__ import annotations

import threading

from werkzeug.serving import make_server

from portal import create_app
from tests.browser.test_tickets_browser import add_user, search_then_open_the_form, sign_in
from tests.conftest import _base_config
from tests.test_outage import unreachable_url


class SwitchableServer:
    """One address whose app can be swapped, so the page keeps its origin (and the form
    its target) when the database disappears."""

    def __init__(self, app):
        self.app = app
        self._server = make_server("127.0.0.1", 0, lambda env, start: self.app(env, start),
                                   threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()


def no_traceback(text: str) -> None:
    assert "Traceback" not in text and "sqlalchemy" not in text.lower()


def test_a_database_outage_keeps_reading_and_the_ticket_being_written(make_app, page,
                                                                       tmp_path, screenshot):
    up = make_app()
    add_user(up, "casey@acme.test", org="Acme Paving", name="Casey Customer")
    down = create_app(_base_config(tmp_path) | {
        "SQLALCHEMY_DATABASE_URI": unreachable_url(tmp_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}}
        if unreachable_url(tmp_path).startswith("postgresql") else {}})
    server = SwitchableServer(up)
    try:
        sign_in(page, server.url, "casey@acme.test")
        search_then_open_the_form(page, server.url)
        page.get_by_label("Subject").fill("Export totals are 10% high")
        page.get_by_label("What happened?").fill("Every report from the Smith Road job.")
        page.get_by_label("Severity 2").check()

        server.app = down  # the database stops answering
        page.get_by_role("button", name="Submit ticket").click()
        page.wait_for_load_state()
        assert "Your ticket was not filed" in page.content()
        assert page.get_by_label("Subject").input_value() == "Export totals are 10% high"
        assert page.get_by_label("What happened?").input_value() == (
            "Every report from the Smith Road job.")
        no_traceback(page.content())
        screenshot(page, "outage-1-ticket-kept")

        server.app = up  # back again: the kept ticket goes through as typed
        page.get_by_role("button", name="Try again").click()
        page.wait_for_url("**/tickets/1")
        assert "Export totals are 10% high" in page.content()

        server.app = down

        for path in ("/", "/articles/reset-your-password", "/categories/getting-started",
                     "/search?q=export"):
            response = page.goto(server.url + path)
            assert response.status == 200, path
            assert "browsing as a guest" in page.content(), path
        screenshot(page, "outage-2-search-as-guest")

        for path in ("/tickets/", "/training/", "/status", "/status.json"):
            response = page.goto(server.url + path)
            assert response.status == 503, path
            no_traceback(response.text())
        screenshot(page, "outage-3-unavailable")
    finally:
        server.stop()
