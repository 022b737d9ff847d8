/* The request signatures of SPEC §4 (md5) and §13.1 (HMAC-SHA256's canonical parts), in plain JavaScript: one source for the docs page (/docs/sign.js)
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

/* SPEC §13.1, HMAC-SHA256 in AWS4's shape, up to the hashing (which the page does with WebCrypto
 * and Postman with CryptoJS). `pairs`: the query's [name, value] pairs, decoded. */
function loginApiRfc3986(text) {
  return encodeURIComponent(text).replace(/[!'()*]/g, function (c) {
    return "%" + c.charCodeAt(0).toString(16).toUpperCase();
  });
}

function loginApiCanonicalQuery(pairs) {
  return pairs.filter(function (pair) { return pair[0] !== "sign"; }).map(function (pair) {
    return [loginApiRfc3986(pair[0]), loginApiRfc3986(pair[1])];
  }).sort(function (a, b) {
    return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
  }).map(function (pair) { return pair[0] + "=" + pair[1]; }).join("&");
}

/* A query string's pairs decoded as the server reads them ("+" is a space). */
function loginApiQueryPairs(queryString) {
  return String(queryString || "").split("&").filter(function (piece) { return piece !== ""; }).map(function (piece) {
    var at = piece.indexOf("="), name = at < 0 ? piece : piece.slice(0, at), value = at < 0 ? "" : piece.slice(at + 1);
    var decode = function (t) { return decodeURIComponent(t.replace(/\+/g, " ")); };
    return [decode(name), decode(value)];
  });
}

function loginApiCanonicalRequest(method, path, pairs, contentType, authorization, bodySha256Hex) {
  return [String(method).toUpperCase(), path, loginApiCanonicalQuery(pairs), "content-type:" + String(contentType || "").trim(),
    "authorization:" + String(authorization || "").trim(), bodySha256Hex].join("\n");
}

function loginApiStringToSign(timestamp, appid, canonicalSha256Hex) {
  return ["LOGIN-HMAC-SHA256", String(timestamp), appid || "", canonicalSha256Hex].join("\n");
}

/* The UTC date of a timestamp as YYYYMMDD: the message of the daily key. */
function loginApiDay(timestamp) {
  return new Date(timestamp * 1000).toISOString().slice(0, 10).replace(/-/g, "");
}

var LoginApiSign = {
  canonical: loginApiCanonical,
  valueText: loginApiValueText,
  json: loginApiJson,
  nonce: loginApiNonce,
  queryPairs: loginApiQueryPairs,
  canonicalRequest: loginApiCanonicalRequest,
  stringToSign: loginApiStringToSign,
  day: loginApiDay
};
if (typeof module === "object" && module && module.exports) module.exports = LoginApiSign;
if (typeof window === "object" && window) window.LoginApiSign = LoginApiSign;
