"""QR codes (segno) and Code 128 barcodes (python-barcode) as PNG data URLs, sized for a phone screen."""
from __future__ import annotations

import base64
import io

import segno
from barcode import Code128
from barcode.writer import ImageWriter

# About 250-300 px square whatever the content's length: big enough for a camera across a desk.
_QR_TARGET_PX = 280
_QR_BORDER = 2  # modules of quiet zone; scanners want some, a phone screen has little room
# 0.25 mm bars at 300 dpi are 3 px each: 18 digits come out about 450 x 220 px with the digits
# printed below, so a cashier can type them when the scanner fails.
_BARCODE = {"module_width": 0.25, "module_height": 12, "quiet_zone": 2.5, "font_size": 8,
            "text_distance": 3, "dpi": 300}


def _data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def qr_png(content: str) -> str:
    """`content` as a QR code (error correction M), a PNG data URL."""
    qr = segno.make(content, error="m", micro=False)
    width = qr.symbol_size(border=_QR_BORDER)[0]
    out = io.BytesIO()
    qr.save(out, kind="png", scale=max(2, _QR_TARGET_PX // width), border=_QR_BORDER)
    return _data_url(out.getvalue())


def barcode_png(code: str) -> str:
    """`code` as a Code 128 barcode with its digits printed below, a PNG data URL."""
    out = io.BytesIO()
    Code128(code, writer=ImageWriter()).write(out, options=_BARCODE)
    return _data_url(out.getvalue())
