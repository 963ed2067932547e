"""HSTS (review finding 7): browsers are told to keep to HTTPS, on HTTPS responses only."""

from __future__ import annotations

HSTS = "Strict-Transport-Security"


def test_https_responses_ask_browsers_to_keep_to_https_for_a_year(client):
    for url in ["/", "/articles/reset-your-password", "/login", "/no-such-page",
                "/static/css/site.css"]:
        response = client.get(url, base_url="https://localhost")
        response.close()
        assert response.headers.get(HSTS) == "max-age=31536000", url


def test_plain_http_responses_carry_no_hsts(client):
    for url in ["/", "/login", "/no-such-page"]:
        assert HSTS not in client.get(url, base_url="http://localhost").headers, url


def test_hsts_behind_a_trusted_proxy_follows_the_proxys_scheme(make_app):
    proxied = make_app(TRUSTED_PROXIES=1).test_client()
    https = proxied.get("/", headers={"X-Forwarded-Proto": "https"})
    assert https.headers.get(HSTS) == "max-age=31536000"
    assert HSTS not in proxied.get("/", headers={"X-Forwarded-Proto": "http"}).headers
    direct = make_app().test_client()  # no trusted proxy: a forged header changes nothing
    assert HSTS not in direct.get("/", headers={"X-Forwarded-Proto": "https"}).headers


def test_hsts_max_age_and_subdomains_are_settings(make_app, monkeypatch):
    monkeypatch.setenv("PORTAL_HSTS_MAX_AGE", "600")
    monkeypatch.setenv("PORTAL_HSTS_INCLUDE_SUBDOMAINS", "true")
    response = make_app().test_client().get("/", base_url="https://localhost")
    assert response.headers.get(HSTS) == "max-age=600; includeSubDomains"


def test_a_max_age_of_zero_sends_no_hsts(make_app):
    client = make_app(HSTS_MAX_AGE=0).test_client()
    assert HSTS not in client.get("/", base_url="https://localhost").headers
