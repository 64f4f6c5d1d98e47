"""The wheel is complete: built offline, installed into a fresh virtual environment, it runs
from another directory with its package data and its declared dependencies.

The fresh environment gets the wheel only; the dependencies are made visible from this
environment's site-packages through a .pth file (no network), and a check proves that what the
wheel declares is what is there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import DATA, ROOT

from edscan.capture.capture_file import CaptureWriter
from edscan.cli import cli
from edscan.models import Flow

pytestmark = pytest.mark.packaging

# what pyproject.toml ships from the top-level data folders (package-data)
SHIPPED = {"tracker_lists": {".json", ".toml", ".md"}, "reports": {".html", ".css", ".j2", ".svg"}}
_IGNORE = shutil.ignore_patterns(
    ".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "demo-out*"
)


def _tracked(*folders: str) -> list[str]:
    """Files git tracks under ``folders`` (the source tree as a fresh clone has it)."""
    if not (ROOT / ".git").exists():
        return sorted(
            str(p.relative_to(ROOT)) for f in folders for p in (ROOT / f).rglob("*") if p.is_file()
        )
    out = subprocess.run(
        ["git", "ls-files", "--", *folders], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return sorted(line for line in out.stdout.splitlines() if line)


def _run(args: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONNOUSERSITE"] = "1"
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        args, capture_output=True, text=True, env=env, timeout=180, **kw
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"  # a copy: building must not leave build/ or *.egg-info in the work tree
    shutil.copytree(ROOT, src, ignore=_IGNORE)
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "-q", "-w", str(tmp / "dist"), str(src)],
    )  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    (whl,) = (tmp / "dist").glob("edscan-*.whl")
    return whl


def test_the_wheel_holds_the_code_and_the_shipped_files(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    code = [p for p in _tracked("edscan") if p.endswith(".py")]
    assert "edscan/capture/har.py" in code  # the listing works
    missing = [p for p in code if p not in names]
    assert not missing, f"modules missing from the wheel: {missing}"
    data = [
        p
        for p in _tracked(*SHIPPED)
        if Path(p).name == "__init__.py" or Path(p).suffix in SHIPPED[p.split("/", 1)[0]]
    ]
    assert "tracker_lists/__init__.py" in data and "reports/__init__.py" in data
    missing = [p for p in data if f"edscan/{p}" not in names]
    assert not missing, f"shipped files missing from the wheel: {missing}"
    # data files inside the code tree (package-data of edscan.detect: the taxonomy)
    inside = [p for p in _tracked("edscan") if p.endswith(".json")]
    assert "edscan/detect/taxonomy.json" in inside
    missing = [p for p in inside if p not in names]
    assert not missing, f"data files missing from the wheel: {missing}"
    assert any(n.endswith("entry_points.txt") for n in names)


def test_installed_wheel_runs_from_another_directory(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    assert made.returncode == 0, made.stderr
    py = venv / "bin" / "python"
    site = Path(
        _run(
            [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
        ).stdout.strip()
    )
    # the dependencies, from this environment, without the network
    (site / "zz_edscan_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = _run(
        [sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index",
         "-q", str(wheel)],
    )  # fmt: skip
    assert installed.returncode == 0, installed.stdout + installed.stderr

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # the wheel's edscan is the one imported, and every declared dependency is satisfied
    check = _run([str(py), "-c", _CHECK], cwd=elsewhere)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.startswith(str(site)), check.stdout
    assert "requirements satisfied" in check.stdout

    edscan = venv / "bin" / "edscan"
    helped = _run([str(edscan), "--help"], cwd=elsewhere)
    assert helped.returncode == 0, helped.stderr
    assert "convert" in helped.stdout and "info" in helped.stdout

    capture = elsewhere / "s.edscan.jsonl"
    with CaptureWriter(capture) as w:
        w.write(Flow(index=0, id="a", method="GET", url="https://app.example.test/", status=200))
    info = _run([str(edscan), "info", capture.name], cwd=elsewhere)
    assert info.returncode == 0, info.stderr
    assert "flows     1" in info.stdout and "app.example.test" in info.stdout
    har = _run([str(edscan), "info", str(DATA / "har" / "chrome.har"), "-f", "json"], cwd=elsewhere)
    assert har.returncode == 0 and '"flows": 4' in har.stdout, har.stderr
    # the taxonomy loads from the wheel and says what it says from the source tree
    listed = _run([str(edscan), "elements", "-f", "json"], cwd=elsewhere)
    assert listed.returncode == 0, listed.stderr
    here = CliRunner().invoke(cli, ["elements", "-f", "json"])
    assert here.exit_code == 0 and listed.stdout == here.output


# Run inside the fresh environment: where edscan comes from, whether every requirement the
# wheel declares is installed in a satisfying version, and whether shipped files load.
_CHECK = """
import importlib.metadata as md
import edscan, edscan.resources as res
from importlib.resources import files
from packaging.requirements import Requirement
print(edscan.__file__)
dist = md.distribution("edscan")
bad = []
for raw in dist.requires or []:
    req = Requirement(raw)
    if req.marker is not None and not req.marker.evaluate({"extra": ""}):
        continue
    try:
        version = md.version(req.name)
    except md.PackageNotFoundError:
        bad.append(f"{req.name} missing")
        continue
    if not req.specifier.contains(version, prereleases=True):
        bad.append(f"{req.name} {version} does not satisfy {req.specifier}")
for kind in ("tracker_lists", "reports", "taxonomy"):
    for f in files(res._PACKAGES[kind]).iterdir():
        if f.is_file() and not f.name.endswith((".py", ".pyc")):
            res.read_text(kind, f.name)
if bad:
    raise SystemExit("; ".join(bad))
print("requirements satisfied")
"""
