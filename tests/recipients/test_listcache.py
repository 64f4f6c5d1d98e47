"""The compiled cache of the bundled lists: keyed by content, private, rebuilt when broken."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from edscan.recipients import listcache
from edscan.recipients.trackers import BUNDLED_FILES, bundled_layer
from edscan.resources import resource


def _raw(name: str) -> bytes:
    return resource("tracker_lists", name).read_bytes()


def test_first_load_writes_a_private_cache_the_next_load_reads(tmp_path: Path) -> None:
    name = BUNDLED_FILES[0]
    fresh = bundled_layer(name, tmp_path)
    path = listcache.cache_path(tmp_path, _raw(name))
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert listcache.read_cached(tmp_path, _raw(name)) is not None
    cached = bundled_layer(name, tmp_path)
    assert cached.entries == fresh.entries and cached.sdk_rules == fresh.sdk_rules
    assert cached.info == fresh.info
    assert not list(path.parent.glob(".list-*"))  # no temporary file left behind


@pytest.mark.parametrize("content", [b"", b"\x00garbage", b"\xe9" * 100])
def test_a_corrupt_cache_is_rebuilt(tmp_path: Path, content: bytes) -> None:
    name = BUNDLED_FILES[1]
    expected = bundled_layer(name, None)
    path = listcache.cache_path(tmp_path, _raw(name))
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    assert listcache.read_cached(tmp_path, _raw(name)) is None
    assert bundled_layer(name, tmp_path).entries == expected.entries
    assert listcache.read_cached(tmp_path, _raw(name)) is not None  # rewritten


def test_a_cache_of_the_wrong_shape_or_key_is_not_used(tmp_path: Path) -> None:
    import marshal

    raw = b'[list]\nname = "x"\n'
    path = listcache.cache_path(tmp_path, raw)
    path.parent.mkdir(parents=True)
    path.write_bytes(marshal.dumps(("another key", {"list": {"name": "y"}})))
    assert listcache.read_cached(tmp_path, raw) is None
    path.write_bytes(marshal.dumps([1, 2, 3]))
    assert listcache.read_cached(tmp_path, raw) is None
    listcache.write_cached(tmp_path, raw, {"list": {"name": "x"}})
    assert listcache.read_cached(tmp_path, raw) == {"list": {"name": "x"}}


def test_a_changed_list_gets_a_new_key(tmp_path: Path) -> None:
    raw = _raw(BUNDLED_FILES[0])
    changed = raw + b"\n# edited\n"
    assert listcache.cache_key(raw) != listcache.cache_key(changed)
    listcache.write_cached(tmp_path, raw, {"a": 1})
    assert listcache.read_cached(tmp_path, changed) is None
    assert listcache.cache_path(tmp_path, raw) != listcache.cache_path(tmp_path, changed)


def test_an_unreadable_or_unwritable_cache_falls_back_to_parsing(tmp_path: Path) -> None:
    name = BUNDLED_FILES[2]
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    layer = bundled_layer(name, tmp_path)
    assert layer.entries == bundled_layer(name, None).entries
    assert blocker.is_file()


def test_data_marshal_cannot_hold_is_simply_not_cached(tmp_path: Path) -> None:
    from datetime import date

    listcache.write_cached(tmp_path, b"x", {"when": date(2026, 1, 1)})
    assert listcache.read_cached(tmp_path, b"x") is None


def test_a_cached_list_of_another_shape_is_parsed_again(tmp_path: Path) -> None:
    """What a cache holds is the parsed list (records checked and normalised); an entry of any
    other shape (the raw TOML an older edscan stored, a hand edit) is parsed again, not trusted."""
    import tomllib

    name = BUNDLED_FILES[0]
    raw = _raw(name)
    listcache.write_cached(tmp_path, raw, tomllib.loads(raw.decode()))
    assert bundled_layer(name, tmp_path).entries == bundled_layer(name, None).entries
    stored = listcache.read_cached(tmp_path, raw)
    assert stored is not None and set(stored) == {"entries", "rules", "meta"}  # rewritten
    listcache.write_cached(tmp_path, raw, {"entries": [("x",)], "rules": [], "meta": {}})
    assert bundled_layer(name, tmp_path).entries == bundled_layer(name, None).entries
