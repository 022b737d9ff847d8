"""Application: debug mode, API versions, time zone, request limits, runtime folder."""
from config.setting import Setting

SETTINGS = [
    # Off by default: debug mode puts SMS codes in responses and tracebacks in 500s.
    Setting("APP_DEBUG", False, bool, "debug mode: SMS codes appear in responses, a 500 carries its trace"),
    Setting("APP_TIMEZONE", "Asia/Shanghai", str, "time zone of `expire_time`, `exp_date` and `iat_date`"),
    Setting("VERSIONS", "v1,v2", str, "the API versions served, comma-separated"),
    # Unversioned paths (the Hyperf document's `/login/jwt/get`) are served as this version.
    Setting("DEFAULT_VERSION", "v2", str, "the version that unversioned paths get"),
    Setting("RUNTIME_DIR", "runtime", str,
            "folder for the SQLite files, generated secrets and logs (relative to the project root)"),
    # Bodies are read in chunks and refused (413) as soon as they pass this size.
    Setting("MAX_BODY_SIZE", 65536, int, "largest request body in bytes; larger is 413"),
    Setting("LOG_LEVEL", "info", str, "log level: debug, info, warning, error"),
    # json: one object per line ({time, level, logger, message, request_id}) for log collectors.
    Setting("LOG_FORMAT", "text", str,
            "`text` or `json` (one JSON object per line); every line carries its request id"),
    # One write (a system call, a TCP segment) per response instead of two: app/http_protocol.py.
    Setting("HTTP_COALESCE_WRITES", True, bool,
            "write each response's head and body with one send (uvicorn's httptools protocol, "
            "app/http_protocol.py); 0 runs uvicorn's own"),
]
