"""Login protection: which proxies are trusted to name the client address."""
from config.setting import Setting

SETTINGS = [
    # Only these peers may set the client address through X-Forwarded-For.
    Setting("TRUSTED_PROXIES", "", str, "comma-separated addresses or CIDR blocks of trusted proxies"),
]
