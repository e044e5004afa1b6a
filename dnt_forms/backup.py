"""A consistent copy of the instance's databases while the service runs.

SQLite's online backup copies a database page by page under its own
locks, so writers are never blocked for long and the copy is a snapshot.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from pathlib import Path

from flask import current_app

from .errors import DntFormsError

logger = logging.getLogger(__name__)

DATABASES = ("private.db", "public.db")


def backup(dest: Path) -> list[Path]:
    """Copy each database (and the config) into `dest`; return the copies."""
    dest.mkdir(parents=True, exist_ok=True)
    instance = Path(current_app.instance_path)
    taken = [n for n in (*DATABASES, "config.py") if (dest / n).exists()]
    if taken:
        raise DntFormsError(
            f"{dest} contient déjà {', '.join(taken)} : choisissez un dossier vide, "
            "une copie n'en écrase pas une autre."
        )
    written = []
    for name in DATABASES:
        source_path = instance / name
        if not source_path.exists():
            continue
        target_path = dest / name
        # Password and token hashes: readable by the owner only.
        target_path.touch(mode=0o600)
        source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
        target = sqlite3.connect(target_path)
        try:
            with target:
                source.backup(target)
        finally:
            target.close()
            source.close()
        written.append(target_path)
        logger.info("backed up %s to %s", source_path, target_path)
    for name in ("config.py", "secret_key"):
        extra = instance / name
        if extra.exists():
            shutil.copy2(extra, dest / name)
            written.append(dest / name)
    return written
