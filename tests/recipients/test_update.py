"""``edscan lists``: downloads through httpx.MockTransport (never the network), imports with
--from, status and show, and the guarantee that a bad download never replaces a good list."""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from conftest import DATA

from edscan.cli import cli
from edscan.errors import EdscanError
from edscan.recipients import domains, update, upstream
from edscan.recipients.trackers import load_trackers

FIX = DATA / "lists"
ADGUARD = upstream.SOURCES["adguard-companiesdb"]
EXODUS = upstream.SOURCES["exodus"]
PSL = upstream.SOURCES["publicsuffix"]
DDG = upstream.SOURCES["duckduckgo-tds"]


def psl_text(extra: str = "") -> bytes:
    rules = "\n".join(f"x{i}.test" for i in range(1200))
    return (
        "// ===BEGIN ICANN DOMAINS===\ncom\nnet\norg\nuk\nco.uk\ntest\n"
        f"{rules}\n{extra}// ===END ICANN DOMAINS===\n"
        "// ===BEGIN PRIVATE DOMAINS===\ngithub.io\n// ===END PRIVATE DOMAINS===\n"
    ).encode()


BODIES = {
    ADGUARD.files[0][1]: (FIX / "adguard" / "trackers.json").read_bytes(),
    ADGUARD.files[1][1]: (FIX / "adguard" / "companies.json").read_bytes(),
    EXODUS.files[0][1]: (FIX / "exodus" / "trackers.json").read_bytes(),
    PSL.files[0][1]: psl_text(),
    DDG.files[0][1]: (FIX / "duckduckgo" / "extension-tds.json").read_bytes(),
}


@pytest.fixture(autouse=True)
def _restore_psl() -> Iterator[None]:
    yield
    domains.use_public_suffix_list(None)  # loading a data dir with a PSL switches it globally


class Server:
    """A MockTransport handler: serves BODIES with ETags, records requests, can misbehave."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.override: dict[str, Callable[[httpx.Request], httpx.Response]] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        url = str(request.url)
        if url in self.override:
            return self.override[url](request)
        body = BODIES.get(url)
        if body is None:
            return httpx.Response(404)
        etag = f'"{hash(body) & 0xFFFF:x}"'
        if request.headers.get("If-None-Match") == etag:
            return httpx.Response(304, headers={"ETag": etag})
        return httpx.Response(
            200,
            content=body,
            headers={"ETag": etag, "Last-Modified": "Tue, 03 Nov 2026 08:00:00 GMT"},
        )

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def run(base: Path, server: Server, *sources: upstream.Source) -> dict[str, update.Outcome]:
    out = update.update(base, sources, transport=server.transport())
    return {o.name: o for o in out}


def test_success_installs_with_provenance(tmp_path: Path) -> None:
    server = Server()
    out = run(tmp_path, server, ADGUARD, EXODUS, PSL)
    assert {n: o.status for n, o in out.items()} == dict.fromkeys(
        ("adguard-companiesdb", "exodus", "publicsuffix"), "updated"
    )
    info = out["adguard-companiesdb"].info
    assert info is not None
    assert (info.version, info.records, info.licence) == ("2026-05-04", 6, "CC BY-SA 4.0")
    assert out["exodus"].info.version == "2026-11-03"  # type: ignore[union-attr]  # Last-Modified
    meta = json.loads((tmp_path / "lists" / "adguard-companiesdb" / "meta.json").read_text())
    assert meta["origin"] == "download" and meta["origin_url"] == ADGUARD.files[0][1]
    assert {f["name"] for f in meta["files"]} == {"trackers.json", "companies.json"}
    assert all(len(f["sha256"]) == 64 and f["etag"] for f in meta["files"])
    assert meta["sha256"] == info.sha256 and meta["licence"] == "CC BY-SA 4.0"
    assert all(r.headers["User-Agent"].startswith("edscan/") for r in server.requests)
    db = load_trackers(tmp_path)
    assert db.attribute("pixel.kidpixel.test").organization == "KidPixel Co."
    assert (
        domains.public_suffix_list_path() == tmp_path / "lists/publicsuffix/public_suffix_list.dat"
    )
    assert domains.registrable_domain("a.b.x7.test") == "b.x7.test"  # the downloaded PSL
    assert {i.name for i in db.lists()} >= {"adguard-companiesdb", "exodus", "publicsuffix"}


def test_304_keeps_the_installed_copy(tmp_path: Path) -> None:
    server = Server()
    run(tmp_path, server, EXODUS)
    path = tmp_path / "lists" / "exodus" / "trackers.json"
    before = (path.stat().st_mtime_ns, path.read_bytes())
    server.requests.clear()
    out = run(tmp_path, server, EXODUS)
    assert out["exodus"].status == "not modified"
    [req] = server.requests
    assert req.headers["If-None-Match"] and req.headers["If-Modified-Since"]
    assert (path.stat().st_mtime_ns, path.read_bytes()) == before


def _broken(kind: str) -> Callable[[httpx.Request], httpx.Response]:
    good = BODIES[EXODUS.files[0][1]]

    def handler(request: httpx.Request) -> httpx.Response:
        if kind == "5xx":
            return httpx.Response(503, text="maintenance")
        if kind == "timeout":
            raise httpx.ReadTimeout("read timed out", request=request)
        if kind == "connect":
            raise httpx.ConnectError("blocked by the school firewall", request=request)
        if kind == "truncated":
            return httpx.Response(200, content=good[: len(good) // 2])
        if kind == "schema":
            return httpx.Response(200, json={"trackers": ["not", "an", "object"]})
        if kind == "oversize-declared":
            return httpx.Response(200, content=good + b" " * 5000)
        if kind == "oversize-streamed":

            def chunks() -> Iterator[bytes]:
                for _ in range(100):
                    yield b" " * 1000

            return httpx.Response(200, content=chunks())
        raise AssertionError(kind)

    return handler


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("5xx", "HTTP 503"),
        ("timeout", "timed out"),
        ("connect", "ConnectError"),
        ("truncated", "not valid JSON"),
        ("schema", "must be an object"),
        ("oversize-declared", "cap"),
        ("oversize-streamed", "cap"),
    ],
)
def test_a_bad_download_never_replaces_the_installed_list(
    tmp_path: Path, kind: str, message: str
) -> None:
    small = dataclasses.replace(EXODUS, max_bytes=len(BODIES[EXODUS.files[0][1]]) + 100)
    server = Server()
    assert run(tmp_path, server, small)["exodus"].status == "updated"
    folder = tmp_path / "lists" / "exodus"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    # a new version exists upstream, but it arrives broken
    server.override[EXODUS.files[0][1]] = _broken(kind)
    out = run(tmp_path, server, small)["exodus"]
    assert out.status == "failed" and message in out.message
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # no temp files either
    assert load_trackers(tmp_path).attribute("kidads.test").categories  # still loads


def test_a_failure_on_first_install_leaves_nothing(tmp_path: Path) -> None:
    server = Server()
    server.override[ADGUARD.files[1][1]] = _broken("truncated")  # companies.json broken
    out = run(tmp_path, server, ADGUARD, EXODUS)
    assert out["adguard-companiesdb"].status == "failed"
    assert out["exodus"].status == "updated"  # one failure does not stop the others
    assert upstream.read_meta(tmp_path, "adguard-companiesdb") is None
    assert not list((tmp_path / "lists" / "adguard-companiesdb").glob("*.json"))


def test_an_optional_file_may_be_missing(tmp_path: Path) -> None:
    out = run(tmp_path, Server(), DDG)  # the app list URL answers 404 here
    assert out["duckduckgo-tds"].status == "updated"
    meta = upstream.read_meta(tmp_path, "duckduckgo-tds")
    assert meta is not None and [f["name"] for f in meta["files"]] == ["extension-tds.json"]


def test_noncommercial_sources_need_consent() -> None:
    with pytest.raises(EdscanError, match="non-commercial"):
        update.selected_sources(["disconnect"], accept_noncommercial=False)
    assert [s.name for s in update.selected_sources([], False)] == list(upstream.DEFAULT_SOURCES)
    chosen = {s.name for s in update.selected_sources([], True)}
    assert chosen == set(upstream.SOURCES)


def test_import_from_files_uses_their_own_date(tmp_path: Path) -> None:
    out = {
        o.name: o for o in update.import_files(tmp_path / "d", [FIX], accept_noncommercial=False)
    }
    assert out["adguard-companiesdb"].status == "updated"
    assert out["adguard-companiesdb"].info.version == "2026-05-04"  # type: ignore[union-attr]
    assert (
        out["duckduckgo-tds"].status == "skipped"
        and "non-commercial" in out["duckduckgo-tds"].message
    )
    meta = upstream.read_meta(tmp_path / "d", "exodus")
    assert meta is not None and meta["origin"].startswith("imported from ")
    assert meta["files"][0]["imported_from"].endswith("exodus/trackers.json")


def test_import_rejects_invalid_and_incomplete_files(tmp_path: Path) -> None:
    bad = tmp_path / "in"
    bad.mkdir()
    (bad / "trackers.json").write_text('{"trackerDomains": {}, "trackers": {}}')  # AdGuard shape
    (bad / "companies.json").write_text('{"companies": {}}')
    (bad / "notes.json").write_text('{"hello": "world"}')
    out = {
        o.name: o for o in update.import_files(tmp_path / "d", [bad], accept_noncommercial=False)
    }
    assert out["adguard-companiesdb"].status == "failed"
    assert "empty" in out["adguard-companiesdb"].message
    assert out[str(bad / "notes.json")].status == "skipped"
    assert upstream.read_meta(tmp_path / "d", "adguard-companiesdb") is None
    with pytest.raises(EdscanError, match="no tracker list files"):
        empty = tmp_path / "empty"
        empty.mkdir()
        update.import_files(tmp_path / "d", [empty], accept_noncommercial=False)


# --------------------------------------------------------------------------- the CLI


def test_cli_update_from_status_and_show(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"EDSCAN_DATA_DIR": str(tmp_path / "data")}
    r = runner.invoke(cli, ["lists", "update", "--from", str(FIX)], env=env)
    assert r.exit_code == 0, r.output
    assert "adguard-companiesdb: updated (2026-05-04, 6 records, CC BY-SA 4.0)" in r.output
    assert "duckduckgo-tds: skipped" in r.output

    r = runner.invoke(cli, ["lists", "status", "-f", "json"], env=env)
    assert r.exit_code == 0, r.output
    st = json.loads(r.stdout)
    assert st["data_dir"] == env["EDSCAN_DATA_DIR"]
    installed = {u["name"]: u["installed"] for u in st["upstream"]}
    assert installed["adguard-companiesdb"] and installed["exodus"]
    assert not installed["duckduckgo-tds"]
    assert st["precedence"][:2] == ["user-overrides", "edscan-trackers"]

    r = runner.invoke(cli, ["lists", "status"], env=env)
    assert "adguard-companiesdb" in r.output and "not installed" in r.output

    r = runner.invoke(cli, ["lists", "show", "https://www.facebook.com/tr/"], env=env)
    assert r.exit_code == 0, r.output
    assert "Meta Pixel" in r.output and "Meta Platforms, Inc." in r.output
    assert "adguard-companiesdb 2026-05-04 [CC BY-SA 4.0]" in r.output

    r = runner.invoke(
        cli,
        ["lists", "update", "--from", str(FIX), "--accept-noncommercial"],
        env=env,
    )
    assert r.exit_code == 0 and "duckduckgo-tds: updated" in r.output
    r = runner.invoke(cli, ["lists", "show", "replaykids.test", "-f", "json"], env=env)
    s = json.loads(r.stdout)
    assert s["attribution"]["organization"] is None  # not accepted for this run
    ddg = next(o for o in s["opinions"] if o["list"] == "duckduckgo-tds")
    assert ddg["used"] is False and ddg["match"]["organization"] == "ReplayKids"
    r = runner.invoke(
        cli, ["lists", "show", "replaykids.test", "--accept-noncommercial", "-f", "json"], env=env
    )
    a = json.loads(r.stdout)["attribution"]
    assert a["organization"] == "ReplayKids"
    assert "CC BY-NC-SA 4.0, non-commercial" in a["sources"][0]


def test_cli_update_failure_exits_2_and_names_the_workaround(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = Server()
    for url in BODIES:
        server.override[url] = _broken("connect")
    monkeypatch.setattr(
        update, "update", functools.partial(update.update, transport=server.transport())
    )
    r = CliRunner().invoke(cli, ["lists", "update", "--data-dir", str(tmp_path)])
    assert r.exit_code == 2
    assert "exodus: failed" in r.output and "--from PATH" in r.output
    # AdGuard stops at its first file; Exodus and the PSL are still tried
    assert [r.url.host for r in server.requests] == [
        "raw.githubusercontent.com",
        "reports.exodus-privacy.eu.org",
        "publicsuffix.org",
    ]
