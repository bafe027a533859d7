"""Trained models kept on disk, so a restart with unchanged content skips training (and
the packed English word list, so it skips packing it).

A model is named by the fingerprint of what it was trained on (phrasings, features and
training parameters), so a stale one is never used: changed content simply asks for a
name that is not there yet. The cache is only a speed-up — any failure to read or write
it is logged and the model is trained in memory as if there were no cache.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)

KEEP = 8  # most recently used models kept; older ones are deleted when one is written


def default_directory() -> Path:
    """`MODEL_CACHE_DIR`, else the user's cache directory (XDG), like pip's and ruff's."""
    configured = os.environ.get("MODEL_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "b12-cramp-helper" / "models"


class ModelDirectory:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or default_directory()

    def _path(self, key: str) -> Path:
        return self.directory / f"intent-{key}.npz"

    def get(self, key: str) -> bytes | None:
        """The model's bytes; its file is touched, so the models in use are the ones kept."""
        path = self._path(key)
        try:
            data = path.read_bytes()
            os.utime(path)
            return data
        except FileNotFoundError:
            return None
        except OSError as error:
            logger.warning("model cache unreadable (%s); training instead", error)
            return None

    def put(self, key: str, data: bytes) -> None:
        """Written to a temporary file and renamed: a reader never sees half a model."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.directory, delete=False) as file:
                file.write(data)
            # Readable by all (temporary files are 0600): the Docker image trains as root at
            # build time and runs as the unprivileged `bot` user.
            os.chmod(file.name, 0o644)
            os.replace(file.name, self._path(key))
            models = sorted(self.directory.glob("intent-*.npz"), key=lambda p: p.stat().st_mtime)
            for old in models[:-KEEP]:
                old.unlink(missing_ok=True)
        except OSError as error:
            logger.warning("model cache not written (%s); the model lives in memory only", error)
