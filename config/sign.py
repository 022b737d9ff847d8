"""Request signing (the Common base controller): timestamp window, nonce, md5 sign."""
from config.setting import Setting

SETTINGS = [
    Setting("SIGN_REQUIRED", True, bool, "`0` switches the timestamp, nonce and sign checks off"),
    Setting("SIGN_SECRET", "", str, "the default app's secret; generated into `runtime/secrets/` on first start", secret=True),
    Setting("SIGN_APPS", "", str, "more apps selected by `appid`: `ios:secret1,android:secret2`"),
    # A timestamp may be this far off the server's clock either way; nonces are kept twice as long.
    Setting("SIGN_WINDOW", 300, int, "seconds a timestamp may be off"),
]
