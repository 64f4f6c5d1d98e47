"""Shared fixtures: no network, the ../shared corpus when present, temporary captures."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
DATA = Path(__file__).resolve().parent / "data"


def _is_loopback(address: object) -> bool:
    if isinstance(address, str | bytes):
        return True  # AF_UNIX paths
    if not (isinstance(address, tuple) and address):
        return False
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection from the test process to a non-loopback address fails the test."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded(kind: str, real):  # type: ignore[no-untyped-def]
        def connect(self: socket.socket, address: object):  # type: ignore[no-untyped-def]
            if not _is_loopback(address):
                raise RuntimeError(f"test tried to reach the network: {address!r} ({kind})")
            return real(self, address)

        return connect

    monkeypatch.setattr(socket.socket, "connect", guarded("connect", real_connect))
    monkeypatch.setattr(socket.socket, "connect_ex", guarded("connect_ex", real_connect_ex))


@pytest.fixture(autouse=True)
def isolated_data_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lists a developer installed in their own data directory never leak into a test."""
    monkeypatch.setenv("EDSCAN_DATA_DIR", str(tmp_path_factory.mktemp("edscan-data")))


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test where it is absent (a user's fresh clone)."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"{p} is absent (../shared is only present in the development workspace)")
    return p


@pytest.fixture
def tmp_capture(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "t.edscan.jsonl"


# Property tests (tests/fuzz): a "ci" profile sized to keep the fuzz suite well under a minute,
# derandomized so CI is repeatable; EDSCAN_FUZZ=long for longer runs with fresh examples.
def _hypothesis_profiles() -> None:
    import os

    from hypothesis import HealthCheck, settings

    common = {
        "deadline": 2000,  # ms per example: an input that takes longer is a failure
        "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
        "database": None,
    }
    settings.register_profile("ci", max_examples=400, derandomize=True, **common)  # type: ignore[arg-type]
    settings.register_profile("long", max_examples=20_000, **common)  # type: ignore[arg-type]
    settings.load_profile(os.environ.get("EDSCAN_FUZZ", "ci"))


_hypothesis_profiles()
