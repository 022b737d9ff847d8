"""Settings, ThinkPHP-style: one commented module per concern, read from the environment and `.env`.

Each module in this package lists its keys as `Setting` entries; `load_settings()` merges
them into one `Settings` object. The README's config table is rendered from the same list.
"""
from config.resolved import Settings
from config.setting import ConfigError, Setting, all_settings, load_settings

__all__ = ["ConfigError", "Setting", "Settings", "all_settings", "load_settings"]
