"""Outputs are written whole or not at all, never through a symlink, private ones 0600/0700."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from edscan.cli import cli
from edscan.errors import EdscanError
from edscan.files import atomic_writer, make_dir, write_atomic


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_an_exception_mid_write_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.write_text("old report")
    with pytest.raises(RuntimeError), atomic_writer(target) as fh:
        fh.write(b"half of the new")
        raise RuntimeError("killed")
    assert target.read_text() == "old report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary left


def test_a_process_killed_mid_write_leaves_old_or_new(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")
    script = textwrap.dedent(
        f"""
        import os, signal
        from edscan.files import atomic_writer
        with atomic_writer({str(target)!r}) as fh:
            fh.write(b"new, partly")
            fh.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], check=False)
    assert proc.returncode == -9
    assert target.read_text() == "old"
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from edscan.files import write_atomic; write_atomic({str(target)!r}, 'new')",
        ],
        check=True,
    )
    assert target.read_text() == "new"


def test_a_symlink_is_replaced_not_written_through(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / "report.html"
    link.symlink_to(victim)
    write_atomic(link, "report")
    assert not link.is_symlink() and link.read_text() == "report"
    assert victim.read_text() == "keep me"


def test_a_capture_symlink_is_replaced_not_written_through(tmp_path: Path) -> None:
    from edscan.capture.capture_file import CaptureWriter

    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / "s.edscan.jsonl"
    link.symlink_to(victim)
    CaptureWriter(link).close()
    assert not link.is_symlink() and link.read_text().startswith('{"format"')
    assert victim.read_text() == "keep me"
    assert _mode(link) == 0o600


def test_modes(tmp_path: Path) -> None:
    write_atomic(tmp_path / "private.json", "{}", private=True)
    write_atomic(tmp_path / "public.html", "<p>")
    assert _mode(tmp_path / "private.json") == 0o600
    umask = os.umask(0o022)
    os.umask(umask)
    assert _mode(tmp_path / "public.html") == 0o666 & ~umask
    made = make_dir(tmp_path / "a" / "b", private=True)
    assert _mode(made) == 0o700
    existing = tmp_path / "mine"
    existing.mkdir(mode=0o755)
    make_dir(existing, private=True)
    assert _mode(existing) == 0o755  # the user's own folder is left as it is


def test_unwritable_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EdscanError, match="cannot write"):
        write_atomic(tmp_path / "missing" / "x.html", "x")
    with pytest.raises(EdscanError, match="is a directory"):
        write_atomic(tmp_path, "x")


@pytest.mark.parametrize(
    "args",
    [
        ["persona", "new", "--seed", "1", "-o", "{out}", "--force"],
        ["declared", "new", "-o", "{out}", "--force"],
    ],
)
def test_commands_replace_a_symlink(tmp_path: Path, args: list[str]) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "out.toml"
    out.symlink_to(victim)
    res = CliRunner().invoke(cli, [a.format(out=out) for a in args])
    assert res.exit_code == 0, res.output
    assert victim.read_text() == "keep me"
    assert not out.is_symlink() and out.stat().st_size > 0
    if args[0] == "persona":
        assert _mode(out) == 0o600
