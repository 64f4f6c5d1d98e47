"""Upstream list parsers: on the full real files (when ../shared is present) and on small
fixtures of our own in the same shapes (tests/data/lists)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import DATA, shared_path

from edscan.recipients import parsers, upstream
from edscan.recipients.listformat import CATEGORIES

FIX = DATA / "lists"


def _files(folder: Path, *names: str) -> dict[str, bytes]:
    return {n: (folder / n).read_bytes() for n in names if (folder / n).exists()}


def _check_vocabulary(parsed: parsers.Parsed) -> None:
    vocab = set(CATEGORIES)
    for e in parsed.entries.values():
        assert set(e.categories) <= vocab, e
    for _rx, e in parsed.regex_entries:
        assert set(e.categories) <= vocab, e


# --------------------------------------------------------------------------- fixtures


def test_adguard_fixture() -> None:
    p = parsers.parse_adguard(_files(FIX / "adguard", "trackers.json", "companies.json"))
    assert p.version == "2026-05-04"
    assert p.records == 6
    e = p.entries["sync.kidpixel-cdn.test"]
    assert (e.organization, e.categories, e.names) == (
        "KidPixel Co.",
        ("advertising",),
        ("KidPixel",),
    )
    assert p.entries["lessonstats.test"].categories == ("analytics",)
    # a company id that companies.json does not know: no owner, category still mapped
    assert p.entries["static.orphan.test"].organization is None
    assert p.entries["static.orphan.test"].categories == ("CDN / hosting",)
    assert "dangling.test" not in p.entries  # points at no tracker


def test_exodus_fixture_plain_hosts_become_suffixes_and_regexes_stay() -> None:
    p = parsers.parse_exodus(_files(FIX / "exodus", "trackers.json"))
    assert p.records == 4
    assert p.entries["kidads.test"].names == ("KidAds SDK",)
    assert p.entries["sdk.kidads-cdn.test"].categories == (
        "advertising",
        "ad-motivated tracking",
    )
    assert p.entries["crashy.test"].categories == ("error monitoring",)  # ".*\.crashy\.test"
    assert all(e.organization is None for e in p.entries.values())  # Exodus names no owners
    [(rx, entry)] = p.regex_entries
    assert rx.search("collect7.odd.test") and entry.names == ("Odd Regex",)


def test_duckduckgo_fixture_owner_parent_and_app_list() -> None:
    files = _files(FIX / "duckduckgo", "extension-tds.json", "android-tds.json")
    p = parsers.parse_duckduckgo(files)
    r = p.entries["replaykids.test"]
    assert (r.organization, r.parent) == ("ReplayKids", "Example Holdings")
    assert r.categories == ("session replay", "analytics")
    assert p.entries["exampleholdings.test"].organization == "Example Holdings"  # domains map
    assert p.entries["app.kidads.test"].organization == "KidAds Mobile"  # android-tds
    assert p.entries["quiet.test"].categories == ()
    assert p.records == 4
    # the app list is optional
    alone = parsers.parse_duckduckgo({"extension-tds.json": files["extension-tds.json"]})
    assert "app.kidads.test" not in alone.entries


def test_disconnect_fixture_flags_paths_and_entities() -> None:
    p = parsers.parse_disconnect(_files(FIX / "disconnect", "services.json", "entities.json"))
    assert p.entries["replaykids.test"].categories == ("analytics", "session replay")
    assert p.entries["lessonstats.test"].categories == ("analytics",)  # "performance" flag
    assert p.entries["videobox.test"].categories == ("video / embedded content",)
    assert "kidpixel.test/some/path" not in p.entries  # a path rule, not a host
    assert p.entries["kidpixel-home.test"].organization == "KidPixel"  # from entities.json
    assert p.records == 4


def test_ghostery_fixture() -> None:
    p = parsers.parse_ghostery(_files(FIX / "ghostery", "trackerdb.json"))
    k = p.entries["kidpixel.test"]
    assert (k.organization, k.categories, k.names) == (
        "KidPixel Company",
        ("advertising",),
        ("KidPixel Tag",),
    )
    assert p.entries["helper.test"].organization is None
    assert p.entries["helper.test"].categories == ()  # "utilities" maps to nothing


@pytest.mark.parametrize(
    ("parser", "files", "message"),
    [
        (parsers.parse_adguard, {"trackers.json": b"{}", "companies.json": b"{}"}, "trackers"),
        (parsers.parse_adguard, {"trackers.json": b'{"trackers": {}'}, "not valid JSON"),
        (parsers.parse_exodus, {"trackers.json": b'{"trackers": []}'}, "must be an object"),
        (parsers.parse_exodus, {"trackers.json": b'{"trackers": {}}'}, "empty"),
        (parsers.parse_duckduckgo, {"extension-tds.json": b"[1, 2]"}, "must be an object"),
        (parsers.parse_disconnect, {"services.json": b'{"categories": {}}'}, "empty"),
        (parsers.parse_ghostery, {"trackerdb.json": b'{"patterns": {}}'}, "domains"),
        (parsers.parse_psl, {"public_suffix_list.dat": b"com\nnet\n"}, "ICANN"),
        (parsers.parse_psl, {}, "missing"),
    ],
)
def test_schema_errors_name_the_problem(parser, files, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        parser(files)


def test_sniff_recognises_each_fixture_by_content() -> None:
    seen = {}
    for path in sorted(FIX.rglob("*.json")):
        seen[str(path.relative_to(FIX))] = parsers.sniff(path.name, path.read_bytes())
    assert seen == {
        "adguard/companies.json": ("adguard-companiesdb", "companies.json"),
        "adguard/trackers.json": ("adguard-companiesdb", "trackers.json"),
        "disconnect/entities.json": ("disconnect", "entities.json"),
        "disconnect/services.json": ("disconnect", "services.json"),
        "duckduckgo/android-tds.json": ("duckduckgo-tds", "android-tds.json"),
        "duckduckgo/extension-tds.json": ("duckduckgo-tds", "extension-tds.json"),
        "exodus/trackers.json": ("exodus", "trackers.json"),
        "ghostery/trackerdb.json": ("ghostery-trackerdb", "trackerdb.json"),
    }
    assert parsers.sniff("x.json", b'{"hello": 1}') is None
    assert parsers.sniff("x.bin", b"\x00\x01") is None


def test_data_dir_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EDSCAN_DATA_DIR", str(tmp_path / "env"))
    assert upstream.resolve_data_dir(None) == tmp_path / "env"
    assert upstream.resolve_data_dir(tmp_path / "given") == tmp_path / "given"
    monkeypatch.delenv("EDSCAN_DATA_DIR")
    assert upstream.resolve_data_dir(None).name == "edscan"  # the per-user data directory


# --------------------------------------------------------------------------- the real files


def test_adguard_real_files() -> None:
    folder = shared_path("tracker-sources", "adguard-companiesdb")
    p = parsers.parse_adguard(_files(folder, "trackers.json", "companies.json"))
    raw = json.loads((folder / "trackers.json").read_bytes())
    assert p.records == len(raw["trackerDomains"]) > 5000
    assert len(p.entries) > 5000
    assert p.version == raw["timeUpdated"][:10]
    assert p.entries["google-analytics.com"].organization == "Google"
    assert "analytics" in p.entries["google-analytics.com"].categories
    _check_vocabulary(p)


def test_exodus_real_file() -> None:
    folder = shared_path("tracker-sources", "exodus")
    p = parsers.parse_exodus(_files(folder, "trackers.json"))
    assert p.records == 432
    assert "AppsFlyer" in p.entries["appsflyer.com"].names
    assert len(p.entries) > 300
    _check_vocabulary(p)


def test_duckduckgo_real_files() -> None:
    folder = shared_path("tracker-sources", "duckduckgo")
    p = parsers.parse_duckduckgo(_files(folder, "extension-tds.json", "android-tds.json"))
    ga = p.entries["google-analytics.com"]
    assert (ga.organization, ga.parent) == ("Google Analytics", "Google LLC")
    assert "session replay" in p.entries["hotjar.com"].categories
    assert p.records > 3000
    _check_vocabulary(p)


def test_disconnect_real_files() -> None:
    folder = shared_path("tracker-sources", "disconnect")
    p = parsers.parse_disconnect(_files(folder, "services.json", "entities.json"))
    assert p.entries["doubleclick.net"].organization == "Google"
    assert "session replay" in p.entries["hotjar.com"].categories
    assert not any("/" in k for k in p.entries)  # path entries skipped
    assert p.records > 4000
    _check_vocabulary(p)


def test_ghostery_real_file() -> None:
    folder = shared_path("tracker-sources", "ghostery")
    p = parsers.parse_ghostery(_files(folder, "trackerdb.json"))
    assert p.records > 5000
    assert p.entries["doubleclick.net"].organization
    _check_vocabulary(p)


def test_psl_real_file_and_truncation() -> None:
    raw = shared_path("tracker-sources", "publicsuffix", "public_suffix_list.dat").read_bytes()
    assert parsers.parse_psl({"public_suffix_list.dat": raw}).records > 9000
    with pytest.raises(ValueError, match="ICANN"):
        parsers.parse_psl({"public_suffix_list.dat": raw[: len(raw) // 3]})


def test_sniff_real_files() -> None:
    root = shared_path("tracker-sources")
    kinds = {
        parsers.sniff(p.name, p.read_bytes())
        for p in root.rglob("*")
        if p.is_file() and p.suffix in (".json", ".dat")
    }
    assert {k[0] for k in kinds if k} == set(upstream.SOURCES)
