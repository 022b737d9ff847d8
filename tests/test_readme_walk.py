"""The README walked as a newcomer walks it, top to bottom, on one fresh server (issue 18).

Every runnable snippet from "Run it" to the end of the client section runs in the order the README
gives it, on one server with a fresh runtime folder and a generated secret: the admin commands
(inline and in blocks), the role requests shown with a success answer, the stale and the live curl
examples, the Python snippet, the Python client and its command line, and the Postman section
(its administrator, the server restarted in debug mode, newman). The secret is the raw content of
runtime/secrets/sign_secret, as the README says. Later sections (deployment, benchmarks) need
infrastructure and are not walked. tests/test_readme.py checks the generated blocks and the signing.
"""
from __future__ import annotations

import itertools
import json
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import ROOT, Client, LiveServer

README = (ROOT / "README.md").read_text(encoding="utf-8")
WALKED = README[:README.index("\n## Configuration")]
README_URL = "http://127.0.0.1:8000"


def steps(text: str) -> Iterator[tuple[str, list[str]]]:
    """("inline", [command]) for an admin command in prose, ("block:INFO", lines) for a fenced block."""
    block: list[str] | None = None
    info, indent = "", 0
    for line in text.splitlines():
        fence = line.strip().startswith("```")
        if block is None and fence:  # a fence may be indented (in a list); so are its lines
            block, info, indent = [], line.strip()[3:].strip(), len(line) - len(line.lstrip())
        elif block is not None and fence:
            yield f"block:{info}", block
            block = None
        elif block is not None:
            block.append(line[indent:])
        else:
            for command in re.findall(r"`(python server\.py user:create [^`]+)`", line):
                if "NAME" not in command:  # the template, not a command to run
                    yield "inline", [command]


class Walk:
    """The newcomer's state: the running server, the raw secret, the administrator's token."""

    def __init__(self, tmp_path: Path):
        self.home, self.runtime = tmp_path, tmp_path / "runtime"
        self.server = LiveServer(self.runtime, SIGN_SECRET="")  # the secret is generated on first start
        self.secret = (self.runtime / "secrets" / "sign_secret").read_text(encoding="utf-8")  # raw, as pasted
        self.admin: tuple[str, str] | None = None
        self.admin_token: str | None = None
        self.seen: list[str] = []

    def local(self, text: str) -> str:
        return text.replace(README_URL, self.server.url)

    def admin_command(self, line: str) -> None:
        args = shlex.split(line.split("#", 1)[0])[2:]  # after `python server.py`
        if "--out" in args:  # an export writes where it is run: into the walk's home, not the repository
            at = args.index("--out") + 1
            args[at] = str(Path(self.home) / args[at])
        done = self.server.command(*args)
        assert done.returncode == 0, (line, done.stdout, done.stderr)
        if args[0] == "user:create" and "--admin" in args and self.admin is None:
            self.admin = (args[args.index("--account") + 1], args[args.index("--password") + 1])
        self.seen.append(args[0])

    def restart(self, line: str) -> None:
        """`APP_DEBUG=1 SIGN_SECRET=… python server.py`: the same runtime folder, these settings."""
        settings = dict(word.split("=", 1) for word in shlex.split(line) if "=" in word and word[0].isupper())
        self.server.stop()
        self.server = LiveServer(self.runtime, **settings)
        self.secret = settings.get("SIGN_SECRET", self.secret)  # what clients sign with from now on
        self.seen.append("restart")

    def shell(self, lines: list[str]) -> str:
        done = subprocess.run(["bash", "-c", self.local("\n".join(lines))], cwd=self.home, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def role_requests(self, lines: list[str]) -> None:
        """Each `POST /path {json}` line answered below with a success is sent as the administrator."""
        assert self.admin is not None, "the README makes its administrator before the role requests"
        client = Client(self.server.url, self.secret)
        if self.admin_token is None:
            answer = client.post("/login/jwt/get", {"account": self.admin[0], "pwd": self.admin[1]}).json()
            assert answer["code"] == 200, answer
            self.admin_token = answer["data"]["jwt"]
        for line, following in itertools.pairwise(lines):
            request, answer = re.match(r"POST (\S+)\s+(\{.*\})$", line), re.match(r"→ (2\d\d) ", following)
            if request and answer:
                response = client.post(request.group(1), json.loads(request.group(2)), token=self.admin_token)
                assert response.status_code == int(answer.group(1)), (line, response.text)
                self.seen.append(request.group(1))

    def python(self, snippet: str, capsys: pytest.CaptureFixture[str], **values: str) -> list[str]:
        for name, value in values.items():
            snippet, count = re.subn(rf"^{name} = .*$", f"{name} = {value!r}", snippet, flags=re.M)
            assert count == 1, name
        exec(compile(self.local(snippet), "README.md", "exec"), {"__name__": "readme_walk"})
        return capsys.readouterr().out.splitlines()

    def client_cli(self, line: str) -> None:
        args = shlex.split(self.local(line).replace("--secret SECRET", "--secret " + shlex.quote(self.secret)))
        done = subprocess.run([sys.executable, *args[1:]], cwd=ROOT, capture_output=True, text=True, timeout=60,
                              env={"PATH": "/usr/bin:/bin", "HOME": str(self.home)})  # tokens in this HOME
        assert done.returncode == 0, (line, done.stderr)
        self.seen.append(" ".join(args[2:4]))

    def newman(self, line: str) -> None:
        if shutil.which("npx") is None:
            pytest.skip("npx (Node.js) is not installed: the README's newman step was not run")
        done = subprocess.run(["bash", "-c", self.local(line)], cwd=ROOT, capture_output=True, text=True,
                              timeout=600)
        if done.returncode != 0 and re.search(r"ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT", done.stderr):
            pytest.skip(f"npx could not fetch newman (no network): {done.stderr.strip().splitlines()[-1]}")
        assert done.returncode == 0, (done.stdout[-4000:], done.stderr[-2000:])
        self.seen.append("newman")


def test_the_readme_walked_top_to_bottom(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    walk = Walk(tmp_path)
    try:
        for kind, lines in steps(WALKED):
            text = "\n".join(lines)
            if kind == "block:" and "python server.py user:create --account postman_admin" in text:
                walk.admin_command(lines[0])
                walk.restart(lines[1])  # the Postman section's server: debug mode, the environment's secret
            elif kind == "inline" or (kind == "block:" and lines[0].startswith("python server.py ")
                                      and "NAME" not in text and "# Serve the API" not in text):
                for line in lines:  # not the template, not the generated command list
                    walk.admin_command(line)
            elif kind == "block:json" and text.startswith("POST /role/"):
                walk.role_requests(lines)
            elif kind == "block:" and "-H 'sign: " in text:  # the fixed example: long expired
                assert json.loads(walk.shell(lines))["errorcode"] == 60003
                walk.seen.append("curl fixed")
            elif kind == "block:" and "md5sum" in text:  # the live example, with the secret file as it is
                answer = json.loads(walk.shell(lines))
                assert answer["errorcode"] == 0, answer
                walk.seen.append("curl live")
            elif kind == "block:python":
                login, test = walk.python(text, capsys, SECRET=walk.secret)
                assert "'errorcode': 0" in login and "'errorcode': 0" in test, (login, test)
                walk.seen.append("python")
            elif kind == "block:py":
                out = walk.python(text.replace('secret="…"', f"secret={walk.secret!r}"), capsys)
                assert out[-1] == "50006 401 User Foo is not registered or the password is wrong", out
                walk.seen.append("client")
            elif kind == "block:" and lines[0].startswith("python -m client "):
                for line in lines:
                    walk.client_cli(line)
            elif kind == "block:" and lines[0].startswith("npx --yes newman run "):
                walk.newman(lines[0])
    finally:
        walk.server.stop()
    assert walk.seen == [
        "user:create", "user:create", "/role/create", "/role/assign", "/role/list",
        "role:grant", "role:revoke", "user:list", "session:list", "session:end", "audit:list",
        "user:export", "audit:export", "curl fixed", "user:create", "curl live", "python",
        "user:create", "restart", "newman", "client", "client login", "client status", "client refresh",
        "client logout"], walk.seen
