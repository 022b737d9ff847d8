"""Move every stored phone to a new DATA_KEY (offline: stop the servers first); pending SMS codes are dropped."""
from __future__ import annotations

import argparse
import os
import secrets

from app.command.support import fail


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--new-key",
                        help="the new DATA_KEY (default: a random one, written to runtime/secrets/data_key); "
                             "needed when DATA_KEY is set in the environment")


def run(args: argparse.Namespace) -> int:
    from app.common import data_crypto
    from app.common.database import write_transaction
    from app.common.token.keyring import _write_private
    from app.model.base import db
    from app.model.sms_code import SmsCode
    from server import boot

    settings = boot()
    path = settings.secret_files.get("DATA_KEY")
    if path is None and not args.new_key:
        fail("DATA_KEY comes from the environment: give the new one with --new-key VALUE (then set it there), "
             "or unset DATA_KEY to use runtime/secrets/data_key")
    new_key = args.new_key or secrets.token_urlsafe(48)
    old, new = data_crypto.keys(), data_crypto.DataKeys(new_key)
    pending = None
    if path is not None:
        # Written before the commit: should the process die between the commit and the rename,
        # the key the database now needs is still on disk.
        pending = path.with_name(path.name + ".new")
        _write_private(pending, new_key.encode())
    p = db.param
    try:
        with write_transaction():
            rows = db.execute_sql("SELECT id, phone_enc FROM users WHERE phone_enc IS NOT NULL").fetchall()
            for uid, stored in rows:
                phone = old.decrypt(stored)
                db.execute_sql(f"UPDATE users SET phone_enc = {p}, phone = {p} WHERE id = {p}",
                               (new.encrypt(phone), new.blind_index(phone), uid))
            # An SMS code's phone is only an index, which cannot be recomputed; codes live minutes.
            codes = SmsCode.delete().execute()
    except BaseException:
        if pending is not None:
            pending.unlink(missing_ok=True)  # rolled back: the database still needs the old key
        raise
    if path is not None and pending is not None:  # both or neither: pending is path's ".new"
        _write_private(path.with_name(path.name + ".old"), path.read_text().strip().encode())
        os.replace(pending, path)
        where = f"the new key is in {path} (the previous one in {path.name}.old until the next rekey)"
    else:
        where = "now set DATA_KEY to the new value in the environment of every instance"
    print(f"re-encrypted {len(rows)} phones and deleted {codes} pending SMS codes (they must be sent again); {where}")
    return 0

