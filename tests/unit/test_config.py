"""Settings: precedence, types, derived values, generated secrets, SIGN_APPS."""
from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

from config import ConfigError, Settings, all_settings, load_settings
from config.setting import ROOT

SECRETS = {"SIGN_SECRET": "sign-secret-for-config-tests", "JWT_SECRET": "j" * 32, "DATA_KEY": "d" * 32}


def load(tmp_path: Path, overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None,
         env_text: str | None = None) -> Settings:
    """Settings from exactly these sources: never the real environment or the project's .env."""
    env_file = tmp_path / ".env"
    if env_text is not None:
        env_file.write_text(env_text, encoding="utf-8")
    overrides = {"RUNTIME_DIR": str(tmp_path / "runtime"), **(overrides or {})}
    return load_settings(overrides, environ=environ or {}, env_file=env_file)


def test_defaults(tmp_path: Path) -> None:
    s = load(tmp_path, SECRETS)
    assert s.APP_DEBUG is False
    assert s.SIGN_REQUIRED is True
    assert (s.SIGN_WINDOW, s.TOKEN_TTL, s.JWT_TTL, s.REFRESH_TTL) == (300, 7200, 86400, 2592000)
    assert (s.AUTH_DRIVER, s.APP_TIMEZONE, s.DEFAULT_VERSION) == ("md5", "Asia/Shanghai", "v2")
    assert s.VERSIONS == ["v1", "v2"]
    assert s.MAX_BODY_SIZE == 65536
    assert s.SIGN_APPS == {}
    assert s.LOGIN_REVEAL_UNKNOWN is False
    runtime = tmp_path / "runtime"
    assert s.RUNTIME_DIR == str(runtime)
    assert s.DATABASE_URL == f"sqlite:///{runtime / 'app.db'}"
    assert s.CACHE_PATH == str(runtime / "cache.lmdb")
    assert s.CACHE_MAP_SIZE == 4096


def test_precedence_override_then_environment_then_env_file_then_default(tmp_path: Path) -> None:
    env_text = "# a comment\nTOKEN_TTL=100\nSIGN_WINDOW=111\nAPP_TIMEZONE=UTC\n"
    environ = {"TOKEN_TTL": "200", "SIGN_WINDOW": "222"}
    s = load(tmp_path, {**SECRETS, "TOKEN_TTL": 300}, environ, env_text)
    assert s.TOKEN_TTL == 300            # override
    assert s.SIGN_WINDOW == 222          # environment over .env
    assert s.APP_TIMEZONE == "UTC"       # .env over default
    assert s.JWT_TTL == 86400            # default
    assert load(tmp_path, SECRETS, {}, env_text).TOKEN_TTL == 100
    assert load(tmp_path, SECRETS, environ).TOKEN_TTL == 200


def test_env_file_quotes_and_spaces(tmp_path: Path) -> None:
    s = load(tmp_path, SECRETS, env_text='APP_TIMEZONE="Europe/Berlin"\nTOKEN_TTL= 60 \nAPP_DEBUG=1\n')
    assert (s.APP_TIMEZONE, s.TOKEN_TTL, s.APP_DEBUG) == ("Europe/Berlin", 60, True)


def test_missing_env_file_is_fine(tmp_path: Path) -> None:
    s = load_settings({**SECRETS, "RUNTIME_DIR": str(tmp_path)}, environ={}, env_file=tmp_path / "no" / ".env")
    assert s.TOKEN_TTL == 7200


@pytest.mark.parametrize("text, value", [
    ("1", True), ("true", True), ("TRUE", True), ("yes", True), ("on", True), (" 1 ", True),
    ("0", False), ("false", False), ("no", False), ("off", False), ("", False),
])
def test_booleans(tmp_path: Path, text: str, value: bool) -> None:
    assert load(tmp_path, SECRETS, {"APP_DEBUG": text}).APP_DEBUG is value


def test_typed_overrides_are_kept(tmp_path: Path) -> None:
    s = load(tmp_path, {**SECRETS, "TOKEN_TTL": 60, "APP_DEBUG": True, "SIGN_REQUIRED": "0"})
    assert (s.TOKEN_TTL, s.APP_DEBUG, s.SIGN_REQUIRED) == (60, True, False)


def test_versions_and_default_version_are_normalised(tmp_path: Path) -> None:
    s = load(tmp_path, {**SECRETS, "VERSIONS": " V1, v2 ,", "DEFAULT_VERSION": " V1 "})
    assert (s.VERSIONS, s.DEFAULT_VERSION) == (["v1", "v2"], "v1")


def test_relative_runtime_dir_is_under_the_project_root(tmp_path: Path) -> None:
    s = load_settings({**SECRETS, "RUNTIME_DIR": "runtime"}, environ={}, env_file=tmp_path / ".env")
    assert s.RUNTIME_DIR == str(ROOT / "runtime")


@pytest.mark.parametrize("name, value", [
    ("APP_DEBUG", "maybe"),
    ("SIGN_REQUIRED", "2"),
    ("TOKEN_TTL", "abc"),
    ("TOKEN_TTL", "1.5"),
    ("TOKEN_TTL", "0"),
    ("TOKEN_TTL", "-5"),
    ("JWT_TTL", "0"),
    ("REFRESH_TTL", "-1"),
    ("SIGN_WINDOW", "0"),
    ("MAX_BODY_SIZE", "64k"),
    ("MAX_BODY_SIZE", "0"),
    ("VERSIONS", " , "),
    ("DEFAULT_VERSION", "v3"),
    ("SIGN_APPS", "ios"),
    ("SIGN_APPS", "ios:"),
    ("SIGN_APPS", ":secret"),
    ("SIGN_APPS", "ios:a,android"),
    ("AUTH_DRIVER", "rsa"),
    ("JWT_SECRET", "too-short"),
])
def test_bad_values_are_config_errors(tmp_path: Path, name: str, value: str) -> None:
    others = {k: v for k, v in SECRETS.items() if k != name}
    with pytest.raises(ConfigError, match=name):
        load(tmp_path, environ={**others, name: value})
    with pytest.raises(ConfigError, match=name):   # the same from .env
        load(tmp_path, environ=others, env_text=f"{name}={value}\n")
    with pytest.raises(ConfigError, match=name):   # and as an override
        load(tmp_path, {**others, name: value})


def test_unknown_override_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="TOKEN_TTLL"):
        load(tmp_path, {**SECRETS, "TOKEN_TTLL": 5})


def test_every_setting_is_documented() -> None:
    names = [s.name for s in all_settings()]
    assert len(names) == len(set(names))
    for setting in all_settings():
        assert setting.name.isupper() and setting.doc, setting


def test_sign_apps_parsing(tmp_path: Path) -> None:
    s = load(tmp_path, {**SECRETS, "SIGN_APPS": " ios:secret1 , android:secret2,web:a:b ,"})
    assert s.SIGN_APPS == {"ios": "secret1", "android": "secret2", "web": "a:b"}
    assert load(tmp_path, {**SECRETS, "SIGN_APPS": ""}).SIGN_APPS == {}


# -- generated secrets ---------------------------------------------------------------------------

def test_secrets_are_generated_once_into_runtime_with_mode_0600(tmp_path: Path) -> None:
    first = load(tmp_path)
    folder = tmp_path / "runtime" / "secrets"
    files = {"SIGN_SECRET": folder / "sign_secret", "JWT_SECRET": folder / "jwt_secret",
             "DATA_KEY": folder / "data_key"}
    assert first.secret_files == files
    for name, path in files.items():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_text().strip() == getattr(first, name)
        assert len(getattr(first, name)) >= 32
    assert stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0
    assert first.SIGN_SECRET != first.JWT_SECRET
    second = load(tmp_path)
    assert (second.SIGN_SECRET, second.JWT_SECRET) == (first.SIGN_SECRET, first.JWT_SECRET)
    # Another runtime folder gets secrets of its own.
    other = load_settings({"RUNTIME_DIR": str(tmp_path / "other")}, environ={}, env_file=tmp_path / ".env")
    assert other.SIGN_SECRET != first.SIGN_SECRET


def test_a_secret_file_is_the_bare_secret_and_a_newline_in_it_is_ignored(tmp_path: Path) -> None:
    """Clients sign with the file's raw content (`open().read()`, `fs.readFileSync`): no newline in it."""
    first = load(tmp_path)
    assert first.generated_secrets == {"SIGN_SECRET", "JWT_SECRET", "DATA_KEY"}
    path = tmp_path / "runtime" / "secrets" / "sign_secret"
    assert path.read_bytes() == first.SIGN_SECRET.encode("ascii")
    second = load(tmp_path)
    assert second.generated_secrets == frozenset() and second.SIGN_SECRET == first.SIGN_SECRET
    path.write_text(first.SIGN_SECRET + "\n")  # as an editor saves it
    assert load(tmp_path).SIGN_SECRET == first.SIGN_SECRET


def test_a_given_secret_is_used_and_nothing_is_written(tmp_path: Path) -> None:
    s = load(tmp_path, environ=dict(SECRETS))
    assert (s.SIGN_SECRET, s.JWT_SECRET) == (SECRETS["SIGN_SECRET"], SECRETS["JWT_SECRET"])
    assert s.secret_files == {}
    assert not (tmp_path / "runtime" / "secrets").exists()


def test_only_the_missing_secret_is_generated(tmp_path: Path) -> None:
    s = load(tmp_path, {"SIGN_SECRET": "given-sign-secret"})
    assert s.SIGN_SECRET == "given-sign-secret"
    assert set(s.secret_files) == {"JWT_SECRET", "DATA_KEY"}


def test_an_empty_secret_file_is_a_config_error(tmp_path: Path) -> None:
    folder = tmp_path / "runtime" / "secrets"
    folder.mkdir(parents=True)
    (folder / "sign_secret").write_text("")
    with pytest.raises(ConfigError, match="sign_secret"):
        load(tmp_path, {"JWT_SECRET": SECRETS["JWT_SECRET"]})


def test_repr_shows_no_secret(tmp_path: Path) -> None:
    s = load(tmp_path, SECRETS)
    assert SECRETS["SIGN_SECRET"] not in repr(s) and SECRETS["JWT_SECRET"] not in repr(s)
