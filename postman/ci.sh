#!/usr/bin/env bash
# The Postman collection, run by newman against a live server: `bash postman/ci.sh` (from .ci/run).
#
# 1. newman from npm into a temporary prefix (or $NEWMAN, a newman binary you already have);
# 2. `python server.py` on a free port with APP_DEBUG=1 (the SMS code comes back), SIGN_SECRET from the
#    environment file, a fresh RUNTIME_DIR (SQLite), and the environment's administrator created;
# 3. the collection must pass; then a run with a deliberately wrong secret must FAIL.
# Exits 0 only when both happen; every step is bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${POSTMAN_PYTHON:-python}  # the virtualenv's python (.ci/run puts it first on PATH)
NEWMAN_VERSION=6.2.2
COLLECTION=postman/login-api.postman_collection.json
ENVIRONMENT=postman/login-api.postman_environment.json

work=$(mktemp -d "${TMPDIR:-/tmp}/login-api-newman.XXXXXX")
server_pid=""
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

newman=${NEWMAN:-}
if [ -z "$newman" ]; then
    echo "installing newman@$NEWMAN_VERSION into $work/newman"
    timeout 300 npm install --prefix "$work/newman" --no-audit --no-fund --loglevel=error "newman@$NEWMAN_VERSION"
    newman="$work/newman/node_modules/.bin/newman"
fi
"$newman" --version

env_value() {  # KEY: its value in the environment file
    "$PYTHON" -c 'import json, sys
print(next(v["value"] for v in json.load(open(sys.argv[1], encoding="utf-8"))["values"] if v["key"] == sys.argv[2]))' \
        "$ENVIRONMENT" "$1"
}

port=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base_url="http://127.0.0.1:$port"
server_env=(env -u DATABASE_URL -u REDIS_URL -u SIGN_APPS -u SIGN_REQUIRED -u JWT_SECRET -u DEFAULT_VERSION
            RUNTIME_DIR="$work/runtime" APP_DEBUG=1 SIGN_SECRET="$(env_value sign_secret)" LOG_LEVEL=warning
            SMS_IP_LIMIT=1000 SMS_VERIFY_IP_LIMIT=1000 LOGIN_IP_LIMIT=1000)  # two whole runs from one address

echo "creating the environment's administrator ($(env_value admin_account))"
timeout 60 "${server_env[@]}" "$PYTHON" server.py user:create --account "$(env_value admin_account)" \
    --phone "$(env_value admin_phone)" --password "$(env_value admin_password)" --admin

echo "starting the server on $base_url (APP_DEBUG=1, fresh RUNTIME_DIR)"
"${server_env[@]}" "$PYTHON" server.py --port "$port" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 150); do
    if "$PYTHON" -c 'import sys, urllib.request
try:
    urllib.request.urlopen(sys.argv[1] + "/openapi.json", timeout=1)
except Exception:
    sys.exit(1)' "$base_url"; then
        break
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "the server exited:"; cat "$work/server.log"; exit 1
    fi
    sleep 0.2
done

status=0
echo "newman run $COLLECTION (must pass)"
timeout 300 "$newman" run "$COLLECTION" -e "$ENVIRONMENT" --env-var "base_url=$base_url" \
    --timeout-request 20000 --color off --disable-unicode || status=$?
if [ "$status" -ne 0 ]; then
    echo "!!! the Postman collection FAILED against a live server (newman exit $status); server log:"
    tail -n 50 "$work/server.log"
    exit 1
fi

echo "newman run $COLLECTION with sign_method=hmac-sha256 (SPEC §13.1; must pass)"
timeout 300 "$newman" run "$COLLECTION" -e "$ENVIRONMENT" --env-var "base_url=$base_url" \
    --env-var "sign_method=hmac-sha256" --timeout-request 20000 --color off --disable-unicode || status=$?
if [ "$status" -ne 0 ]; then
    echo "!!! the Postman collection FAILED with HMAC-SHA256 signatures (newman exit $status); server log:"
    tail -n 50 "$work/server.log"
    exit 1
fi

echo "newman run $COLLECTION with a wrong sign_secret (must fail)"
wrong=0
timeout 300 "$newman" run "$COLLECTION" -e "$ENVIRONMENT" --env-var "base_url=$base_url" \
    --env-var "sign_secret=deliberately-wrong-secret" --bail --timeout-request 20000 --color off \
    --disable-unicode >"$work/wrong.log" 2>&1 || wrong=$?
if [ "$wrong" -eq 0 ]; then
    cat "$work/wrong.log"
    echo "!!! the collection PASSED with a wrong secret: the pre-request signing or the server's check is broken"
    exit 1
fi
echo "as required, it failed (newman exit $wrong); its first failures:"
grep -E "AssertionError|expected" "$work/wrong.log" | head -n 6 || true
echo "postman: the collection passes with the right secret and fails with a wrong one"
