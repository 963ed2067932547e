"""The audit log: admins see every change to people and organisations, filter it, and
download it as CSV; nobody else can read it."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from portal.admin import audit
from portal.extensions import db
from portal.models import AuditEvent, Organisation, User


@pytest.fixture
def history(app, make_user):
    admin = make_user(email="ada@support.test", role="admin", name="Ada Admin")
    casey = make_user(email="casey@acme.test", name="Casey")
    with app.app_context():
        acme = Organisation(name="Acme Paving")
        db.session.add(acme)
        db.session.flush()
        casey_row = db.session.get(User, casey.id)
        by_ada = audit.Actor(admin.id, admin.email)
        audit.record(by_ada, "org.create", acme, {}, {"name": "Acme Paving"},
                     now=datetime(2026, 3, 7, 15, 0, tzinfo=UTC))
        audit.record(by_ada, "user.attach", casey_row, {"organisation": None},
                     {"organisation": "Acme Paving"}, now=datetime(2026, 3, 9, 3, 30, tzinfo=UTC))
        audit.record(audit.Actor.command_line(), "user.set_role", casey_row,
                     {"role": "customer"}, {"role": "=cmd|' /C calc'!A0"},
                     now=datetime(2026, 3, 10, 14, 0, tzinfo=UTC))
        db.session.commit()
    return admin


def _as(client, email):
    client.post("/login", data={"email": email, "password": "correct horse 1"})


def test_an_admin_reads_every_change_newest_first(client, history):
    _as(client, history.email)
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "3 changes" in html
    assert html.index("Changed a role") < html.index("Attached to an organisation") \
        < html.index("Created an organisation")
    assert "organisation: (none)" in html and "organisation: Acme Paving" in html
    assert "command line (" in html


def test_filters_by_action_actor_target_and_business_dates(client, history):
    _as(client, history.email)

    def count(**args) -> str:
        html = client.get("/admin/audit", query_string=args).get_data(as_text=True)
        return html.split('class="result-count" role="status">', 1)[1].split(" change", 1)[0]

    assert count(action="user.attach") == "1"
    assert count(actor="command line") == "1"
    assert count(actor="ada@") == "2"
    assert count(target="casey") == "2"
    # 03:30 UTC on March 9 is still March 8 in New York (EST, UTC-5).
    assert count(since="2026-03-08", until="2026-03-08") == "1"
    assert count(since="2026-03-09") == "1"
    assert count(action="no.such.action") == "3"  # an unknown action filters nothing


def test_a_bad_date_is_explained_and_kept(client, history):
    _as(client, history.email)
    response = client.get("/admin/audit", query_string={"since": "yesterday"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "is not a date" in html and 'value="yesterday"' in html


def test_csv_export_has_the_filtered_rows_and_defuses_formulas(client, history):
    _as(client, history.email)
    response = client.get("/admin/audit.csv", query_string={"target": "casey"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == audit.CSV_COLUMNS
    assert [r[2] for r in rows[1:]] == ["user.set_role", "user.attach"]
    assert rows[1][0] == "2026-03-10 14:00:00"
    assert rows[2][6] == '{"organisation": null}'
    assert rows[2][7] == '{"organisation": "Acme Paving"}'
    assert rows[1][7].startswith('{"role": "=cmd')  # inside JSON: not a formula cell
    assert all(not cell.startswith(("=", "+", "@")) for row in rows for cell in row)


@pytest.mark.parametrize("role", ["agent", "editor", "customer"])
def test_only_admins_read_the_log(app, client, make_user, history, role):
    user = make_user(email=f"{role}@example.com", role=role)
    _as(client, user.email)
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit.csv").status_code == 403


def test_signed_out_readers_are_sent_to_sign_in(client, history):
    assert client.get("/admin/audit").status_code == 302


def test_rows_keep_the_names_they_had(app, history):
    with app.app_context():
        db.session.query(User).filter_by(email="casey@acme.test").update({"email": "c@x.test"})
        db.session.commit()
        targets = {e.target for e in db.session.query(AuditEvent)}
    assert "casey@acme.test" in targets
