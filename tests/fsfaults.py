"""Real file-system faults for the storage tests: files and folders the OS refuses to write.

Not a mock: SQLite meets a genuinely unwritable file, exactly as on a read-only volume or with
a wrong owner. Tests usually run as root, and root ignores file permissions, so `chmod` alone
cannot make a file read-only for it; the immutable attribute (`chattr +i`, ext4/xfs/btrfs)
stops root too. As any other user, taking away the write bits does the job. Where neither
works (a file system without attributes, no `chattr`), the test is skipped, not faked.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest


class ReadOnly:
    """`read_only(path, ...)` makes paths unwritable for this process and its children;
    `clear()` (also run at the end of the test) makes them writable again."""

    def __init__(self) -> None:
        self._modes: dict[Path, int] = {}  # path -> its mode before (non-root only)
        self._immutable: list[Path] = []  # paths given the immutable attribute (root)

    def __call__(self, *paths: Path) -> None:
        for path in paths:
            if os.geteuid() == 0:
                self._make_immutable(path)
            else:
                self._modes.setdefault(path, stat.S_IMODE(path.stat().st_mode))
                path.chmod(self._modes[path] & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
            if os.access(path, os.W_OK):
                self.clear()
                pytest.skip(f"cannot make {path.name} read-only on this file system")

    def _make_immutable(self, path: Path) -> None:
        chattr = shutil.which("chattr")
        if chattr is None:
            pytest.skip("running as root without chattr: no way to make a file read-only")
        done = subprocess.run([chattr, "+i", str(path)], capture_output=True, check=False)
        if done.returncode != 0:
            self.clear()
            pytest.skip(f"chattr +i is not supported here: {done.stderr.decode().strip()}")
        self._immutable.append(path)

    def clear(self) -> None:
        """Undo every fault (idempotent), so the fault "clears" and tmp_path can be removed."""
        while self._immutable:
            path = self._immutable.pop()
            chattr = shutil.which("chattr") or "chattr"
            subprocess.run([chattr, "-i", str(path)], check=True)
        for path, mode in self._modes.items():
            path.chmod(mode)
        self._modes.clear()
