"""SMS codes: lifetime, sending driver, limits."""
from config.setting import Setting

SETTINGS = [
    Setting("SMS_TTL", 300, int, "seconds an SMS code stays valid"),
    Setting("SMS_DRIVER", "log", str, "`log` (writes the message to the log) or `webhook`"),
    Setting("SMS_WEBHOOK_URL", "", str, "URL the `webhook` driver POSTs `{phone, code, message}` to"),
    Setting("SMS_WEBHOOK_TIMEOUT", 5, int, "seconds the webhook driver waits"),
    Setting("SMS_DAILY_LIMIT", 10, int, "SMS sends per phone per day"),
    Setting("SMS_VERIFY_ATTEMPTS", 5, int, "wrong tries that burn an SMS code"),
    # Mainland mobile numbers by default; other markets set their own pattern.
    Setting("PHONE_PATTERN", r"^1[3-9]\d{9}$", str, "regular expression a phone number must match"),
    # SPEC §11: login/sms for an unknown phone signs it up (an account without a password).
    Setting("SMS_LOGIN_REGISTER", True, bool,
            "`1` lets `login/sms` create an account for an unknown phone; `0` refuses it as a wrong code"),
]
