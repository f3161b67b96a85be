from __future__ import annotations

import subprocess
import sys

from palaute.cli import PARTS, main


def test_help_lists_every_subcommand() -> None:
    out = subprocess.run([sys.executable, "-m", "palaute", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for name in [*PARTS, "provision", "selftest", "status", "demo"]:
        assert name in out


def test_domain_error_is_one_line_with_nonzero_exit(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "nope.toml"
    code = main(["survey", "check", str(missing)])
    err = capsys.readouterr()
    assert code != 0
    lines = [line for line in (err.err + err.out).splitlines() if line]
    assert any(str(missing) in line for line in lines)
