"""The README tells the truth: generated tables, commands, routes and signing examples match the code."""
from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.command import COMMANDS
from app.common.docs import (
    BLOCKS,
    read_block,
    render_commands,
    render_config,
    render_errors,
    render_readme,
    render_routes,
    stale_blocks,
)
from app.common.error import Answer
from app.common.route import Route, RouteRule
from app.common.sign import canonical_string, make_sign
from config import Setting
from tests.conftest import Server, serving
from tests.support import ROOT, SIGN_SECRET, LiveServer

README = (ROOT / "README.md").read_text(encoding="utf-8")
VECTORS = json.loads((ROOT / "tests" / "data" / "sign-vectors.json").read_text(encoding="utf-8"))  # SPEC §4's


def code_blocks(language: str = "") -> list[str]:
    """The fenced code blocks of the README whose info string is `language`."""
    blocks: list[tuple[str, list[str]]] = []
    current: tuple[str, list[str]] | None = None
    for line in README.splitlines():
        if line.startswith("```"):
            if current is None:  # an opening fence, with its info string
                current = (line[3:].strip(), [])
            else:                # the closing fence of the open block
                blocks.append(current)
                current = None
        elif current is not None:
            current[1].append(line)
    return ["\n".join(lines) + "\n" for info, lines in blocks if info == language]


def test_env_example_matches_the_settings() -> None:
    from app.common.docs import render_env_example

    path = Path(__file__).resolve().parent.parent / ".env.example"
    assert path.read_text(encoding="utf-8") == render_env_example(), \
        ".env.example is stale: run `python server.py docs:readme`"
    # Every line is a comment, so copying it to .env changes nothing until a line is uncommented.
    assert all(not line or line.startswith("#") for line in path.read_text(encoding="utf-8").splitlines())


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_generated_block_matches_code(name: str) -> None:
    assert read_block(README, name) == BLOCKS[name]().rstrip("\n") + "\n", \
        f"the README's {name} block is stale: run `python server.py docs:readme`"


def test_docs_command_check_passes() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "server.py"), "docs:readme", "--check"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_stale_block_is_found_and_rewritten() -> None:
    text = "intro\n" + "".join(f"<!-- {name}:start -->\nold\n<!-- {name}:end -->\n" for name in BLOCKS)
    assert stale_blocks(text) == list(BLOCKS)
    fresh = render_readme(text)
    assert stale_blocks(fresh) == []
    assert fresh.startswith("intro\n") and render_errors() in fresh and render_config() in fresh
    with pytest.raises(ValueError, match="routes"):
        stale_blocks("no markers here")


def test_rendering_is_generic() -> None:
    """New catalog entries, settings, routes and commands render without code changes; `|` cannot break a row."""
    errors = render_errors((Answer("NEW_ONE", 60099, 50099, 418, "甲|乙", "a|b", "丙"),), {})
    assert "| `NEW_ONE` | 60099 | 50099 | 418 | 甲\\|乙<br>v2: 丙 | a\\|b |" in errors
    config = render_config([Setting("NEW_FLAG", True, bool, "a flag"), Setting("NEW_KEY", "", str, "x", secret=True),
                            Setting("NEW_URL", "", str, "y")])
    assert "| `NEW_FLAG` | `1` | a flag |" in config
    assert "| `NEW_KEY` | generated into `runtime/secrets/new_key` on first start | x |" in config
    assert "| `NEW_URL` | unset | y |" in config
    routes = render_routes([RouteRule("POST", "/<ver>/test", "<ver>.Login/test", ["checkLogin"]),
                            RouteRule("GET", "/<ver>/nowhere", "<ver>.Nothing/here")])
    assert "| POST | `/{ver}/test` | sign + `checkLogin` | The logged-in user" in routes
    assert "| GET | `/{ver}/nowhere` | sign |  |" in routes
    assert "python server.py migrate  # Apply pending schema migrations" in render_commands({"migrate": "migrate"})


def test_config_defaults_read_as_documented() -> None:
    config = render_config()
    assert "| `DATABASE_URL` | `sqlite:///runtime/app.db` |" in config
    assert "| `SIGN_SECRET` | generated into `runtime/secrets/sign_secret` on first start |" in config
    assert "| `APP_DEBUG` | `0` |" in config


@pytest.mark.parametrize("command", [
    "python -m pip install -r requirements.txt && python server.py",
    "python -m pip install -r requirements.txt && python -m pytest",
    "python server.py user:create --account NAME --phone PHONE --password PASS",
])
def test_readme_shows_command(command: str) -> None:
    assert command in README


@pytest.mark.parametrize("name", sorted(set(COMMANDS) - {"serve"}) + ["help"])
def test_readme_lists_admin_command(name: str) -> None:
    assert f"python server.py {name}" in README


def test_every_route_is_listed() -> None:
    import route.app  # noqa: F401 - declares the routes

    missing = sorted({rule.path.replace("<ver>", "{ver}") for rule in Route.rules}
                     - set(re.findall(r"^\| \w+ \| `([^`]+)`", README, re.M)))
    assert not missing, f"routes missing from the README's endpoint table: {missing}"


def test_curl_example_sign_is_right() -> None:
    """The fixed curl example's sign is what make_sign gives for its body and the stated secret."""
    block = next(b for b in code_blocks() if "curl" in b and "-H 'sign: " in b)
    given = re.search(r"-H 'sign: ([0-9a-f]{32})'", block).group(1)
    body = json.loads(re.search(r"-d '(\{.*\})'", block).group(1))
    assert "the secret `s3cr3t`" in README
    assert make_sign(body, "s3cr3t") == given


def _snippet() -> str:
    [snippet] = code_blocks("python")
    return snippet


class _FakeResponse:
    def __init__(self, body: dict[str, Any]):
        self.body = body

    def json(self) -> dict[str, Any]:
        return self.body


def test_python_snippet_agrees_with_sign_vectors(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    sent: list[tuple[str, dict, dict]] = []

    def post(url: str, json: dict, headers: dict, timeout: float) -> _FakeResponse:
        sent.append((url, json, headers))
        return _FakeResponse({"message": "登录成功", "data": {"token": "t" * 32}, "errorcode": 0})

    monkeypatch.setitem(sys.modules, "requests", types.SimpleNamespace(post=post))
    namespace: dict[str, Any] = {"__name__": "readme_snippet"}
    exec(compile(_snippet(), "README.md", "exec"), namespace)
    capsys.readouterr()
    for vector in VECTORS:
        assert namespace["sign"](vector["params"], vector["secret"]) == vector["sign"]
    secret = namespace["SECRET"]
    assert [url.rsplit("/", 2)[-2:] for url, _, _ in sent] == [["v1", "login"], ["v1", "test"]]
    for _, body, headers in sent:
        assert headers["sign"] == make_sign(body, secret)
    assert sent[1][2]["Authorization"] == "Bearer " + "t" * 32


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real `python server.py`: the README's Python snippet speaks HTTP to it."""
    with serving(tmp_path_factory, "runtime", live=True) as server:
        yield server


def test_python_snippet_logs_in_on_a_live_server(server: LiveServer, user: dict,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Pasted as a client would, with this server's address, secret and user, it logs in and calls /v1/test."""
    snippet = _snippet()
    for pattern, value in ((r"^BASE_URL = .*$", f"BASE_URL = {server.url!r}"),
                           (r"^SECRET = .*$", f"SECRET = {SIGN_SECRET!r}"),
                           (r"^USERNAME, PASSWORD = .*$",
                            f"USERNAME, PASSWORD = {user['phone']!r}, {user['password']!r}")):
        snippet, count = re.subn(pattern, value, snippet, flags=re.M)
        assert count == 1, pattern
    exec(compile(snippet, "README.md", "exec"), {"__name__": "readme_snippet"})
    login, test = (ast.literal_eval(line) for line in capsys.readouterr().out.splitlines())
    assert login["errorcode"] == 0, login
    assert test["errorcode"] == 0 and test["data"]["uid"] == user["uid"], test


def test_shell_example_signs_like_make_sign() -> None:
    """The live shell example's string to sign has the shape make_sign builds (sorted, then &key=)."""
    block = next(b for b in code_blocks() if "md5sum" in b)
    template = re.search(r"printf '%s' \"([^\"]+)\"", block).group(1)
    params = {"nonce": "$NONCE", "password": "123456", "timestamp": "$TS", "username": "13911119999"}
    assert template == canonical_string(params, "$SECRET")
