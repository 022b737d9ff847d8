"""THE error catalog: every answer the API can give, named once, with its codes and messages.

v1 speaks the ThinkPHP document (`errorcode`, 60000 up), v2 the Hyperf document (`code`, 99xx
and 500xx). Messages may hold `{placeholders}` filled from the raising site. The README's error
table is rendered from this list (`python server.py docs:readme`); a test keeps them equal.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Answer:
    """One catalog entry: an error or a success, as each version states it."""

    name: str
    v1: int
    v2: int
    http: int
    zh: str
    en: str
    # v2 (Hyperf) writes some messages differently from v1; None means the same as v1.
    v2_zh: str | None = None
    v2_en: str | None = None

    def message(self, version: str, lang: str) -> str:
        if version != "v1":
            text = self.v2_en if lang == "en" else self.v2_zh
            if text is not None:
                return text
        return self.en if lang == "en" else self.zh

    def code(self, version: str) -> int:
        return self.v1 if version == "v1" else self.v2


_V2_INVALID = ("数据验证失败，原因如下：{reason}", "Data validation failed: {reason}")
_V2_AUTH = ("认证失败：{reason}", "Authentication failed: {reason}")

CATALOG: tuple[Answer, ...] = (
    # Successes: v1 names the action, v2 always says "ok" (Hyperf doc).
    Answer("OK", 0, 200, 200, "成功", "Success", "ok", "ok"),
    Answer("LOGIN_OK", 0, 200, 200, "登录成功", "Login successful", "ok", "ok"),
    Answer("CREATED", 0, 200, 201, "创建成功", "Created", "ok", "ok"),
    # Fixed by the documents (SPEC §3).
    Answer("USERNAME_INVALID", 60000, 9906, 400, "用户名不正确", "Username is not valid", *_V2_INVALID),
    Answer("LOGIN_FAILED", 60001, 50006, 401, "密码不正确", "Wrong password",
           "用户 {account} 未注册或者密码错误", "User {account} is not registered or the password is wrong"),
    Answer("CAPTCHA_WRONG", 60002, 50012, 400, "验证码错误", "Wrong verification code"),
    Answer("REQUEST_EXPIRED", 60003, 9903, 400, "请求超时",
           "Request expired: the timestamp is outside the allowed window"),
    Answer("UNKNOWN_ERROR", 60004, 9900, 500, "未知错误（请求编号 {request_id}）",
           "Unknown error (request id {request_id})"),
    Answer("TIMESTAMP_INVALID", 60005, 9902, 400, "时间戳不正确", "Timestamp is missing or malformed"),
    # v1 states the validator's reason as it is (ThinkPHP's getError()), with the field's own code.
    Answer("PARAM_INVALID", 60006, 9906, 400, "{reason}", "{reason}", *_V2_INVALID),
    Answer("SIGN_INVALID", 60007, 9907, 401, "签名错误", "Wrong signature"),
    Answer("PARAMS_UNREADABLE", 60008, 9909, 400, "参数获取失败", "Parameters could not be read: {reason}"),
    Answer("USER_NOT_FOUND", 60009, 50006, 401, "用户不存在", "User does not exist"),
    Answer("TOKEN_INVALID", 60010, 9908, 401, "无权访问", "Access denied: log in again", *_V2_AUTH),
    Answer("TOKEN_EXPIRED", 60011, 9908, 401, "登录过期", "Login expired: log in again", *_V2_AUTH),
    Answer("SMS_STILL_VALID", 60025, 50017, 400, "短信还在有效期内, 请勿重复发送",
           "The SMS code is still valid; do not send again"),
    # Our own, v1 from 60012 up, v2 in 99xx (request level) and 500xx (business level).
    Answer("ROUTE_NOT_FOUND", 60012, 9904, 404, "接口不存在", "No such API route"),
    Answer("METHOD_NOT_ALLOWED", 60013, 9905, 405, "请求方法不允许", "Method not allowed"),
    Answer("BODY_TOO_LARGE", 60014, 9910, 413, "请求体过大", "Request body too large"),
    Answer("UNSUPPORTED_MEDIA_TYPE", 60015, 9911, 415, "不支持的内容类型", "Unsupported content type"),
    Answer("REQUEST_REPLAYED", 60016, 9912, 401, "重复的请求",
           "Replayed request: this nonce or signature was already used"),
    Answer("LOGIN_THROTTLED", 60017, 9913, 429, "登录失败次数过多，请稍后再试",
           "Too many failed logins from this address; try again later"),
    Answer("PERMISSION_DENIED", 60018, 9914, 403, "没有权限", "Permission denied"),
    Answer("SERVICE_UNAVAILABLE", 60019, 9915, 503, "服务暂不可用，请稍后再试",
           "Service temporarily unavailable; try again later"),
    Answer("ACCOUNT_TAKEN", 60020, 50001, 400, "用户名已被注册", "Account is already registered"),
    Answer("PHONE_TAKEN", 60021, 50002, 400, "手机号已被注册", "Phone number is already registered"),
    Answer("SMS_CODE_WRONG", 60022, 50003, 400, "短信验证码错误或已失效", "The SMS code is wrong or has expired"),
    Answer("SMS_SEND_FAILED", 60023, 50004, 502, "短信发送失败，请稍后再试",
           "The SMS could not be sent; try again later"),
    Answer("SMS_LIMITED", 60024, 50005, 429, "该手机号今日短信发送次数已达上限",
           "This phone has had its SMS for today; try again tomorrow"),
    Answer("CAPTCHA_REQUIRED", 60026, 50011, 400, "请输入图形验证码", "A captcha is required"),
    Answer("NOT_FOUND", 60027, 50010, 404, "记录不存在", "Not found"),
    Answer("ROLE_NAME_TAKEN", 60028, 50013, 400, "角色名已存在", "A role with this name already exists"),
    Answer("SMS_CLIENT_LIMITED", 60030, 50007, 429, "该地址发送短信过多，请稍后再试",
           "Too many SMS from this address; try again later"),
    Answer("SMS_TOTAL_LIMITED", 60031, 50008, 429, "短信发送繁忙，请稍后再试",
           "The SMS service is busy; try again later"),
    Answer("SMS_VERIFY_LIMITED", 60032, 50009, 429, "短信验证码错误次数过多，请稍后再试",
           "Too many wrong SMS codes from this address; try again later"),
    Answer("ROLE_PROTECTED", 60029, 50014, 403, "内置角色不能修改或删除",
           "The built-in role cannot be changed or deleted"),
    Answer("PERMISSION_ESCALATION", 60033, 50015, 403, "不能授予或收回自己没有的权限",
           "You cannot grant or take away permissions you do not hold yourself"),
    # SPEC §10: the last active user holding `*` keeps it, whoever asks.
    Answer("LAST_ADMIN", 60037, 50023, 403, "不能移除最后一位管理员的全部权限",
           "The last active administrator cannot lose the `*` permission"),
    # SPEC §14 admin user API: an administrator cannot lock themselves out.
    Answer("SELF_DISABLE", 60050, 50040, 403, "不能禁用自己的账号", "You cannot disable your own account"),
    # SPEC §11 fixes these codes; v1 shares 60001 with LOGIN_FAILED (the password field's code, SPEC §3).
    Answer("OLD_PASSWORD_WRONG", 60001, 50019, 400, "当前密码错误", "The current password is wrong"),
    # Another refresh of the same token is still being answered; retrying gets its answer.
    Answer("REFRESH_IN_PROGRESS", 60040, 50030, 409, "令牌正在刷新，请稍后重试",
           "This refresh token is being refreshed right now; retry in a moment"),
    # SPEC §12 fixes these codes: QR login tickets and member codes.
    Answer("QR_TICKET_INVALID", 60034, 50020, 400, "二维码已失效，请刷新",
           "The QR login ticket is unknown, used up or expired"),
    Answer("QR_TICKET_STATE", 60035, 50021, 409, "二维码当前状态不允许此操作",
           "The QR login ticket's state does not allow this action"),
    Answer("MEMBER_CODE_INVALID", 60036, 50022, 400, "会员码无效或已过期",
           "The member code is unknown, used or expired"),
    # SPEC §13.2 fixes these codes: a password field that does not decrypt (unknown or retired kid,
    # a damaged ciphertext) or, with PASSWORD_TRANSPORT=rsa, one sent in clear. One message for all.
    Answer("ENCRYPTED_FIELD_INVALID", 60038, 50024, 400, "加密字段无效，请重新获取公钥后加密",
           "An encrypted field is invalid; fetch the key from crypto/key and encrypt again"),
)

BY_NAME: dict[str, Answer] = {answer.name: answer for answer in CATALOG}


def answer(name: str) -> Answer:
    """The catalog entry called `name` (a KeyError is a programming error, caught by tests)."""
    return BY_NAME[name]


class ApiException(Exception):
    """Raised anywhere; the exception handler renders it in the request's version envelope."""

    def __init__(self, name: str, *, headers: dict[str, str] | None = None,
                 field: str | None = None, **fields: object):
        super().__init__(name)
        self.answer = BY_NAME[name]
        self.fields = fields
        self.headers = headers or {}
        # The parameter that failed: v1 answers a validation error with that field's code.
        self.field = field

    def code(self, version: str) -> int:
        """The code this error answers with in `version`."""
        if version == "v1" and self.answer.name == "PARAM_INVALID" and self.field is not None:
            return V1_FIELD_CODES.get(self.field, self.answer.v1)
        return self.answer.code(version)


# SPEC §3 (每一个字段至少定义一个错误码): in v1 a validation failure answers with its field's code.
V1_FIELD_CODES: dict[str, int] = {
    "username": 60000, "account": 60000, "phone": 60000,
    "password": 60001, "pwd": 60001, "password_confirmation": 60001, "old_password": 60001,
    "code": 60002, "captcha_id": 60002, "captcha_code": 60002,
    "timestamp": 60005,
    "sign": 60007,
}
