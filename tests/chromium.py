"""Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe): no driver,
no websocket library, nothing to install but Chromium. Messages are JSON, each ended by a NUL byte;
Chromium reads commands on its fd 3 and writes answers and events on its fd 4.

    with Chromium(path) as browser:
        page = browser.open(url)            # a tab; page.eval("js"), page.type("text"), page.wait_for("js")
"""
from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from typing import Any

# The network is this machine only: every other host resolves to nothing, and any other address
# goes through a proxy that is not there (loopback bypasses a proxy by default).
OFFLINE_FLAGS = ("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
                 "--proxy-server=http://127.0.0.1:9")
HEADLESS_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage")


class Chromium:
    def __init__(self, path: str, timeout: float = 30):
        self.path, self.timeout = path, timeout
        self.events: list[dict[str, Any]] = []
        self._next_id, self._buffer = 0, b""

    def __enter__(self) -> Chromium:
        self.profile = tempfile.mkdtemp(prefix="login-api-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # above 10 so that placing them at 3 and 4 in the child cannot overwrite one with the other
        ends = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_browser_r, from_browser_w)]
        for fd in (to_browser_r, from_browser_w):
            os.close(fd)

        def wire_fds() -> None:  # in the child: fd 3 reads our commands, fd 4 writes the answers
            os.dup2(ends[0], 3)  # dup2 leaves the copy inheritable, so it survives exec
            os.dup2(ends[1], 4)

        self.process = subprocess.Popen(
            [self.path, *HEADLESS_FLAGS, *OFFLINE_FLAGS, f"--user-data-dir={self.profile}",
             "--remote-debugging-pipe", "about:blank"],
            close_fds=False, preexec_fn=wire_fds, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for fd in ends:
            os.close(fd)
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            self.send("Browser.close")
        except Exception:  # noqa: BLE001 - it may be gone already; it is killed below anyway
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)
        shutil.rmtree(self.profile, ignore_errors=True)

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise ConnectionError("Chromium closed the pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        """One command; its result (events that arrive meanwhile are kept in self.events)."""
        self._next_id += 1
        command: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            command["sessionId"] = session
        os.write(self._to_browser, json.dumps(command).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            message = self._read_message(deadline)
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def open(self, url: str) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session, target)
        for domain in ("Page.enable", "Runtime.enable", "Log.enable"):
            page.send(domain)
        # every Content-Security-Policy violation of the page, kept for Page.violations()
        page.send("Page.addScriptToEvaluateOnNewDocument", {"source": """
            window.__violations = [];
            document.addEventListener("securitypolicyviolation", function (e) {
              window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
            });"""})
        page.send("Page.navigate", {"url": url})
        return page


class Page:
    def __init__(self, browser: Chromium, session: str, target: str):
        self.browser, self.session, self.target = browser, session, target

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.browser.send(method, params, self.session)

    def eval(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (a promise is awaited)."""
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 20) -> Any:
        """Polls until the expression is truthy; its value (true for an object such as an element)."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.eval(f"(v => v && typeof v === 'object' ? true : v)({expression})")
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"still false after {timeout} s: {expression}")
            time.sleep(0.1)

    def type(self, text: str) -> None:
        """Types into the focused field, as a keyboard would (replacing a selection)."""
        self.send("Input.insertText", {"text": text})

    def screenshot(self, width: int, height: int) -> bytes:
        """A PNG of the page drawn in a `width` x `height` window."""
        import base64

        self.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                                                         "deviceScaleFactor": 1, "mobile": False})
        return base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"})["data"])

    def close(self) -> None:
        """Closes the tab (the browser stays, for the next test's tab)."""
        self.browser.send("Target.closeTarget", {"targetId": self.target})

    def violations(self) -> list[str]:
        """The Content-Security-Policy violations of the page so far: `directive blocked-uri`."""
        return self.eval("window.__violations || []")

    def console(self) -> list[str]:
        """Console and log messages of the page so far (CSP violations among them)."""
        lines = []
        for event in self.browser.events:
            if event.get("sessionId") != self.session:  # another tab's
                continue
            params = event.get("params", {})
            if event.get("method") == "Log.entryAdded":
                lines.append(params["entry"].get("text", ""))
            elif event.get("method") == "Runtime.consoleAPICalled":
                lines.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
            elif event.get("method") == "Runtime.exceptionThrown":
                lines.append(str(params.get("exceptionDetails", {}).get("exception", {}).get("description", "")))
        return lines
