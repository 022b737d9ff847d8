"""Events (队列): the outbox and its webhook consumer (README "Events")."""
from config.setting import Setting

SETTINGS = [
    # Empty: no event is recorded and no consumer runs.
    Setting("WEBHOOK_URL", "", str, "URL every event is POSTed to, in order, one consumer at a time"),
    # Receivers check X-Webhook-Signature: sha256=HMAC(body) under this key.
    Setting("WEBHOOK_SECRET", "", str,
            "HMAC-SHA256 key of `X-Webhook-Signature` (generated into runtime/ when unset)", secret=True),
    Setting("WEBHOOK_TIMEOUT", 5.0, float, "seconds one delivery may take; must be under half of EVENTS_LEASE_TTL"),
    # After a failed delivery: wait RETRY_MIN, then twice as long each time, at most RETRY_MAX.
    Setting("WEBHOOK_RETRY_MIN", 1.0, float, "seconds before the first retry of a failed delivery"),
    Setting("WEBHOOK_RETRY_MAX", 300.0, float, "longest wait between retries (the wait doubles up to it)"),
    # The consumer's lease: renewed while it delivers, taken over when its holder stops renewing.
    Setting("EVENTS_LEASE_TTL", 30.0, float,
            "seconds a consumer's lease lasts without renewal (a dead consumer's events wait this long)"),
    Setting("EVENTS_POLL", 1.0, float, "seconds between looks for new events or a free lease"),
]
