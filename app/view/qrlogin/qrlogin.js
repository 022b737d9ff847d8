/* The QR login demo page: create a ticket, show its QR code, long-poll until the app decides.
 * Requests are signed in the browser (sign.js + md5.js) with the secret typed into the page; for
 * scripted runs the page also takes it from the fragment (#secret=…&appid=…), which browsers never
 * send to a server. The poll secret stays in this page's memory only. */
(function () {
  "use strict";
  var WAIT = 20; // seconds a poll may wait for a change (the server allows 0-25)

  function field(id) { return document.getElementById(id); }
  function show(id, text) { field(id).textContent = text; }

  function call(path, params, token) {
    var body = Object.assign({}, params, { timestamp: Math.floor(Date.now() / 1000), nonce: LoginApiSign.nonce() });
    var appid = field("appid").value.trim();
    if (appid) body.appid = appid;
    var headers = { "Content-Type": "application/json",
                    sign: loginApiMd5(LoginApiSign.canonical(body, field("secret").value)) };
    if (token) headers.Authorization = "Bearer " + token;
    return fetch("/v2" + path, { method: "POST", headers: headers, body: JSON.stringify(body) })
      .then(function (response) { return response.json(); })
      .then(function (envelope) {
        if (!envelope.status) throw new Error(envelope.code + ": " + envelope.msg);
        return envelope.data;
      });
  }

  function poll(ticket, secret) {
    return call("/qrlogin/poll", { ticket: ticket, poll_secret: secret, wait: WAIT }).then(function (data) {
      if (data.state === "scanned") show("state", "scanned by " + data.account + ": waiting for confirmation");
      else show("state", data.state);
      if (data.state === "confirmed") return loggedIn(data);
      if (data.state === "cancelled" || data.state === "expired") {
        field("qrcode").hidden = true;
        return null;
      }
      return poll(ticket, secret);
    });
  }

  function loggedIn(data) {
    field("qrcode").hidden = true;
    return call("/test", {}, data.jwt).then(function (me) {
      show("result", "logged in as " + me.account + " (uid " + me.uid + ")");
    });
  }

  function start() {
    show("result", "");
    show("state", "creating…");
    call("/qrlogin/create", { platform: "web" }).then(function (data) {
      field("qrcode").src = data.qrcode;
      field("qrcode").hidden = false;
      show("ticket", data.ticket);
      show("state", "pending: scan it with the app");
      console.log("qrlogin ticket " + data.ticket);
      return poll(data.ticket, data.poll_secret);
    }).catch(function (error) {
      show("state", "error");
      show("result", String(error.message || error));
    });
  }

  window.addEventListener("load", function () {
    var given = new URLSearchParams(window.location.hash.slice(1));
    field("start").addEventListener("submit", function (event) { event.preventDefault(); start(); });
    if (given.get("secret")) {
      field("secret").value = given.get("secret");
      field("appid").value = given.get("appid") || "";
      history.replaceState(null, "", window.location.pathname); // out of the address bar and history
      start();
    }
  });
})();
