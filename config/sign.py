"""Request signing (the Common base controller): timestamp window, nonce, md5 sign."""
from config.setting import Setting


def _transport(value: str) -> str:
    text = str(value).strip().lower()
    if text not in ("plain", "rsa"):
        raise ValueError(f"{value!r} is neither `plain` nor `rsa`")
    return text


def _positive(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError(f"{value!r} is not a positive number of seconds")
    return number


SETTINGS = [
    Setting("SIGN_REQUIRED", True, bool, "`0` switches the timestamp, nonce and sign checks off"),
    Setting("SIGN_SECRET", "", str,
            "the default app's secret; generated into `runtime/secrets/` on first start", secret=True),
    # An app written `name:secret:hmac-sha256` accepts only that method (SPEC §13.1).
    Setting("SIGN_APPS", "", str, "more apps selected by `appid`: `ios:secret1,android:secret2:hmac-sha256`"),
    # md5 is the seeds' §4 signature; hmac-sha256 (header `sign-method: hmac-sha256`) signs the raw request.
    Setting("SIGN_METHODS", "md5,hmac-sha256", str, "signature methods accepted: `md5`, `hmac-sha256`, or both"),
    # A timestamp may be this far off the server's clock either way; nonces are kept twice as long.
    Setting("SIGN_WINDOW", 300, int, "seconds a timestamp may be off"),
    # SPEC §13.2: password fields may arrive as `rsa:<kid>:<ciphertext>` under a key from /crypto/key;
    # `rsa` refuses them in clear (ENCRYPTED_FIELD_INVALID), for deployments without TLS end to end.
    Setting("PASSWORD_TRANSPORT", "plain", _transport,
            "`plain` accepts clear and RSA-encrypted passwords, `rsa` only encrypted ones"),
    # A new key pair is made when the current one is this old; the old one decrypts for a day more.
    Setting("RSA_KEY_TTL", 604800, _positive, "seconds an RSA password-transport key is current (7 days)"),
]
