"""Every API route (ThinkPHP doc: Route::post('/:ver/login', ':ver.Login/login')).

Paths match case-insensitively; a path without a version is served as DEFAULT_VERSION.
"""
from app.common.route import Route

# ThinkPHP document
Route.post("/<ver>/login", "<ver>.Login/login")
Route.post("/<ver>/test", "<ver>.Login/test").middleware("checkLogin")

# Hyperf document (login endpoints never check permissions: 登录相关不会进行权限验证)
Route.post("/<ver>/login/register", "<ver>.Login/register")
Route.post("/<ver>/login/send/sms", "<ver>.Login/send_sms")
Route.post("/<ver>/login/jwt/get", "<ver>.Jwt/get")
Route.post("/<ver>/login/jwt/refresh", "<ver>.Jwt/refresh")
Route.post("/<ver>/login/jwt/deactivate", "<ver>.Jwt/deactivate")
Route.post("/<ver>/login/jwt/status", "<ver>.Jwt/status")

# Account lifecycle (SPEC §11): SMS login, passwords, phone, sessions, deletion
Route.post("/<ver>/login/sms", "<ver>.Account/login_sms")
Route.post("/<ver>/password/reset", "<ver>.Account/password_reset")
Route.post("/<ver>/password/change", "<ver>.Account/password_change").middleware("checkLogin")
Route.post("/<ver>/phone/change", "<ver>.Account/phone_change").middleware("checkLogin")
Route.post("/<ver>/account/delete", "<ver>.Account/delete").middleware("checkLogin")
Route.post("/<ver>/session/list", "<ver>.Session/list").middleware("checkLogin")
Route.post("/<ver>/session/end", "<ver>.Session/end").middleware("checkLogin")

# QR-code login and the member code (SPEC §12: 二维码, 条形码): the page creates and polls, the app scans and decides
Route.post("/<ver>/qrlogin/create", "<ver>.QrLogin/create")
Route.post("/<ver>/qrlogin/poll", "<ver>.QrLogin/poll")
for action in ("scan", "confirm", "cancel"):
    Route.post(f"/<ver>/qrlogin/{action}", f"<ver>.QrLogin/{action}").middleware("checkLogin")
Route.post("/<ver>/member/code", "<ver>.Member/code").middleware("checkLogin")
Route.post("/<ver>/member/verify", "<ver>.Member/verify").middleware("checkLogin", "checkPermission:member/verify")

# RSA password transport (SPEC §13.2): the key that password fields may be encrypted with
Route.post("/<ver>/crypto/key", "<ver>.Crypto/key")

# Image captcha (Hyperf sidebar: 验证码), required at login after failures (SPEC §8)
Route.post("/<ver>/captcha", "<ver>.Login/captcha")

# Role API (Hyperf sidebar: 角色相关); checkPermission without an argument requires the path, e.g. role/create
for action in ("list", "create", "update", "delete", "assign", "user"):
    Route.post(f"/<ver>/role/{action}", f"<ver>.Role/{action}").middleware("checkLogin", "checkPermission")

# Admin user API and exports (SPEC §14); each action's permission drops the `admin/` prefix: user/list, audit/export
for action in ("list", "disable", "enable", "sessions", "logout", "export"):
    Route.post(f"/<ver>/admin/user/{action}", f"<ver>.Admin/user_{action}").middleware(
        "checkLogin", f"checkPermission:user/{action}")
for action in ("list", "export"):
    Route.post(f"/<ver>/admin/audit/{action}", f"<ver>.Admin/audit_{action}").middleware(
        "checkLogin", f"checkPermission:audit/{action}")

# Pages outside the versions, unsigned (app/controller/docs.py): the OpenAPI document, the
# interactive docs page and its assets, served by the app itself so the page works offline.
Route.get("/openapi.json", "Docs/openapi")
# The public keys of JWT_ALG = EdDSA / ES256 / RS256, for services that verify our tokens (SPEC §13.4)
Route.get("/.well-known/jwks.json", "Jwks/keys")
Route.get("/docs", "Docs/page")
for asset in ("swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "docs.css", "docs.js", "sign.js",
              "md5.js"):
    Route.get(f"/docs/{asset}", "Docs/asset")

# The QR login demo page (app/controller/qrpage.py): creates a ticket, shows its QR code, polls.
Route.get("/qrlogin", "QrPage/page")
Route.get("/qrlogin/qrlogin.js", "QrPage/script")

# Operations (SPEC §14, app/controller/health.py, metrics.py): probes and Prometheus metrics, unsigned.
Route.get("/health", "Health/health")
Route.get("/ready", "Health/ready")
Route.get("/metrics", "Metrics/page")
