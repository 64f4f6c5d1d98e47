"""``edscan batch``: several captures, one comparison page and one CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner, Result
from publishcapture import EMAIL, PERSONA_TOML, SECRETS, write_app_capture
from resultfactory import persona_forms

from edscan.cli import cli
from edscan.publish import batch
from edscan.report.html import CSP


@pytest.fixture
def captures(tmp_path: Path) -> list[Path]:
    """Three apps: one feeds advertisers, one only analytics, one nothing third-party."""
    d = tmp_path / "captures"
    d.mkdir()
    return [
        write_app_capture(d / "adsy.edscan.jsonl", "adsy", ["meta", "rlcdn", "ga"]),
        write_app_capture(d / "counter.edscan.jsonl", "counter", ["ga", "sentry"]),
        write_app_capture(d / "quiet.edscan.jsonl", "quiet", []),
    ]


@pytest.fixture
def persona(tmp_path: Path) -> Path:
    path = tmp_path / "p.toml"
    path.write_text(PERSONA_TOML, encoding="utf-8")
    return path


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["batch", *args])


def _rows(out: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((out / "summary.csv").read_text(encoding="utf-8"))))


def test_compares_three_apps_and_reports_a_bad_capture(
    captures: list[Path], persona: Path, tmp_path: Path
) -> None:
    bad = captures[0].parent / "broken.har"
    bad.write_text('{"log": {"entries": [', encoding="utf-8")
    out = tmp_path / "compare"
    res = _run(*map(str, [captures[0], bad, *captures[1:]]), "--persona", str(persona),
               "-o", str(out))  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "broken.har: skipped" in res.stderr
    assert "3 apps compared, 1 captures could not be read" in res.stderr

    rows = _rows(out)
    with (out / "summary.csv").open(encoding="utf-8") as f:
        assert tuple(next(csv.reader(f))) == batch.COLUMNS
    by_app = {r["app"]: r for r in rows}
    assert list(by_app) == ["adsy", "counter", "quiet", "broken"]  # riskiest first, bad last
    adsy, counter, quiet, broken = (by_app[a] for a in ("adsy", "counter", "quiet", "broken"))
    assert "Meta Platforms" in adsy["advertising_company_names"]
    assert "LiveRamp" in adsy["advertising_company_names"]
    assert int(adsy["advertising_companies"]) == 2
    assert int(adsy["third_party_companies"]) == 3  # Meta, LiveRamp, Google
    assert int(adsy["critical"]) >= 1 and adsy["grade"] == "F"
    assert "Student e-mail" in adsy["data_element_names"]
    assert int(counter["advertising_companies"]) == 0 and int(counter["third_party_companies"]) == 2
    assert quiet["third_party_companies"] == "0" and quiet["data_elements_to_third_parties"] == "0"
    assert quiet["grade"] == "A" and quiet["critical"] == quiet["high"] == "0"
    assert int(adsy["score"]) > int(counter["score"]) >= int(quiet["score"])
    assert broken["error"] and broken["grade"] == "" and broken["report"] == ""
    assert "broken.har" in broken["error"] and str(tmp_path) not in broken["error"]
    for r in (adsy, counter, quiet):
        assert r["first_party"] == f"{r['app']}.example"
        assert len(r["capture_sha256"]) == 64 and r["error"] == ""
        assert r["report"] == f"{r['app']}.html" and (out / r["report"]).is_file()

    soup = BeautifulSoup((out / "index.html").read_text(encoding="utf-8"), "html.parser")
    csp = soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"})
    assert csp is not None and csp["content"] == CSP
    assert not soup.find_all(["script", "img", "iframe", "link", "object"])
    body = soup.find("tbody").find_all("tr")
    assert len(body) == 4
    links = [a["href"] for a in soup.select("tbody a")]
    assert links == ["adsy.html", "counter.html", "quiet.html"]
    first = body[0]
    assert first.find("a").get_text() == "adsy"
    assert first.select_one(".grade").get_text() == adsy["grade"]
    cells = [td.get_text(" ", strip=True) for td in first.find_all("td")]
    assert cells[1] == adsy["score"] and cells[2] == adsy["critical"] and cells[3] == adsy["high"]
    assert cells[4].startswith(adsy["third_party_companies"] + " ")
    assert cells[5].startswith(adsy["advertising_companies"] + " ")
    assert cells[6].startswith(adsy["data_elements_to_third_parties"] + " ")
    assert "broken" in body[3].get_text() and "Not compared" in body[3].get_text()
    # the reports beside it are the redacted reports
    report = (out / "adsy.html").read_text(encoding="utf-8")
    assert 'content="redacted"' in report
    for path in out.iterdir():
        text = path.read_text(encoding="utf-8").lower()
        for secret in SECRETS:
            for form in persona_forms(secret):
                assert form.lower() not in text, (path.name, form)


def test_no_readable_capture_is_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    a, b = tmp_path / "a.har", tmp_path / "b.edscan.jsonl"
    a.write_text("not json", encoding="utf-8")
    b.write_bytes(b"\x00\x01garbage")
    out = tmp_path / "compare"
    res = _run(str(a), str(b), str(tmp_path / "missing.har"), "-o", str(out))
    assert res.exit_code == 2
    assert "none of the 3 captures could be read" in res.output
    assert not out.exists()


def test_first_party_map_and_names(captures: list[Path], tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    twin = write_app_capture(other / "adsy.edscan.jsonl", "twin", ["ga"])
    fp_map = tmp_path / "apps.toml"
    fp_map.write_text(
        '"counter.edscan.jsonl" = ["counter.example", "cdn.example"]\nquiet = "quiet.example"\n',
        encoding="utf-8",
    )
    out = tmp_path / "compare"
    res = _run(str(captures[0]), str(twin), *map(str, captures[1:]),
               "--first-party-map", str(fp_map), "-o", str(out))  # fmt: skip
    assert res.exit_code == 0, res.output
    rows = {r["capture"] + r["first_party"]: r for r in _rows(out)}
    # two captures called adsy: told apart by their first party
    assert rows["adsy.edscan.jsonladsy.example"]["app"] == "adsy (adsy.example)"
    assert rows["adsy.edscan.jsonltwin.example"]["app"] == "adsy (twin.example)"
    assert rows["counter.edscan.jsonlcounter.example; cdn.example"]["app"] == "counter"
    assert len({r["report"] for r in rows.values()}) == 4


def test_first_party_map_naming_no_capture_is_a_usage_error(
    captures: list[Path], tmp_path: Path
) -> None:
    fp_map = tmp_path / "apps.toml"
    fp_map.write_text('"seesaw.har" = "seesaw.me"\n', encoding="utf-8")
    res = _run(str(captures[0]), "--first-party-map", str(fp_map), "-o", str(tmp_path / "o"))
    assert res.exit_code == 2 and "'seesaw.har'" in res.output
    fp_map.write_text("quiet = 3\n", encoding="utf-8")
    res = _run(str(captures[2]), "--first-party-map", str(fp_map), "-o", str(tmp_path / "o"))
    assert res.exit_code == 2 and "must be a domain or a list of domains" in res.output


def test_hostile_file_names_are_escaped_and_quoted(tmp_path: Path) -> None:
    d = tmp_path / "c"
    d.mkdir()
    evil = [
        write_app_capture(d / "<img src=x onerror=alert(1)>.edscan.jsonl", "evil", ["meta"]),
        write_app_capture(d / "=HYPERLINK(1).edscan.jsonl", "formula", []),
        write_app_capture(d / "index.edscan.jsonl", "index", []),
        write_app_capture(d / "INDEX.har", "index2", []),  # an edscan capture, whatever its name
    ]
    out = tmp_path / "o"
    res = _run(*map(str, evil), "-o", str(out))
    assert res.exit_code == 0, res.output
    soup = BeautifulSoup((out / "index.html").read_text(encoding="utf-8"), "html.parser")
    assert not soup.find_all(["script", "img", "iframe"])
    assert "<img src=x onerror=alert(1)>" in soup.get_text()
    hrefs = [a["href"] for a in soup.select("tbody a")]
    assert all(h.endswith(".html") and "/" not in h and "<" not in h for h in hrefs)
    assert "index.html" not in hrefs and len(set(hrefs)) == 4  # never over the index
    raw = (out / "summary.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK(1)" in raw
    assert "'=HYPERLINK(1)" in (out / "dataset.csv").read_text(encoding="utf-8")
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*hrefs, "index.html", "summary.csv", "dataset.csv"]
    )


def test_names() -> None:
    assert batch.base_name("x/seesaw.edscan.jsonl") == "seesaw"
    assert batch.base_name("Seesaw.HAR") == "Seesaw"
    assert batch.base_name(".har") == ".har"
    names = batch.Names(["a/x.har", "b/x.har", "c/x.mitm", "Index.har"])
    assert names.take("a/x.har", ("one.example",)) == ("x (one.example)", "x-one.example")
    assert names.take("b/x.har", ("one.example",)) == ("x (one.example) (2)", "x-one.example-2")
    assert names.take("c/x.mitm", ()) == ("x", "x")
    assert names.take("Index.har", ()) == ("Index", "index-app")


def test_app_row_counts_companies_once(tmp_path: Path) -> None:
    from edscan.pipeline import scan
    from edscan.publish.public import public_redactor, public_result

    path = write_app_capture(tmp_path / "a.edscan.jsonl", "a", ["ga", "ga", "meta"])
    result = scan(path)
    red = public_redactor(result)
    row = batch.row(public_result(result, red), red, app=f"app {EMAIL}")
    assert row.third_party_companies == ("Google LLC", "Meta Platforms, Inc.")
    assert row.advertising_companies == ("Meta Platforms, Inc.",)
    assert EMAIL not in row.app  # a value the capture sent is masked wherever it appears
