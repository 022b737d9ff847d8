"""What RSA password transport adds to a login's CPU (SPEC §13.2), beside the argon2id check.

    python bench/rsa_login_share.py [--rounds 50]

Runs in one process, no server: per login, the work that differs between a clear and an encrypted
password is the key store's opening of the field (two indexed reads of the key rows and one
RSA-OAEP-256 decryption with a 2048-bit key); the work that dominates either way is the argon2id
verification at the default costs (config/auth.py). Prints CPU milliseconds per operation and the
decryption's share of (decryption + argon2id). The request's other work (signing, JSON, the token's
row) is left out, so the share printed is an upper bound.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def cpu_ms(fn, rounds: int) -> float:
    fn()  # warm: the first call unseals the key, the first hash allocates its memory
    start = time.process_time()
    for _ in range(rounds):
        fn()
    return (time.process_time() - start) * 1000 / rounds


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args(argv)

    import server
    from app.common import rsa_transport as rt
    from app.common.password import Passwords
    from app.service.rsa_keys import RsaKeyStore

    with tempfile.TemporaryDirectory() as runtime:
        settings = server.boot({"RUNTIME_DIR": runtime, "LOG_LEVEL": "warning",
                                "JWT_SECRET": "bench-jwt-secret-0123456789abcdef0123456789", "SIGN_SECRET": "bench"})
        store = RsaKeyStore(settings, audit=None)
        row, _ = store._current_row()
        value = rt.encrypt_for(row.kid, row.public_pem, "secret_123")
        passwords = Passwords(settings.PASSWORD_TIME_COST, settings.PASSWORD_MEMORY_COST,
                              settings.PASSWORD_PARALLELISM, 1)
        stored = passwords.hash_sync("secret_123")
        decrypt = cpu_ms(lambda: store._open(value), args.rounds)
        rsa_only = cpu_ms(lambda: rt.decrypt(store._unsealed[row.kid], rt.parse(value)[1]), args.rounds)
        argon = cpu_ms(lambda: passwords._verify_sync(stored, "secret_123"), args.rounds)
        passwords.close()
    print(f"argon2id verify (t={settings.PASSWORD_TIME_COST}, m={settings.PASSWORD_MEMORY_COST} KiB): "
          f"{argon:.2f} ms CPU")
    print(f"RSA-OAEP-256 decrypt alone (2048-bit): {rsa_only:.2f} ms CPU")
    print(f"opening the field (key rows read + decrypt): {decrypt:.2f} ms CPU")
    print(f"decryption's share of a login's password work: {100 * decrypt / (decrypt + argon):.1f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
