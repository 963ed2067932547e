"""The technical support policy article and the settings (which the Contact page and the
deadline code read) must state the same figures. Changing either side alone fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.config import PROJECT_ROOT, load_settings
from portal.contact.agreement import disagreements, maintenance_table_disagreements

POLICY = PROJECT_ROOT / "articles" / "policies" / "technical-support-policy.md"
MAINTENANCE = PROJECT_ROOT / "articles" / "policies" / "maintenance-windows-and-service-status.md"


@pytest.fixture(scope="module")
def settings() -> dict:
    """The settings as the running app resolves them (defaults, no overrides)."""
    return load_settings("/nonexistent", {"SECRET_KEY": "x"}, environ={})


def mutated_copy(tmp_path: Path, source: Path, old: str, new: str) -> str:
    """Write a changed copy of an article and read it back, as an editor's edit would be."""
    text = source.read_text(encoding="utf-8")
    assert old in text, f"the article no longer contains {old!r}; update this test"
    copy = tmp_path / source.name
    copy.write_text(text.replace(old, new), encoding="utf-8")
    return copy.read_text(encoding="utf-8")


def test_the_policy_article_agrees_with_the_settings(settings):
    assert disagreements(POLICY.read_text(encoding="utf-8"), settings) == []


def test_the_maintenance_article_table_agrees_with_the_settings(settings):
    assert maintenance_table_disagreements(MAINTENANCE.read_text(encoding="utf-8"), settings) == []


@pytest.mark.parametrize("old, new, what", [
    ("Within 2 hours", "Within 4 hours", "Severity 1 first response"),
    ("update you every hour", "update you every 2 hours", "Severity 1 update every"),
    ("| Within 1 business day. | We make", "| Within 2 business days. | We make",
     "Severity 2 first response"),
    ("No more than 3 business days", "No more than 5 business days", "Severity 3 substantive"),
    ("8:00 AM to 8:00 PM Eastern Time", "9:00 AM to 6:00 PM Eastern Time", "Business hours"),
    ("Monday through Friday", "Monday through Saturday", "Business days"),
    ("counted between 8:00 AM and 8:00 PM Eastern", "counted between 7:00 AM and 8:00 PM Eastern",
     "Severity 1 counted hours"),
    ("(5:00 AM to 5:00 PM Pacific)", "(6:00 AM to 5:00 PM Pacific)",
     "Severity 1 hours in Pacific time"),
    ("except on US federal holidays", "every day of the year", "Holidays"),
    ("mailto:support@bitumio.com", "mailto:help@bitumio.com", "Support email"),
    ("call **(801) 513-1113**", "call **(801) 513-2000**", "Support phone"),
    ("(https://support.bitumio.com/support/home)", "(https://help.bitumio.com/)", "Support site"),
    ("between midnight and 8:00 AM Eastern", "between midnight and 6:00 AM Eastern",
     "Maintenance weekday hours"),
    ("on weekends, or on weekdays", "on weekdays", "Maintenance any-time days"),
])
def test_changing_the_article_alone_fails(tmp_path, settings, old, new, what):
    problems = disagreements(mutated_copy(tmp_path, POLICY, old, new), settings)
    assert any(p.startswith(what) for p in problems), problems


@pytest.mark.parametrize("key, value, what", [
    ("SEVERITY1_FIRST_RESPONSE", "4h", "Severity 1 first response"),
    ("SEVERITY1_UPDATE_EVERY", "30m", "Severity 1 update every"),
    ("SEVERITY2_FIRST_RESPONSE", "2d", "Severity 2 first response"),
    ("SEVERITY2_UPDATE_EVERY", "4h", "Severity 2 update every"),
    ("SEVERITY3_SUBSTANTIVE", "5d", "Severity 3 substantive"),
    ("SEVERITY1_DAYS", ["mon", "tue", "wed", "thu", "fri"], "Severity 1 counted days"),
    ("BUSINESS_HOURS", "09:00-18:00", "Business hours"),
    ("BUSINESS_DAYS", ["mon", "tue", "wed", "thu"], "Business days"),
    ("BUSINESS_TIMEZONE", "America/Chicago", "Time zone"),
    ("BUSINESS_HOLIDAYS", "", "Holidays"),
    ("SUPPORT_EMAIL", "help@bitumio.com", "Support email"),
    ("SUPPORT_PHONE", "(801) 513-2000", "Support phone"),
    ("SUPPORT_SITE_URL", "https://help.bitumio.com/", "Support site"),
    ("MAINTENANCE_WEEKDAY_HOURS", "00:00-06:00", "Maintenance weekday hours"),
    ("MAINTENANCE_ANYTIME_DAYS", ["sun"], "Maintenance any-time days"),
])
def test_changing_a_setting_alone_fails(settings, key, value, what):
    problems = disagreements(POLICY.read_text(encoding="utf-8"), settings | {key: value})
    assert any(p.startswith(what) for p in problems), problems


def test_changing_both_sides_together_passes(tmp_path, settings):
    text = mutated_copy(tmp_path, POLICY, "Within 2 hours", "Within 4 hours")
    assert disagreements(text, settings | {"SEVERITY1_FIRST_RESPONSE": "4h"}) == []


def test_maintenance_table_changes_alone_fail(tmp_path, settings):
    text = mutated_copy(tmp_path, MAINTENANCE, "| Midnight to 8:00 AM |", "| Midnight to 6:00 AM |")
    assert maintenance_table_disagreements(text, settings)
    assert maintenance_table_disagreements(
        MAINTENANCE.read_text(encoding="utf-8"), settings | {"MAINTENANCE_ANYTIME_DAYS": ["sun"]})


def test_an_article_the_check_cannot_read_fails_loudly(tmp_path, settings):
    text = mutated_copy(tmp_path, POLICY, "| **Severity 2** |", "| Severity two |")
    assert "article: no row for Severity 2" in disagreements(text, settings)
    text = mutated_copy(tmp_path, POLICY, "## Business hours", "## When we work")
    assert disagreements(text, settings) == ["article: no '## Business hours' section"]
