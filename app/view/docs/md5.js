/* md5 of a string's UTF-8 bytes, as 32 lowercase hex digits (RFC 1321), for the docs page,
 * which has no CryptoJS. Checked against node's crypto in tests/api/test_postman.py. */
(function (root) {
  "use strict";
  var S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
  var K = [];
  for (var i = 0; i < 64; i++) K[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 4294967296) >>> 0;

  function hex(word) {
    var out = "";
    for (var i = 0; i < 4; i++) out += ((word >>> (i * 8)) & 255).toString(16).padStart(2, "0");
    return out;
  }

  function md5(text) {
    var bytes = new TextEncoder().encode(String(text));
    var length = bytes.length;
    var blocks = ((length + 8) >>> 6) + 1;
    var M = new Uint32Array(blocks * 16);
    for (var i = 0; i < length; i++) M[i >>> 2] |= bytes[i] << ((i % 4) * 8);
    M[length >>> 2] |= 0x80 << ((length % 4) * 8);
    M[blocks * 16 - 2] = (length * 8) >>> 0;
    M[blocks * 16 - 1] = Math.floor(length / 0x20000000);
    var a0 = 0x67452301, b0 = 0xefcdab89, c0 = 0x98badcfe, d0 = 0x10325476;
    for (var block = 0; block < blocks; block++) {
      var A = a0, B = b0, C = c0, D = d0;
      for (var j = 0; j < 64; j++) {
        var F, g;
        if (j < 16) { F = (B & C) | (~B & D); g = j; }
        else if (j < 32) { F = (D & B) | (~D & C); g = (5 * j + 1) % 16; }
        else if (j < 48) { F = B ^ C ^ D; g = (3 * j + 5) % 16; }
        else { F = C ^ (B | ~D); g = (7 * j) % 16; }
        F = (F + A + K[j] + M[block * 16 + g]) >>> 0;
        A = D; D = C; C = B;
        var s = S[(j >>> 4) * 4 + (j % 4)];
        B = (B + ((F << s) | (F >>> (32 - s)))) >>> 0;
      }
      a0 = (a0 + A) >>> 0; b0 = (b0 + B) >>> 0; c0 = (c0 + C) >>> 0; d0 = (d0 + D) >>> 0;
    }
    return hex(a0) + hex(b0) + hex(c0) + hex(d0);
  }

  if (typeof module === "object" && module && module.exports) module.exports = md5;
  if (root) root.loginApiMd5 = md5;
})(typeof window === "object" ? window : null);
