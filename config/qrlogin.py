"""QR-code login and the member code (SPEC §12: 二维码, 条形码)."""
from config.setting import Setting

SETTINGS = [
    # Long enough to take out a phone and scan; short, since a QR code on a screen can be photographed.
    Setting("QR_LOGIN_TTL", 120, int, "seconds a QR login ticket stays usable"),
    # The app registers this scheme (or a universal link) so the phone's camera opens it.
    Setting("QR_LOGIN_URL", "loginapi://qrlogin", str, "what a QR login's QR code opens: `QR_LOGIN_URL?ticket=…`"),
    # A member code is shown at a counter and read at once; a minute keeps a photo of it from being reused later.
    Setting("MEMBER_CODE_TTL", 60, int, "seconds a member code (会员码) stays valid"),
]
