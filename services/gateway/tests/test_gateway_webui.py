"""The built web application served by the gateway: caching, client-side routes, security headers."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from gateway.api.webui import content_security_policy, install_web_ui
from servicekit.app import install_error_handlers


def app_serving(dist: Path) -> TestClient:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    install_error_handlers(app)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    install_web_ui(app, dist, "http://127.0.0.1:8333")
    return TestClient(app)


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>平台</title>", encoding="utf-8")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)")
    (tmp_path / "favicon.ico").write_bytes(b"\0")
    return tmp_path


def test_index_and_client_side_routes(dist: Path) -> None:
    client = app_serving(dist)
    for path in ["/", "/login", "/reviewer/enterprises/e-1"]:
        response = client.get(path, headers={"accept": "text/html,application/xhtml+xml"})
        assert response.status_code == 200, path
        assert "平台" in response.text
        assert response.headers["cache-control"] == "no-cache"
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("style-src")[0]
        assert "frame-ancestors 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"


def test_hashed_assets_are_immutable(dist: Path) -> None:
    client = app_serving(dist)
    response = client.get("/assets/index-abc123.js")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert client.get("/favicon.ico").headers["cache-control"] == "no-cache"
    missing = client.get("/assets/gone-123.js", headers={"accept": "text/html"})
    assert missing.status_code == 404


def test_api_docs_and_ops_are_not_the_ui(dist: Path) -> None:
    client = app_serving(dist)
    html = {"accept": "text/html"}
    assert client.get("/healthz", headers=html).json() == {"status": "ok"}
    for path in ["/api", "/api/unknown", "/docs/x", "/openapi.json", "/metrics"]:
        response = client.get(path, headers=html)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("application/problem+json")
    # not a page request: no index.html
    assert client.get("/some/route", headers={"accept": "application/json"}).status_code == 404
    assert client.post("/login").status_code == 404
    assert client.get("/../../etc/passwd", headers=html).text.startswith("<!doctype html>")


def test_without_a_build_a_chinese_page_says_so(tmp_path: Path) -> None:
    response = app_serving(tmp_path / "missing").get("/", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "网页端尚未构建" in response.text and "make run" in response.text
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_csp_allows_the_object_store_for_documents() -> None:
    csp = content_security_policy("http://files.example.test:8333/bucket")
    assert "img-src 'self' data: blob: http://files.example.test:8333" in csp
    assert "script-src 'self';" in csp
