from __future__ import annotations

import stat
from pathlib import Path

from survey.files import write_atomically


def test_new_file_gets_new_mode_existing_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "secret.txt"
    write_atomically(path, b"one", new_mode=0o600)
    assert path.read_bytes() == b"one" and stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o640)
    write_atomically(path, b"two")
    assert path.read_bytes() == b"two" and stat.S_IMODE(path.stat().st_mode) == 0o640
    write_atomically(path, b"three", mode=0o644)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert sorted(p.name for p in path.parent.iterdir()) == ["secret.txt"]  # no temp left
