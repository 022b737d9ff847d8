"""GET /qrlogin: the QR login demo page. Self-contained, and in headless Chromium it creates a ticket,
long-polls, and shows "logged in as …" once the app (this test, through the API) scans and confirms."""
from __future__ import annotations

import queue
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator

import pytest
import requests

from tests.api.lifecycle import FAST
from tests.api.qrlogin import act, app_user
from tests.api.test_docs_page import CHROMIUM, _Assets
from tests.conftest import serving
from tests.support import SIGN_SECRET, Client, LiveServer, expect_ok


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serving(tmp_path_factory, "qrlogin-page", live=True, **FAST) as live:
        yield live


def test_the_page_is_self_contained_and_unsigned(server: LiveServer) -> None:
    page = requests.get(server.url + "/qrlogin", timeout=30)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY" and page.headers["x-content-type-options"] == "nosniff"
    assert not re.search(r"(src|href)=\"(https?:)?//", page.text), "an external asset"
    parser = _Assets()
    parser.feed(page.text)
    assert {"/docs/md5.js", "/docs/sign.js", "/qrlogin/qrlogin.js"} <= set(parser.urls)
    for url in parser.urls:
        asset = requests.get(server.url + url, timeout=30)
        assert asset.status_code == 200 and asset.headers["content-type"].startswith("text/javascript"), url
    assert 'type="password" id="secret"' in page.text  # the person types the sign secret in
    assert requests.get(server.url + "/v2/qrlogin", timeout=30).status_code == 404


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium); "
                                             "the test above still checks the page is self-contained")
def test_headless_chromium_logs_in_by_qr_code(server: LiveServer) -> None:
    client = Client(server.url)
    me = app_user(server, client)
    profile = tempfile.mkdtemp(prefix="login-api-chromium-")
    # The page logs its ticket to the console; Chromium writes console lines to stderr as they come.
    browser = subprocess.Popen(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
         "--proxy-server=http://127.0.0.1:9", "--virtual-time-budget=60000", "--dump-dom",
         f"{server.url}/qrlogin#secret={SIGN_SECRET}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    tickets: queue.Queue[str] = queue.Queue()
    logged: list[str] = []

    def read_console() -> None:
        for line in browser.stderr:  # type: ignore[union-attr]
            logged.append(line)
            found = re.search(r"qrlogin ticket ([A-Za-z0-9_-]+)", line)
            if found:
                tickets.put(found.group(1))

    reader = threading.Thread(target=read_console, daemon=True)
    reader.start()
    try:
        ticket = tickets.get(timeout=60)
        face = expect_ok(act(client, "scan", ticket, me), "v2")
        assert face["platform"] == "web" and "Chrome" in face["user_agent"]
        expect_ok(act(client, "confirm", ticket, me), "v2")
        browser.wait(timeout=90)  # the DOM is small: the pipe holds it until read
        dom = browser.stdout.read()  # type: ignore[union-attr]
    finally:
        if browser.poll() is None:
            browser.kill()
            browser.wait()
        reader.join(10)
        for pipe in (browser.stdout, browser.stderr):
            pipe.close()  # type: ignore[union-attr]
        shutil.rmtree(profile, ignore_errors=True)
    assert f"logged in as {me['account']} (uid {me['uid']})" in dom, (dom[-2000:], "".join(logged)[-2000:])
    assert ">confirmed<" in dom
    assert not any("Content Security Policy" in line for line in logged), "".join(logged)[-2000:]
