"""Images beside articles are served safely; settings come from PORTAL_* variables."""

from __future__ import annotations

from pathlib import Path

from portal.config import load_settings

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00"
       b"\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
       b"\x00\x00\x00IEND\xaeB`\x82")


def test_images_beside_articles_are_shown(make_app, write_articles):
    root = write_articles({"c/a.md": "# A\n\n![Dialog](images/dialog.png)\n",
                           "c/images/dialog.png": PNG})
    client = make_app(ARTICLES_DIR=root).test_client()
    html = client.get("/articles/a").get_data(as_text=True)
    assert 'src="/media/c/images/dialog.png"' in html
    with client.get("/media/c/images/dialog.png") as image:
        assert image.status_code == 200 and image.mimetype == "image/png"
        assert image.headers["X-Content-Type-Options"] == "nosniff"


def test_only_images_inside_the_articles_folder_are_served(make_app, write_articles, tmp_path):
    (tmp_path / "secret.png").write_bytes(PNG)
    root = write_articles({"c/a.md": "# A\n", "c/notes.txt": "private", ".git/x.png": PNG})
    client = make_app(ARTICLES_DIR=root).test_client()
    for path in ("/media/c/a.md", "/media/c/notes.txt", "/media/../secret.png",
                 "/media/%2e%2e/secret.png", "/media/.git/x.png", "/media/c/nope.png"):
        assert client.get(path).status_code == 404, path


def test_svg_images_cannot_run_script_when_opened(make_app, write_articles):
    root = write_articles({"c/a.md": "# A\n", "c/x.svg": "<svg onload='alert(1)'></svg>"})
    with make_app(ARTICLES_DIR=root).test_client().get("/media/c/x.svg") as response:
        assert response.status_code == 200
        assert "sandbox" in response.headers["Content-Security-Policy"]


def test_settings_come_from_portal_environment_variables(tmp_path):
    settings = load_settings(tmp_path, environ={
        "PORTAL_ARTICLES_DIR": str(tmp_path / "kb"), "PORTAL_PRODUCT_NAME": "Acme",
        "PORTAL_DATABASE_URL": "sqlite:///x.db", "PORTAL_REGISTRATION_OPEN": "false",
        "PORTAL_SUPPORT_EMAIL": "help@acme.test", "PORTAL_SECRET_KEY": "k"})
    assert settings["ARTICLES_DIR"] == Path(tmp_path / "kb")
    assert settings["PRODUCT_NAME"] == "Acme"
    assert settings["SQLALCHEMY_DATABASE_URI"] == "sqlite:///x.db"
    assert settings["REGISTRATION_OPEN"] is False
    assert settings["SUPPORT_EMAIL"] == "help@acme.test"
    explicit = load_settings(tmp_path, {"PRODUCT_NAME": "Explicit"},
                             environ={"PORTAL_PRODUCT_NAME": "Env", "PORTAL_SECRET_KEY": "k"})
    assert explicit["PRODUCT_NAME"] == "Explicit"


def test_a_development_secret_key_is_generated_once_and_kept(tmp_path):
    first = load_settings(tmp_path, environ={})["SECRET_KEY"]
    second = load_settings(tmp_path, environ={})["SECRET_KEY"]
    assert first == second and len(first) >= 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_product_name_setting_is_shown(make_app):
    html = make_app(PRODUCT_NAME="Acme Roads").test_client().get("/").get_data(as_text=True)
    assert "Acme Roads" in html
