/* The request signature of SPEC §4, in plain JavaScript: one source for the docs page (/docs/sign.js)
 * and the Postman collection's pre-request script (postman/build.py embeds this file as it is).
 *
 * The string to sign: every parameter (query string and body together) except `sign` and except
 * null or "" values, sorted by name (code point order), written name=value and joined with "&",
 * then "&key=" and the secret. Values: strings as they are; numbers as the server's JSON reader
 * and Python write them; true/false; arrays and objects as compact JSON with sorted keys and
 * non-ASCII left as is. sign = md5(UTF-8 bytes of that string), 32 hex digits.
 */
function loginApiCompareCodePoints(a, b) {
  var x = Array.from(a), y = Array.from(b);
  for (var i = 0; i < x.length && i < y.length; i++) {
    var d = x[i].codePointAt(0) - y[i].codePointAt(0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/* Python's repr() of a float: the shortest round-trip digits (as JavaScript finds them), written in
 * exponent form when the exponent is below -4 or from 16 on, and with ".0" when it is whole. */
function loginApiPythonFloat(x) {
  if (!isFinite(x)) throw new Error("not a JSON number: " + x);
  var m = x.toExponential().match(/^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/);
  var sign = m[1], digits = m[2] + (m[3] || ""), exp = parseInt(m[4], 10);
  if (exp < -4 || exp >= 16) {
    var abs = Math.abs(exp);
    return sign + digits[0] + (digits.length > 1 ? "." + digits.slice(1) : "") +
      "e" + (exp < 0 ? "-" : "+") + (abs < 10 ? "0" : "") + abs;
  }
  if (exp < 0) return sign + "0." + "0".repeat(-exp - 1) + digits;
  if (digits.length <= exp + 1) return sign + digits + "0".repeat(exp + 1 - digits.length) + ".0";
  return sign + digits.slice(0, exp + 1) + "." + digits.slice(exp + 1);
}

/* A number as the server writes it: the JSON the client sends holds a whole number below 1e21 as
 * digits (an integer for the server), anything else as a float. */
function loginApiNumberText(x) {
  if (Number.isInteger(x) && Math.abs(x) < 1e21) return String(x);
  return loginApiPythonFloat(x);
}

/* json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True) */
function loginApiJson(value) {
  if (value === null || value === undefined) return "null";
  if (value === true) return "true";
  if (value === false) return "false";
  if (typeof value === "number") return loginApiNumberText(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "[" + value.map(loginApiJson).join(",") + "]";
  return "{" + Object.keys(value).sort(loginApiCompareCodePoints).map(function (key) {
    return JSON.stringify(key) + ":" + loginApiJson(value[key]);
  }).join(",") + "}";
}

function loginApiValueText(value) {
  if (typeof value === "string") return value;
  return loginApiJson(value);
}

/* The string to sign for `params` (an object: query string and body together) and `secret`. */
function loginApiCanonical(params, secret) {
  var parts = Object.keys(params).filter(function (name) {
    var value = params[name];
    return name !== "sign" && value !== null && value !== undefined && value !== "";
  }).sort(loginApiCompareCodePoints).map(function (name) {
    return name + "=" + loginApiValueText(params[name]);
  });
  parts.push("key=" + secret);
  return parts.join("&");
}

/* A fresh nonce: 8-64 characters of [A-Za-z0-9_-]. */
function loginApiNonce() {
  return (Date.now().toString(36) + Math.random().toString(36).slice(2, 12) +
    Math.random().toString(36).slice(2, 12)).slice(0, 24);
}

var LoginApiSign = {
  canonical: loginApiCanonical,
  valueText: loginApiValueText,
  json: loginApiJson,
  nonce: loginApiNonce
};
if (typeof module === "object" && module && module.exports) module.exports = LoginApiSign;
if (typeof window === "object" && window) window.LoginApiSign = LoginApiSign;
