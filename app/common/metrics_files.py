"""Where the workers' metric files live (prometheus_client's multiprocess mode).

Kept apart from app/common/metrics.py on purpose: prometheus_client picks its storage when it is
first imported, so the serve command must announce the folder before anything imports it.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_multiprocess_dir(runtime: str, port: int) -> Path:
    """An empty, owner-only folder for this server's metric files, announced to the workers.

    Emptied at every start (counters start from zero with the server, as Prometheus expects);
    one folder per port, so two servers sharing a runtime folder do not wipe each other's.
    """
    if "prometheus_client" in sys.modules:
        raise RuntimeError("prometheus_client was imported before its multiprocess folder was set")
    path = Path(runtime) / "metrics" / str(port)
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(mode=0o700, parents=True)
    os.environ[MULTIPROC_ENV] = str(path)
    return path
