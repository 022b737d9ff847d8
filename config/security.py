"""Login protection: lockout, throttling, captcha and SMS limits (README "Security")."""
from config.setting import Setting

SETTINGS = [
    # Only these peers may set the client address through X-Forwarded-For.
    Setting("TRUSTED_PROXIES", "", str, "comma-separated addresses or CIDR blocks of trusted proxies"),
    Setting("LOGIN_CAPTCHA_AFTER", 3, int, "failed logins of one account after which a captcha is required"),
    Setting("LOGIN_LOCK_AFTER", 5, int, "failed logins of one account within LOGIN_WINDOW that lock it"),
    Setting("LOGIN_WINDOW", 900, int, "seconds over which an account's failed logins are counted"),
    # Each lock of the same account within a day lasts the next step; the last step repeats.
    Setting("LOGIN_LOCK_STEPS", "60,300,900", str, "lock durations in seconds, growing with each lock"),
    Setting("LOGIN_IP_LIMIT", 50, int, "failed logins per client address per hour"),
    Setting("SMS_IP_LIMIT", 20, int, "SMS sends per client address per hour"),
    Setting("SMS_VERIFY_IP_LIMIT", 50, int, "wrong SMS codes per client address per hour"),
    Setting("SMS_HOURLY_LIMIT", 1000, int, "SMS sends per hour in total"),
    Setting("SMS_CAPTCHA", False, bool, "`1` requires a captcha for send/sms too"),
    # Phones at rest (SPEC §13.3): AES-256-GCM and the blind index's HMAC keys are derived from it.
    Setting("DATA_KEY", "", str,
            "key of the phone numbers stored encrypted (AES-256-GCM and a blind index); "
            "change it only with `python server.py data:rekey`", secret=True),
    Setting("CAPTCHA_TTL", 120, int, "seconds a captcha stays valid"),
    # Tests need a known answer; accepted only with APP_DEBUG=1, and the server warns at start.
    Setting("CAPTCHA_TEST_ANSWER", "", str, "makes every captcha's answer this value (only with APP_DEBUG=1)"),
]
