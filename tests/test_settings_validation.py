"""Bad settings stop the start with one clear error, not a page later (issue 14, item 6)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

import pytest

from portal import create_app
from portal.calendar import calendar_from_settings, policy_from_settings
from portal.config import PROJECT_ROOT, RANGES, SETTINGS, SettingsError, load_settings

GOOD = {"PORTAL_SECRET_KEY": "k"}


def problems(environ: dict[str, str]) -> list[str]:
    """What load_settings reports for these environment variables (none: [])."""
    try:
        load_settings("/nonexistent-instance", environ=GOOD | environ)
    except SettingsError as error:
        return error.problems
    return []


def clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without PORTAL_* variables, plus `extra`."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PORTAL_") and k not in {"WEB_CONCURRENCY", "GUNICORN_CMD_ARGS"}}
    return env | {"PORTAL_SECRET_KEY": "k"} | extra


def test_the_issues_example_stops_the_app_at_start(monkeypatch):
    monkeypatch.setenv("PORTAL_SEVERITY1_FIRST_RESPONSE", "2x")
    with pytest.raises(SettingsError) as raised:
        create_app({"SECRET_KEY": "k"})
    assert str(raised.value) == ("Bad setting: PORTAL_SEVERITY1_FIRST_RESPONSE='2x': expected "
                                 "a duration such as 2h, 90m or 1d (d: business days)")
    assert isinstance(raised.value, ValueError)


@pytest.mark.parametrize(("variable", "value", "expected"), [
    # kinds: the text of a variable that is not its type
    ("PORTAL_SMTP_PORT", "abc", "expected a whole number"),
    ("PORTAL_SMTP_TIMEOUT", "fast", "expected a number"),
    ("PORTAL_SMTP_TIMEOUT", "nan", "expected a number"),
    ("PORTAL_PAGE_CACHE", "maybe", "expected true or false"),
    ("PORTAL_ARTICLES_DIR", "", "expected a folder path"),
    # numbers where zero or less makes no sense
    ("PORTAL_RESET_LINK_MINUTES", "0", "expected a whole number, 1 or more"),
    ("PORTAL_ADMIN_PER_PAGE", "-5", "expected a whole number, 1 or more"),
    ("PORTAL_ATTACHMENT_MAX_BYTES", "0", "expected a whole number, 1 or more"),
    ("PORTAL_SESSION_IDLE_DAYS", "0", "expected a number above 0"),
    ("PORTAL_SEARCH_LEARN_MAX_BOOST", "2", "expected a number from 0 to 1.5"),
    ("PORTAL_SMTP_PORT", "70000", "expected a whole number from 1 to 65535"),
    ("PORTAL_HSTS_MAX_AGE", "-1", "expected a whole number, 0 or more"),
    # settings with a form
    ("PORTAL_SEVERITY2_UPDATE_EVERY", "3 weeks",
     "expected a duration such as 2h, 90m or 1d (d: business days), or empty for none"),
    ("PORTAL_SEVERITY3_FIRST_RESPONSE", "", "expected a duration such as 2h, 90m or 1d"),
    ("PORTAL_BUSINESS_HOURS", "20:00-08:00", "expected hours such as 08:00-20:00"),
    ("PORTAL_MAINTENANCE_WEEKDAY_HOURS", "midnight to 8", "expected hours such as 08:00-20:00"),
    ("PORTAL_BUSINESS_DAYS", "mon,funday", "expected days of the week such as mon,tue"),
    ("PORTAL_SEVERITY1_DAYS", "", "(at least one)"),
    ("PORTAL_MAINTENANCE_ANYTIME_DAYS", "weekend", "expected days of the week"),
    ("PORTAL_BUSINESS_TIMEZONE", "america/new_york", "expected a time zone name"),
    ("PORTAL_BUSINESS_HOLIDAYS", "XX", "expected a country code of the holidays package"),
    ("PORTAL_BUSINESS_HOLIDAYS_SUBDIV", "ZZ", "expected a subdivision of US in the holidays "
                                              "package (AK, AL, AR,"),
    ("PORTAL_BUSINESS_CLOSED_DATES", "2026-12-24,24/12/2026", "expected dates such as "
                                                              "2026-12-24"),
    ("PORTAL_LOGIN_LIMIT", "10 per fortnight", "expected rate limits such as 10 per minute"),
    ("PORTAL_FEEDBACK_IP_LIMIT", "", "expected rate limits"),
    ("PORTAL_DATABASE_URL", "postgres://portal@db/portal", "expected a database URL such as "
                                                           "postgresql+psycopg://"),
    ("PORTAL_RATELIMIT_STORAGE_URL", "127.0.0.1:6379", "expected a rate-limit storage URL"),
    ("PORTAL_RATELIMIT_STORAGE_URL", "async+redis://127.0.0.1:6379",
     "expected a rate-limit storage URL"),
    ("PORTAL_SUPPORT_EMAIL", "support", "expected an email address such as support@"),
    ("PORTAL_SUPPORT_EMAIL", "Support <support@bitumio.com>", "expected an email address"),
    ("PORTAL_MAIL_FROM", "Bitumio Support <support>", "expected a sender such as"),
    ("PORTAL_SUPPORT_SITE_URL", "support.bitumio.com", "expected an http:// or https:// address"),
    ("PORTAL_SITE_URL", "https://", "expected an http:// or https:// address"),
    ("PORTAL_SMTP_HOST", "smtp.example.com:25", "expected a host name or address"),
    ("PORTAL_FEEDBACK_REASONS", "missing:Missing,missing:Gone", "expected reasons such as"),
    ("PORTAL_FEEDBACK_REASONS", "missing:", "code:Label"),
    ("PORTAL_ATTACHMENT_TYPES", "png,.pdf", "expected file types from png,"),
    ("PORTAL_MAINTENANCE_POLICY", "weekends", "expected off-hours or suggested"),
    ("PORTAL_MAILIN_TRUSTED_RELAYS", "mx one", "expected names such as mx.example.com"),
    ("PORTAL_PRODUCT_NAME", "  ", "expected some text"),
    ("PORTAL_SUPPORT_PHONE", "call us", "expected a phone number"),
])
def test_a_bad_value_names_its_variable_the_value_and_the_form(variable, value, expected):
    [problem] = problems({variable: value})
    assert problem.startswith(f"{variable}={value!r}: expected"), problem
    assert expected in problem


def test_every_bad_value_is_listed_together_in_the_order_of_the_settings():
    with pytest.raises(SettingsError) as raised:
        load_settings("/nonexistent-instance", environ=GOOD | {
            "PORTAL_SEVERITY1_FIRST_RESPONSE": "2x", "PORTAL_SMTP_PORT": "abc",
            "PORTAL_BUSINESS_TIMEZONE": "Mars/Olympus", "PORTAL_LOGIN_LIMIT": "lots"})
    message = str(raised.value)
    assert message.splitlines() == [
        "4 bad settings:",
        "  PORTAL_LOGIN_LIMIT='lots': expected rate limits such as 10 per minute;50 per hour",
        "  PORTAL_BUSINESS_TIMEZONE='Mars/Olympus': expected a time zone name such as "
        "America/New_York or Europe/Paris",
        "  PORTAL_SEVERITY1_FIRST_RESPONSE='2x': expected a duration such as 2h, 90m or 1d "
        "(d: business days)",
        "  PORTAL_SMTP_PORT='abc': expected a whole number",
    ]


def test_the_defaults_and_good_values_of_every_form_pass():
    assert problems({}) == []
    assert problems({
        "PORTAL_SEVERITY1_FIRST_RESPONSE": "90m", "PORTAL_SEVERITY2_UPDATE_EVERY": "4 hours",
        "PORTAL_SEVERITY3_SUBSTANTIVE": "", "PORTAL_BUSINESS_HOURS": "00:00-24:00",
        "PORTAL_BUSINESS_DAYS": "Monday,tue,WED", "PORTAL_BUSINESS_TIMEZONE": "Europe/Berlin",
        "PORTAL_BUSINESS_HOLIDAYS": "DE", "PORTAL_BUSINESS_HOLIDAYS_SUBDIV": "BY",
        "PORTAL_BUSINESS_CLOSED_DATES": "2026-12-24, 2026-12-31",
        "PORTAL_MAINTENANCE_ANYTIME_DAYS": "", "PORTAL_MAINTENANCE_POLICY": "suggested",
        "PORTAL_LOGIN_LIMIT": "5/minute;100 per day",
        "PORTAL_DATABASE_URL": "postgresql+psycopg://portal:pw@db.internal:5432/portal",
        "PORTAL_RATELIMIT_STORAGE_URL": "redis://127.0.0.1:6379/0",
        "PORTAL_SUPPORT_EMAIL": "help@acme.test", "PORTAL_MAIL_FROM": "help@acme.test",
        "PORTAL_SITE_URL": "https://help.acme.test/portal/", "PORTAL_SMTP_HOST": "::1",
        "PORTAL_PAGE_CACHE": "off", "PORTAL_SMTP_SSL": "YES", "PORTAL_HSTS_MAX_AGE": "0",
        "PORTAL_FEEDBACK_REASONS": "typo:Has a typo,Too long", "PORTAL_ATTACHMENT_TYPES": "PNG",
        "PORTAL_MAILIN_TRUSTED_RELAYS": "mx.acme.test", "PORTAL_SMTP_TIMEOUT": "2.5",
    }) == []


def test_the_default_settings_make_a_working_calendar_and_response_policy():
    settings = load_settings("/nonexistent-instance", environ=GOOD)
    policy = policy_from_settings(settings)
    assert policy.severities == [1, 2, 3]
    assert settings["BUSINESS_HOLIDAYS_SUBDIV"] == ""


def test_a_holiday_subdivision_adds_its_own_holidays():
    cesar_chavez_day = date(2026, 3, 31)  # a holiday in California, not a federal one
    federal = calendar_from_settings(load_settings("/nonexistent-instance", environ=GOOD))
    california = calendar_from_settings(load_settings(
        "/nonexistent-instance", environ=GOOD | {"PORTAL_BUSINESS_HOLIDAYS_SUBDIV": "CA"}))
    assert federal.holiday_name(cesar_chavez_day) is None
    assert california.holiday_name(cesar_chavez_day) is not None


def test_a_subdivision_needs_a_country_it_belongs_to():
    subdiv = "PORTAL_BUSINESS_HOLIDAYS_SUBDIV"
    assert problems({"PORTAL_BUSINESS_HOLIDAYS": "", subdiv: "CA"}) == [
        "PORTAL_BUSINESS_HOLIDAYS_SUBDIV='CA': expected empty while PORTAL_BUSINESS_HOLIDAYS "
        "is empty (a subdivision needs a country)"]
    assert problems({"PORTAL_BUSINESS_HOLIDAYS": "GB", subdiv: "CA"}) == [
        "PORTAL_BUSINESS_HOLIDAYS_SUBDIV='CA': expected a subdivision of GB in the holidays "
        "package (ENG, NIR, SCT, WLS), or empty for none"]
    # A wrong country is reported once, not again under its subdivision.
    assert len(problems({"PORTAL_BUSINESS_HOLIDAYS": "XX", subdiv: "CA"})) == 1


def test_secrets_are_not_repeated_in_the_error():
    [problem] = problems({"PORTAL_DATABASE_URL": "postgres://portal:hunter2@db/portal"})
    assert "hunter2" not in problem
    assert problem.startswith("PORTAL_DATABASE_URL='postgres://portal:***@db/portal': expected")
    with pytest.raises(SettingsError) as raised:
        load_settings("/nonexistent-instance", {"SECRET_KEY": 12345, "SMTP_PASSWORD": b"pw"},
                      environ={})
    assert "12345" not in str(raised.value) and "pw'" not in str(raised.value)
    assert "SECRET_KEY=(hidden)" in str(raised.value)


def test_a_mapping_passed_to_create_app_is_checked_too(tmp_path):
    with pytest.raises(SettingsError) as raised:
        create_app({"SECRET_KEY": "k", "INSTANCE_PATH": str(tmp_path), "SMTP_PORT": "25",
                    "BUSINESS_DAYS": "mon", "SEVERITY1_FIRST_RESPONSE": "soon",
                    "REGISTRATION_OPEN": "no", "TESTING": True})
    assert str(raised.value).splitlines() == [
        "4 bad settings:",
        "  REGISTRATION_OPEN='no' (given to create_app; environment variable "
        "PORTAL_REGISTRATION_OPEN): expected true or false (also yes/no, on/off, 1/0)",
        "  BUSINESS_DAYS='mon' (given to create_app; environment variable "
        "PORTAL_BUSINESS_DAYS): expected a list",
        "  SEVERITY1_FIRST_RESPONSE='soon' (given to create_app; environment variable "
        "PORTAL_SEVERITY1_FIRST_RESPONSE): expected a duration such as 2h, 90m or 1d "
        "(d: business days)",
        "  SMTP_PORT='25' (given to create_app; environment variable PORTAL_SMTP_PORT): "
        "expected a whole number",
    ]
    assert not (tmp_path / "secret_key").exists()  # nothing was written before the check


def test_a_mapping_wins_over_a_bad_environment_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_SEVERITY1_FIRST_RESPONSE", "2x")
    settings = load_settings(tmp_path, {"SECRET_KEY": "k", "SEVERITY1_FIRST_RESPONSE": "4h"})
    assert settings["SEVERITY1_FIRST_RESPONSE"] == "4h"


def test_a_folder_setting_that_names_a_file_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("not a folder")
    [problem] = problems({"PORTAL_MAILIN_DIR": str(tmp_path / "notes.txt")})
    assert problem.endswith("expected a folder (this path is a file)")
    assert problems({"PORTAL_MAILIN_DIR": str(tmp_path / "not-yet-made")}) == []


def test_every_number_setting_states_its_range():
    numbers = {key for key, (_env, kind, _default) in SETTINGS.items() if kind in ("int", "float")}
    assert numbers == set(RANGES)


def test_flask_commands_exit_with_the_message_and_no_traceback(tmp_path):
    env = clean_environment(PORTAL_SEVERITY1_FIRST_RESPONSE="2x", PORTAL_SMTP_PORT="abc",
                            PORTAL_DATABASE_URL=f"sqlite:///{tmp_path / 'portal.db'}")
    for command in (["routes"], ["kb", "index"], ["db", "upgrade", "heads"]):
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *command],
                              cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 1, (command, done.stderr)
        assert done.stderr.splitlines() == [
            "Error: 2 bad settings:",
            "  PORTAL_SEVERITY1_FIRST_RESPONSE='2x': expected a duration such as 2h, 90m or 1d "
            "(d: business days)",
            "  PORTAL_SMTP_PORT='abc': expected a whole number"], (command, done.stderr)
    assert not (tmp_path / "portal.db").exists()


def test_gunicorn_exits_with_the_message_in_its_log(tmp_path):
    from gunicorn.config import KNOWN_SETTINGS

    args = ["--bind", "127.0.0.1:0"]
    if any(setting.name == "control_socket_disable" for setting in KNOWN_SETTINGS):
        args.append("--no-control-socket")  # gunicorn 24+: no socket in ~/.gunicorn
    env = clean_environment(PORTAL_SEVERITY1_FIRST_RESPONSE="2x",
                            PORTAL_DATABASE_URL=f"sqlite:///{tmp_path / 'portal.db'}")
    done = subprocess.run([sys.executable, "-m", "gunicorn", *args, "wsgi:app"],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0, done.stderr
    assert ("Bad setting: PORTAL_SEVERITY1_FIRST_RESPONSE='2x': expected a duration such as "
            "2h, 90m or 1d") in done.stderr
    assert "Worker failed to boot" in done.stderr
