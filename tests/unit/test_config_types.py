"""The typed Settings class and the config modules' SETTINGS lists declare the same keys, with
the same types, so neither can drift from the other; and a loaded Settings cannot be changed."""
from __future__ import annotations

import dataclasses
import typing
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path

import pytest

from config import Settings, all_settings, load_settings

# Keys that load_settings() parses into another type than their cast gives (config/setting.py _derive).
DERIVED = {
    "VERSIONS": list[str],
    "SIGN_METHODS": frozenset[str],
    "SIGN_APPS": dict[str, str],
    "LOGIN_LOCK_STEPS": list[int],
    "TRUSTED_PROXIES": list[IPv4Network | IPv6Network],
}
# Attributes that are not keys of their own: derived from one, or about the secrets.
EXTRA = {
    "SIGN_APP_METHODS": dict[str, str],
    "secret_files": dict[str, Path],
    "generated_secrets": frozenset[str],
}
SECRETS = {"SIGN_SECRET": "sign-secret-for-config-tests", "JWT_SECRET": "j" * 32, "DATA_KEY": "d" * 32}


def cast_type(cast: typing.Callable[[str], typing.Any]) -> typing.Any:
    """What a cast yields: the type itself, or a checking function's declared return type."""
    return cast if isinstance(cast, type) else typing.get_type_hints(cast)["return"]


def test_every_declared_setting_is_a_typed_field_and_nothing_else() -> None:
    fields = {f.name for f in dataclasses.fields(Settings)}
    declared = {s.name for s in all_settings()}
    assert fields - set(EXTRA) == declared
    assert set(DERIVED) <= declared


def test_each_fields_type_is_what_its_cast_or_derivation_gives() -> None:
    hints = typing.get_type_hints(Settings)
    for setting in all_settings():
        expected = DERIVED.get(setting.name, cast_type(setting.cast))
        assert hints[setting.name] == expected, setting.name
        if setting.name not in DERIVED:  # the default is used as it is, uncast: it must be of the type
            assert type(setting.default) is expected, setting.name
    for name, expected in EXTRA.items():
        assert hints[name] == expected, name


def test_loaded_values_have_their_fields_types(tmp_path: Path) -> None:
    settings = load_settings({**SECRETS, "RUNTIME_DIR": str(tmp_path), "TRUSTED_PROXIES": "10.0.0.0/8",
                              "SIGN_APPS": "ios:s1:md5", "WEBHOOK_TIMEOUT": 2}, environ={},
                             env_file=tmp_path / ".env")
    for name, hint in typing.get_type_hints(Settings).items():
        value = getattr(settings, name)
        assert isinstance(value, typing.get_origin(hint) or hint), name


def test_settings_cannot_be_changed_after_load(tmp_path: Path) -> None:
    settings = load_settings({**SECRETS, "RUNTIME_DIR": str(tmp_path)}, environ={}, env_file=tmp_path / ".env")
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.APP_DEBUG = True  # type: ignore[misc]
    with pytest.raises((AttributeError, TypeError)):
        settings.NOT_A_SETTING = 1  # type: ignore[attr-defined]
    assert settings.APP_DEBUG is False
    assert "j" * 32 not in repr(settings) and repr(settings).startswith("<Settings debug=False db='sqlite:")
