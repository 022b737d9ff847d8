"""The Python client (client/) against live servers: signing, tokens, one refresh, ApiError, the CLI."""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.common.clock import ManualClock
from app.common.sign import make_sign as server_sign
from client import ApiError, LoginApiClient, Tokens, canonical_string, make_sign
from tests.conftest import serving
from tests.inprocess import TRANSPORTS, InProcessServer
from tests.support import ROOT, SIGN_SECRET, LiveServer

VECTORS_PATH = ROOT / "tests" / "data" / "sign-vectors.json"
VECTORS = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real `python server.py`: the client package speaks HTTP (requests) to it."""
    with serving(tmp_path_factory, "runtime", live=True) as server:
        yield server


@pytest.fixture(scope="module")
def short_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    """Access JWTs live two seconds, on a clock the tests move (in-process: no sleeping)."""
    app = InProcessServer(tmp_path_factory.mktemp("runtime-client-short"), clock=ManualClock(), JWT_TTL=2)
    app.create_user("Shorty", "13911110001", "secret_123")
    yield app
    app.stop()


def _short_api(server: InProcessServer, **kwargs: Any) -> LoginApiClient:
    """The client, its requests going to the in-process app."""
    return LoginApiClient(server.url, SIGN_SECRET, session=TRANSPORTS[server.url], **kwargs)


def test_client_signs_like_the_vectors_and_the_server() -> None:
    for vector in VECTORS:
        assert canonical_string(vector["params"], vector["secret"]) == vector["canonical"]
        assert make_sign(vector["params"], vector["secret"]) == vector["sign"]
    params = {"a": [3, {"b": 1.5, "a": None}], "f": 0.1, "z": False, "s": "中 &"}
    assert make_sign(params, "k") == server_sign(params, "k")


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_login_me_status_refresh_logout(server: LiveServer, user: dict, version: str) -> None:
    api = LoginApiClient(server.url, SIGN_SECRET, version=version)
    tokens = api.login(user["account"], user["password"])
    assert tokens.access and tokens.refresh
    assert api.me()["uid"] == user["uid"]
    status = api.status()
    assert status["uid"] == user["uid"] and 0 < status["exp"] <= 86400
    old = api.tokens.access
    assert api.refresh() != old
    assert api.me()["account"] == user["account"]
    api.logout()
    assert api.tokens == Tokens()
    stale = LoginApiClient(server.url, SIGN_SECRET, version=version, tokens=Tokens(access=old, refresh=tokens.refresh))
    with pytest.raises(ApiError) as caught:
        stale.me()
    assert caught.value.status == 401
    assert caught.value.code == (60010 if version == "v1" else 9908)
    assert stale.refreshes == 0  # v2's 9908 tried one refresh, which failed; v1's 60010 is not an expiry


def test_expired_access_token_is_refreshed_once(short_server: InProcessServer) -> None:
    api = _short_api(short_server)
    api.login("Shorty", "secret_123")
    first = api.tokens.access
    short_server.clock.advance(2.2)
    assert api.me()["account"] == "Shorty"
    assert api.refreshes == 1 and api.tokens.access != first
    short_server.clock.advance(2.2)
    assert api.status()["uid"] == api.me()["uid"]
    assert api.refreshes >= 2


def test_v1_expired_answer_60011_also_refreshes(short_server: InProcessServer) -> None:
    api = _short_api(short_server, version="v1")
    api.login("Shorty", "secret_123")
    short_server.clock.advance(2.2)
    assert api.me()["account"] == "Shorty"
    assert api.refreshes == 1


def test_refresh_is_tried_only_once(short_server: InProcessServer) -> None:
    """When the refreshed token is refused too, the error is raised, not retried forever."""
    api = _short_api(short_server)
    api.login("Shorty", "secret_123")
    calls: list[str] = []
    real_call = api.call

    def counting(path: str, params: dict | None = None, *, token: str | None = None):  # type: ignore[no-untyped-def]
        calls.append(path)
        if path == "/test":
            return real_call(path, params, token="not-a-token")
        return real_call(path, params, token=token)

    api.call = counting  # type: ignore[method-assign]
    with pytest.raises(ApiError) as caught:
        api.me()
    assert caught.value.code == 9908
    assert calls == ["/test", "/login/jwt/refresh", "/test"]


@pytest.mark.parametrize("version, code", [("v1", 60001), ("v2", 50006)])
def test_refusals_raise_api_error_with_code_message_status(server: LiveServer, user: dict, version: str,
                                                           code: int) -> None:
    api = LoginApiClient(server.url, SIGN_SECRET, version=version, lang="en")
    with pytest.raises(ApiError) as caught:
        api.login(user["account"], "wrong_password_1")
    error = caught.value
    assert (error.code, error.status) == (code, 401)
    assert "password" in error.message and error.body is not None
    wrong = LoginApiClient(server.url, "not-the-secret", version=version)
    with pytest.raises(ApiError) as caught:
        wrong.captcha()
    assert (caught.value.code, caught.value.status) == ((60007 if version == "v1" else 9907), 401)
    assert caught.value.message == "签名错误"


def test_unreachable_server_is_an_api_error() -> None:
    with pytest.raises(ApiError) as caught:
        LoginApiClient("http://127.0.0.1:9", "x", timeout=2).captcha()
    assert caught.value.code == 0 and "no answer" in caught.value.message


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "client", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


def test_command_line(server: LiveServer, user: dict, tmp_path: Path) -> None:
    common = ["--base-url", server.url, "--secret", SIGN_SECRET, "--token-file", str(tmp_path / "tokens.json")]
    done = _cli("login", *common, "--account", user["account"], "--password", user["password"])
    assert done.returncode == 0, done.stderr
    assert set(json.loads(done.stdout)) == {"jwt", "refresh_jwt"}
    assert (tmp_path / "tokens.json").stat().st_mode & 0o077 == 0
    done = _cli("status", *common)
    assert done.returncode == 0 and json.loads(done.stdout)["uid"] == user["uid"], done.stderr
    done = _cli("refresh", *common)
    assert done.returncode == 0 and json.loads(done.stdout)["jwt"], done.stderr
    done = _cli("me", *common)
    assert done.returncode == 0 and json.loads(done.stdout)["account"] == user["account"], done.stderr
    done = _cli("logout", *common)
    assert done.returncode == 0, done.stderr
    done = _cli("me", *common)
    assert done.returncode == 1 and "not logged in: log in first" in done.stderr
    assert "login()" not in done.stderr.split("(", 1)[0]  # the command line names its own command first
    done = _cli("login", *common, "--account", user["account"], "--password", "wrong_password_1", "--version", "v1",
                "--lang", "en")
    assert done.returncode == 1 and done.stderr.startswith("error 60001 (HTTP 401): Wrong password")
    assert _cli("status", "--base-url", server.url, "--token-file", str(tmp_path / "t.json")).returncode == 2


def test_readme_shows_the_client_and_its_example_runs(server: LiveServer, user: dict,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in ("login", "status", "refresh", "logout"):
        assert f"python -m client {command}" in readme
    [snippet] = re.findall(r"^```py\n(from client import.*?)^```$", readme, re.S | re.M)
    snippet = (snippet.replace('"http://127.0.0.1:8000"', repr(server.url))
               .replace('secret="…"', f"secret={SIGN_SECRET!r}"))
    assert user["account"] == "Foo"  # the example's user; tests/test_readme_walk.py runs it with its password
    snippet, count = re.subn(r'api\.login\("Foo", "123456"\)', f'api.login("Foo", {user["password"]!r})', snippet)
    assert count == 1
    exec(compile(snippet, "README.md", "exec"), {"__name__": "readme_client"})
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "50006 401 User Foo is not registered or the password is wrong"


@pytest.mark.skipif(importlib.util.find_spec("wheel") is None,
                    reason="`wheel` is not installed (requirements.txt pins it): pip cannot build the package offline")
def test_pip_installs_the_client_with_its_command(tmp_path: Path) -> None:
    """`pip install ./client` makes `login-api-client`: the package and its command, outside the repository.
    Offline: a venv that sees this interpreter's pip, setuptools and wheel (none copied into it: ensurepip
    took most of this test's time), no index, no dependencies fetched."""
    source = tmp_path / "src"
    shutil.copytree(ROOT / "client", source, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True,
                   timeout=120)
    done = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                           "--no-build-isolation", str(source)], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path, env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    help_text = subprocess.run([str(venv / "bin" / "login-api-client"), "--help"], capture_output=True, text=True,
                               timeout=60, cwd=tmp_path)
    assert help_text.returncode == 0, help_text.stderr
    assert help_text.stdout.startswith("usage: login-api-client") and "login" in help_text.stdout
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import client; print(client.__file__)"],
                           capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert where.stdout.startswith(str(venv)), where.stdout  # the installed copy, not the repository's


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_admin_api_and_exports_saved_to_files(server: LiveServer, user: dict, version: str, tmp_path: Path) -> None:
    account = f"clientadmin{version}"
    server.create_user(account, "1390000100" + version[1], "secret_123", admin=True)
    api = LoginApiClient(server.url, SIGN_SECRET, version=version)
    api.login(account, "secret_123")
    listed = api.admin("user/list", keyword=user["account"])
    assert [row["uid"] for row in listed["list"]] == [user["uid"]]
    assert api.admin("audit/list", uid=user["uid"], limit=1)["limit"] == 1
    saved = api.export("user", tmp_path / "users.csv", keyword=user["account"])
    assert saved.read_bytes().startswith("\ufeffuid,account,phone".encode("utf-8"))
    workbook = api.export("audit", tmp_path / "audit.xlsx", format="xlsx", event="login")
    assert workbook.read_bytes()[:2] == b"PK"  # a zip, as every XLSX is
    with pytest.raises(ApiError) as caught:
        api.export("audit", tmp_path / "bad.csv", format="pdf")
    assert (caught.value.code, caught.value.status) == ((60006 if version == "v1" else 9906), 400)
    assert not (tmp_path / "bad.csv").exists()
    plain = LoginApiClient(server.url, SIGN_SECRET, version=version)
    plain.login(user["account"], user["password"])
    with pytest.raises(ApiError) as refused:
        plain.export("user", tmp_path / "nope.csv")
    assert (refused.value.code, refused.value.status) == ((60018 if version == "v1" else 9914), 403)
