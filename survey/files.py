"""Replacing a file so that readers see the old or the new one, never half of it."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def write_atomically(path: Path, data: bytes, *, mode: int | None = None,
                     new_mode: int = 0o644) -> None:
    """Write `data` to a temporary file beside `path`, fsync it and rename it over `path`.

    The file gets `mode` when given; otherwise an existing file keeps its mode and a new
    one gets `new_mode`. An existing file's owner and group are kept where we may set them
    (services such as Mosquitto read their files after dropping root).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    old = path.stat() if path.exists() else None
    final_mode = mode if mode is not None else (old.st_mode & 0o7777 if old else new_mode)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), final_mode)
            if old is not None:
                with contextlib.suppress(PermissionError):
                    os.fchown(f.fileno(), old.st_uid, old.st_gid)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
