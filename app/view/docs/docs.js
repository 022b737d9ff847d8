/* The docs page: Swagger UI on /openapi.json, with "Try it out" requests signed in the browser
 * (sign.js + md5.js) with the secret typed into the page; nothing leaves this server. */
(function () {
  "use strict";
  var STORE = "loginApiDocs";

  function field(id) { return document.getElementById(id); }

  function saved() {
    try { return JSON.parse(window.sessionStorage.getItem(STORE) || "{}"); } catch (e) { return {}; }
  }

  function save() {
    try {
      window.sessionStorage.setItem(STORE, JSON.stringify({ secret: field("secret").value, appid: field("appid").value }));
    } catch (e) { /* storage may be off; the fields still work */ }
  }

  /* Adds timestamp, nonce (and appid) to a JSON body and the `sign` header over query + body. */
  function signRequest(request) {
    if (String(request.method || "").toUpperCase() !== "POST" || !field("autosign").checked) return request;
    var body = {};
    if (typeof request.body === "string" && request.body.trim()) {
      try { body = JSON.parse(request.body); } catch (e) { return request; }
    }
    if (!body || typeof body !== "object" || Array.isArray(body)) return request;
    body.timestamp = Math.floor(Date.now() / 1000);
    body.nonce = LoginApiSign.nonce();
    var appid = field("appid").value.trim();
    if (appid) body.appid = appid; else delete body.appid;
    if (body.token === "string") delete body.token; // Swagger UI's placeholder
    var params = {};
    var url = new URL(request.url, window.location.href);
    url.searchParams.forEach(function (value, key) { params[key] = value; });
    Object.keys(body).forEach(function (key) { params[key] = body[key]; });
    var secret = field("secret").value;
    request.body = JSON.stringify(body);
    request.headers = request.headers || {};
    request.headers["Content-Type"] = "application/json";
    if (field("signmethod").value === "hmac-sha256") return signHmac(request, url, body, secret, appid);
    delete request.headers["sign-method"];
    var canonical = LoginApiSign.canonical(params, secret);
    request.headers.sign = loginApiMd5(canonical);
    field("canonical").textContent = canonical.slice(0, canonical.length - secret.length) + "•".repeat(secret.length);
    return request;
  }

  /* SPEC §13.1 with the browser's WebCrypto (this page is served from this server, a secure context
   * on localhost; elsewhere serve it over HTTPS). Swagger UI waits for the returned promise. */
  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function sha256Hex(text) {
    return window.crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)).then(hex);
  }

  function hmacSha256(keyBytes, text) {
    return window.crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"])
      .then(function (key) { return window.crypto.subtle.sign("HMAC", key, new TextEncoder().encode(text)); });
  }

  function signHmac(request, url, body, secret, appid) {
    var header = request.headers.Authorization || request.headers.authorization || "";
    var pairs = LoginApiSign.queryPairs(url.search.slice(1));
    return sha256Hex(request.body).then(function (bodyHash) {
      var canonical = LoginApiSign.canonicalRequest("POST", url.pathname, pairs, "application/json", header, bodyHash);
      return sha256Hex(canonical).then(function (canonicalHash) {
        var toSign = LoginApiSign.stringToSign(body.timestamp, appid, canonicalHash);
        return hmacSha256(new TextEncoder().encode("LOGIN4" + secret), LoginApiSign.day(body.timestamp))
          .then(function (dayKey) { return hmacSha256(dayKey, toSign); })
          .then(function (signature) {
            request.headers["sign-method"] = "hmac-sha256";
            request.headers.sign = hex(signature);
            field("canonical").textContent = toSign.replace(/\n/g, " ⏎ ");
            return request;
          });
      });
    });
  }

  window.addEventListener("load", function () {
    var state = saved();
    field("secret").value = state.secret || "";
    field("appid").value = state.appid || "";
    // no inline handler: the page's Content-Security-Policy allows no inline script
    field("signer").addEventListener("submit", function (event) { event.preventDefault(); });
    field("secret").addEventListener("input", save);
    field("appid").addEventListener("input", save);
    // The page's own header already gives the title and how to sign: Swagger UI shows the rest of
    // the document's description, once.
    fetch("/openapi.json").then(function (response) { return response.json(); }).then(function (spec) {
      spec.info.description = String(spec.info.description || "").split("\n## Signing a request")[0];
      window.ui = SwaggerUIBundle({
        spec: spec,
        dom_id: "#swagger-ui",
        deepLinking: true,
        presets: [SwaggerUIBundle.presets.apis],
        layout: "BaseLayout",
        defaultModelsExpandDepth: 0,
        docExpansion: "list",
        validatorUrl: null, // the validator badge would load from validator.swagger.io
        requestInterceptor: signRequest
      });
    });
  });
})();
