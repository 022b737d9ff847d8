"""GET /docs: an interactive page that works offline. Every asset it references is served by the app
itself; headless Chromium, its network limited to this machine, renders Swagger UI with every route."""
from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlparse

import pytest
import requests

import route.app  # noqa: F401 - declares the routes
from app.common.route import Route
from tests.conftest import Server, serving
from tests.support import SIGN_SECRET, LiveServer

if TYPE_CHECKING:
    from tests.chromium import Chromium, Page

CHROMIUM = next((p for p in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"))
                 if p and os.path.exists(p)), None)


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script" and attributes.get("src"):
            self.urls.append(attributes["src"] or "")
        if tag == "link" and attributes.get("href"):
            self.urls.append(attributes["href"] or "")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real `python server.py`: headless Chromium loads the page over HTTP."""
    with serving(tmp_path_factory, "runtime", live=True) as server:
        yield server


def _page(server: LiveServer) -> requests.Response:
    response = requests.get(server.url + "/docs", timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    return response


def test_every_asset_is_served_locally(server: LiveServer) -> None:
    parser = _Assets()
    parser.feed(_page(server).text)
    assert any(url.endswith("swagger-ui-bundle.js") for url in parser.urls)
    assert any(url.endswith("swagger-ui.css") for url in parser.urls)
    for url in parser.urls:
        absolute = urljoin(server.url + "/docs", url)
        assert urlparse(absolute).netloc == urlparse(server.url).netloc, f"{url} is not served by the app"
        response = requests.get(absolute, timeout=30)
        assert response.status_code == 200, url
        assert len(response.content) > 100, url
    assert requests.get(server.url + "/docs/swagger-ui-bundle.js", timeout=30).headers["content-type"].startswith(
        "text/javascript")
    # and nothing beside the listed assets
    missing = requests.get(server.url + "/docs/../server.py", timeout=30)
    assert missing.status_code == 404
    assert requests.get(server.url + "/docs/index.j2", timeout=30).status_code == 404


def test_page_sends_security_headers(server: LiveServer) -> None:
    """SPEC §10: a policy that allows this server only (no inline script, no other host), no framing, no sniffing."""
    for path in ("/docs", "/docs/docs.js"):
        headers = requests.get(server.url + path, timeout=30).headers
        assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff", path
        policy = dict((d.strip().split(" ", 1) + [""])[:2] for d in headers["Content-Security-Policy"].split(";"))
        assert policy["default-src"] == "'none'" and policy["script-src"] == "'self'", policy
        assert policy["frame-ancestors"] == "'none'" and policy["connect-src"] == "'self'", policy
        assert not any("http" in value or "*" in value or "unsafe" in value for value in policy.values()), policy
    html = _page(server).text  # nothing inline that the policy would block
    assert not re.search(r"\son\w+=", html) and not re.search(r"<script(?![^>]*\ssrc=)", html)


def test_page_explains_how_to_sign(server: LiveServer) -> None:
    text = _page(server).text
    for phrase in ("How to sign", "timestamp", "nonce", "&amp;key=", "md5", "sign</code> header",
                   "f631f0e462db6c880048d2f78d4f65ab", "/openapi.json"):
        assert phrase in text, phrase


def test_pages_are_outside_the_versions(server: LiveServer) -> None:
    assert requests.get(server.url + "/v2/docs", timeout=30).status_code == 404
    assert requests.get(server.url + "/v1/openapi.json", timeout=30).status_code == 404
    refused = requests.post(server.url + "/openapi.json", timeout=30)
    assert refused.status_code == 405 and refused.json()["code"] == 9905
    assert {rule.path for rule in Route.pages} >= {"/docs", "/openapi.json"}
    assert not any("<ver>" in rule.path for rule in Route.pages)
    assert not any(rule.path in ("/docs", "/openapi.json") for rule in Route.rules)


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    """One headless Chromium for the module's tests (each opens its own tab): starting a browser and
    drawing Swagger UI is most of what these tests cost."""
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from tests.chromium import Chromium

    with Chromium(CHROMIUM) as browser:
        yield browser


def _drawn(browser: Chromium, url: str) -> Page:
    """A tab on the docs page once Swagger UI has drawn every operation of both versions."""
    page = browser.open(url)
    page.wait_for(f"document.querySelectorAll('.opblock.opblock-post').length >= {2 * len(Route.rules)}",
                  timeout=60)
    return page


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium); "
                                             "the assets test above still checks the page is self-contained")
def test_renders_offline_in_headless_chromium(server: LiveServer, browser: Chromium, tmp_path: Path) -> None:
    page = _drawn(browser, server.url + "/docs")
    html = page.eval("document.documentElement.outerHTML")
    # Swagger UI drew the document: the title, both version sections and the operations
    assert 'class="swagger-ui' in html, html[:2000]
    assert "Login API" in html
    assert len(re.findall(r'class="opblock opblock-post', html)) >= 2 * len(Route.rules), "not every route drawn"
    for path in ("/v1/login", "/v2/login/jwt/get", "/v2/role/assign"):
        assert path in html
    assert "Failed to load API definition" not in html

    shot = tmp_path / "docs.png"
    shot.write_bytes(page.screenshot(1280, 1600))
    from PIL import Image

    with Image.open(shot) as image:
        assert image.size == (1280, 1600)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20) or []
    # a blank or error page has a handful of colours; the drawn page has text, buttons and coloured methods
    assert len(colours) > 200, len(colours)
    keep = os.environ.get("DOCS_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)
    page.close()


def test_readme_shows_the_docs_page() -> None:
    from tests.support import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "<http://127.0.0.1:8000/docs>" in readme and "`/openapi.json`" in readme


def _open_operation(page: Page, operation_id: str) -> str:
    """Expands an operation and presses "Try it out"; the CSS selector of its block."""
    block = f"#operations-{operation_id.split('_', 1)[0]}-{operation_id}"
    page.eval(f"document.querySelector('{block} .opblock-summary-control').click()")
    page.wait_for(f"document.querySelector('{block} .try-out__btn')")
    page.eval(f"document.querySelector('{block} .try-out__btn').click()")
    page.wait_for(f"document.querySelector('{block} textarea.body-param__text')")
    return block


def _execute(page: Page, block: str) -> tuple[int, dict]:
    """Presses Execute; the live response's status and JSON body."""
    page.eval(f"document.querySelector('{block} .execute').click()")
    status = page.wait_for(f"(document.querySelector('{block} .live-responses-table tr.response .response-col_status')"
                           f" || {{}}).textContent")
    body = page.wait_for(f"(document.querySelector('{block} .live-responses-table tr.response .highlight-code pre')"
                         f" || {{}}).textContent")
    return int(status.strip().split()[0]), json.loads(body)


def _authorize(page: Page, access: str) -> None:
    """Authorize (the padlock) with the bearer token `access`, and close the dialog."""
    page.eval("document.querySelector('.auth-wrapper .authorize').click()")
    assert page.wait_for("(i => i && (i.focus(), true))"
                         "(document.querySelector('.auth-container input[type=text]'))")
    page.type(access)
    page.eval("document.querySelector('.auth-container .auth-btn-wrapper .authorize').click()")
    page.wait_for("document.querySelector('.auth-container .auth-btn-wrapper .btn-done')")
    page.eval("document.querySelector('.auth-container .auth-btn-wrapper .btn-done').click()")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_try_it_out_signs_with_the_secret_alone(server: LiveServer, browser: Chromium, user: dict) -> None:
    """As a newcomer: type the secret, log in for a JWT with "Try it out", Authorize with it, call /v2/test.
    The `sign` field is left empty: the page signs, and Swagger UI must not refuse to send."""
    page = _drawn(browser, server.url + "/docs")
    # one header: the title and "how to sign" once (the page's), Swagger UI's description below it
    text = page.eval("document.body.innerText")
    assert text.count("How to sign") == 1 and "Signing a request" not in text, text[:3000]
    assert page.eval("Array.from(document.querySelectorAll('h1, h2')).filter(e => e.offsetParent"
                     " && e.textContent.trim().startsWith('Login API')).length") == 1
    assert "v1 answers in the ThinkPHP envelope" in text.replace("**", "")
    for code in ('.signing li code', '.swagger-ui .info .description code'):  # inline code never breaks mid-word
        assert page.eval(f"getComputedStyle(document.querySelector('{code}')).whiteSpace") == "nowrap", code
    page.eval("document.getElementById('secret').focus()")
    page.type(SIGN_SECRET)

    block = _open_operation(page, "v2_login_jwt_get")
    page.eval(f"(t => {{ t.focus(); t.select(); }})(document.querySelector('{block} textarea.body-param__text'))")
    page.type(json.dumps({"account": user["account"], "pwd": user["password"]}))
    status, body = _execute(page, block)
    assert (status, body["code"]) == (200, 200), (body, page.console())
    access = body["data"]["jwt"]
    assert access.count(".") == 2

    _authorize(page, access)

    block = _open_operation(page, "v2_test")
    status, body = _execute(page, block)
    assert (status, body["code"]) == (200, 200), (body, page.console())
    assert body["data"]["uid"] == user["uid"] and body["data"]["account"] == user["account"]
    assert page.violations() == [], page.console()  # the page works under its Content-Security-Policy
    page.close()


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_try_it_out_signs_with_hmac_when_chosen(server: LiveServer, browser: Chromium, user: dict) -> None:
    """The page's method switch: hmac-sha256 (SPEC §13.1) with WebCrypto, a bearer token included."""
    page = _drawn(browser, server.url + "/docs")
    page.eval("document.getElementById('secret').focus()")
    page.type(SIGN_SECRET)
    page.eval("document.getElementById('signmethod').value = 'hmac-sha256'")
    block = _open_operation(page, "v2_login_jwt_get")
    page.eval(f"(t => {{ t.focus(); t.select(); }})(document.querySelector('{block} textarea.body-param__text'))")
    page.type(json.dumps({"account": user["account"], "pwd": user["password"]}))
    status, body = _execute(page, block)
    assert (status, body["code"]) == (200, 200), (body, page.console())
    assert page.eval("document.getElementById('canonical').textContent").startswith("LOGIN-HMAC-SHA256")
    access = body["data"]["jwt"]
    _authorize(page, access)
    block = _open_operation(page, "v2_test")
    status, body = _execute(page, block)
    assert (status, body["code"]) == (200, 200), (body, page.console())
    assert page.violations() == [], page.console()
    page.close()
