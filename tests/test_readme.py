"""The README stays true: every setting documented, both set-up commands shown."""

from __future__ import annotations

from portal.config import PROJECT_ROOT, SETTINGS


def test_every_portal_setting_is_documented_in_the_readme():
    readme = (PROJECT_ROOT / "README.md").read_text()
    missing = [env for env, _, _ in SETTINGS.values() if f"`{env}`" not in readme]
    assert missing == []


def test_readme_shows_the_two_set_up_commands():
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme
