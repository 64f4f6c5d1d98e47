"""The vendor's declaration (--declared): the file, matching, the comparison, its findings and
how every output shows it; then the real ClassDojo HAR against a declaration without ad-tech."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from appcaptures import FIRST_PARTY, write_app_capture
from bs4 import BeautifulSoup, Tag
from click.testing import CliRunner
from conftest import ROOT, shared_path
from scanbuilder import ScanBuilder

from edscan import report
from edscan.cli import cli
from edscan.declared.compare import compare, domain_matches, match_party, org_aliases
from edscan.declared.declaration import (
    Declaration,
    load_declaration,
    normalise_domain,
    parse_declaration,
)
from edscan.declared.records import DeclaredParty
from edscan.declared.template import render_template
from edscan.detect import taxonomy
from edscan.errors import EdscanError
from edscan.models import Confidence, Party, Recipient, Severity
from edscan.pipeline import scan
from edscan.resources import read_text
from edscan.rules import run_rules

SCHEMA = json.loads(read_text("reports", "edscan-result-1.schema.json"))
ADS = ("advertising", "ad-motivated tracking")


def decl(text: str) -> Declaration:
    return parse_declaration(text, source="vendor.toml")


def _rules(findings: list) -> list[str]:  # type: ignore[type-arg]
    return sorted(f.rule for f in findings)


# ------------------------------------------------------------------ the file


def test_a_full_declaration_is_read_with_categories_expanded() -> None:
    d = decl(
        """
        vendor = "Quillpond Learning, Inc."
        agreement = "SDPC NDPA v1.0, signed 2026-01-12"
        elements = ["st.name", "Student-Identifiers", "pg_contact", "demo.dob"]

        [[third_party]]
        name = "Amazon Web Services"
        domains = ["https://*.AmazonAWS.com/console", ".cloudfront.net."]
        purpose = "hosting"

        [[third_party]]
        domains = "sentry.io"
        """
    )
    assert d.vendor == "Quillpond Learning, Inc." and d.agreement.startswith("SDPC")
    sid = taxonomy.CATEGORIES["sid"].elements
    pg = taxonomy.CATEGORIES["pg_contact"].elements
    assert d.elements is not None
    assert set(d.elements) == {"st.name", "demo.dob", *sid, *pg}
    order = list(taxonomy.ELEMENTS)
    assert list(d.elements) == sorted(d.elements, key=order.index)  # taxonomy order
    assert d.parties == (
        DeclaredParty(
            name="Amazon Web Services",
            domains=("amazonaws.com", "cloudfront.net"),
            purpose="hosting",
        ),
        DeclaredParty(name="", domains=("sentry.io",), purpose=""),
    )
    assert d.parties[1].label == "sentry.io"


def test_a_part_left_out_is_not_compared_and_an_empty_list_declares_none() -> None:
    only_elements = decl('elements = ["st.name"]')
    assert only_elements.parties is None and only_elements.elements == ("st.name",)
    only_parties = decl("third_party = []")
    assert only_parties.elements is None and only_parties.parties == ()
    single_table = decl('[third_party]\nname = "Sentry"')
    assert single_table.parties == (DeclaredParty(name="Sentry"),)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("elements = [", "not valid TOML"),
        ('elemnts = ["st.name"]', "unknown key 'elemnts' (did you mean 'elements'?)"),
        ('vendor = "x"', "declares nothing to compare"),
        ('elements = "st.name"', "elements must be a list of strings"),
        ('elements = ["st.name", "st.email"]', "'st.email' (did you mean 'st_contact.email'?)"),
        ('elements = ["Demographic"]', "(did you mean 'Demographics'?)"),
        ('elements = ["martian.data"]', "unknown data element or category 'martian.data'"),
        ('[[third_party]]\nname = "X"\ndomain = ["x.com"]', "unknown key 'domain'"),
        ('[[third_party]]\npurpose = "hosting"', "give the organisation's name, its domains"),
        ('[[third_party]]\ndomains = ["not a domain"]', "'not a domain' is not a domain"),
        ("[[third_party]]\ndomains = [3]", "domains must be a list of strings"),
        ("vendor = 3\nthird_party = []", "vendor must be a string"),
        ("third_party = 3", "third_party must be a list"),
    ],
)
def test_bad_declarations_say_what_is_wrong_in_one_line(text: str, expected: str) -> None:
    with pytest.raises(EdscanError) as e:
        decl(text)
    message = e.value.message
    assert expected in message
    assert message.startswith("vendor.toml") and "\n" not in message
    assert e.value.exit_code == 2


def test_bad_third_party_entries_are_numbered() -> None:
    with pytest.raises(EdscanError, match=r"third_party #2: 'x y' is not a domain"):
        decl('[[third_party]]\nname = "A"\n[[third_party]]\ndomains = ["x y"]')


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sentry.io", "sentry.io"),
        ("https://O123.ingest.Sentry.io:443/api/1/?x=1", "o123.ingest.sentry.io"),
        ("*.cloudfront.net", "cloudfront.net"),
        ("user@mail.example.org", "mail.example.org"),
        ("[::1]:8080", "::1"),
        ("10.0.0.1", "10.0.0.1"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("localhost", "localhost"),
        ("com", None),
        ("two words.com", None),
        ("", None),
        ("-bad-.com", None),
    ],
)
def test_domains_are_normalised(given: str, expected: str | None) -> None:
    assert normalise_domain(given) == expected


def test_load_declaration_hashes_the_file_and_reads_a_bom(tmp_path: Path) -> None:
    p = tmp_path / "vendor.toml"
    p.write_bytes(b'\xef\xbb\xbfelements = ["st.name"]\n')
    d = load_declaration(p)
    import hashlib

    assert d.sha256 == hashlib.sha256(p.read_bytes()).hexdigest()
    assert d.source == str(p) and d.elements == ("st.name",)
    p.write_bytes(b'vendor = "\xff"\nthird_party = []\n')
    with pytest.raises(EdscanError, match="not UTF-8"):
        load_declaration(p)
    with pytest.raises(EdscanError, match="no such declaration file"):
        load_declaration(tmp_path / "missing.toml")


# ------------------------------------------------------------------ template and check


def test_the_template_lists_every_element_and_parses() -> None:
    text = render_template()
    assert tomllib.loads(text) == {"vendor": "", "agreement": "", "elements": []}
    listed = re.findall(r'^  # "([a-z0-9_]+\.[a-z0-9_]+)",', text, flags=re.M)
    assert listed == list(taxonomy.ELEMENTS)
    # uncommenting every element line declares them all
    opened = re.sub(r'^  # ("[a-z0-9_.]+",)', r"  \1", text, flags=re.M)
    d = decl(opened)
    assert d.elements == tuple(taxonomy.ELEMENTS)
    # and the commented third-party examples are valid once uncommented
    examples = re.sub(r"^# (\[\[third_party\]\]|name|domains|purpose)", r"\1", text, flags=re.M)
    parties = decl(examples).parties
    assert parties is not None and [p.domains for p in parties][-1] == ("sentry.io",)


def test_declared_new_writes_the_template_and_will_not_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "vendor.toml"
    r = CliRunner().invoke(cli, ["declared", "new", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert out.read_text(encoding="utf-8") == render_template()
    again = CliRunner().invoke(cli, ["declared", "new", "-o", str(out)])
    assert again.exit_code == 2 and "already exists" in again.output
    forced = CliRunner().invoke(cli, ["declared", "new", "-o", str(out), "--force"])
    assert forced.exit_code == 0
    stdout = CliRunner().invoke(cli, ["declared", "new"])
    assert stdout.output == render_template()


def test_declared_check_shows_what_edscan_reads(tmp_path: Path) -> None:
    p = tmp_path / "vendor.toml"
    p.write_text('elements = ["demo"]\n[[third_party]]\nname = "Sentry"\n', encoding="utf-8")
    r = CliRunner().invoke(cli, ["declared", "check", str(p)])
    assert r.exit_code == 0, r.output
    assert "elements: 6 declared" in r.output and "demo.race_ethnicity" in r.output
    assert "Sentry: matched by name only" in r.output
    j = CliRunner().invoke(cli, ["declared", "check", str(p), "-f", "json"])
    doc = json.loads(j.output)
    assert doc["elements"] == list(taxonomy.CATEGORIES["demo"].elements)
    assert doc["third_parties"] == [{"name": "Sentry", "domains": [], "purpose": ""}]
    p.write_text('elements = ["nope"]\n', encoding="utf-8")
    bad = CliRunner().invoke(cli, ["declared", "check", str(p)])
    assert bad.exit_code == 2 and "'nope'" in bad.output


def test_the_shipped_example_is_valid() -> None:
    d = load_declaration(ROOT / "docs" / "vendor.example.toml")
    assert d.vendor and d.elements and d.parties
    assert {"sentry.io", "openai.com"} <= {x for p in d.parties for x in p.domains}


# ------------------------------------------------------------------ matching


@pytest.mark.parametrize(
    ("declared", "owner"),
    [
        ("Meta Platforms", "Meta Platforms, Inc."),
        ("meta-platforms inc", "Meta Platforms, Inc."),
        ("MetaPlatforms", "Meta Platforms, Inc."),
        ("Mailchimp", "The Rocket Science Group LLC (Mailchimp)"),
        ("Intuit Mailchimp (The Rocket Science Group)", "The Rocket Science Group LLC"),
        ("Wallwisher", "Padlet (Wallwisher, Inc.)"),
        ("Bending Spoons", "Bending Spoons S.p.A."),
        ("Societe Generale", "Société Générale S.A."),
        ("AT&T", "AT and T Inc."),
        ("Trustpilot", "Trustpilot A/S"),
    ],
)
def test_organisation_names_match_without_case_punctuation_or_legal_forms(
    declared: str, owner: str
) -> None:
    assert org_aliases(declared) & org_aliases(owner)


@pytest.mark.parametrize(
    ("declared", "owner"),
    [("Meta", "Meta Platforms, Inc."), ("Amazon", "Amazon.com, Inc."), ("Google", "Googol Ltd")],
)
def test_organisation_names_are_not_matched_by_prefix(declared: str, owner: str) -> None:
    assert not org_aliases(declared) & org_aliases(owner)


def test_domains_match_themselves_subdomains_and_registrable_domains_only() -> None:
    assert domain_matches("sentry.io", "sentry.io")
    assert domain_matches("bucket.s3.amazonaws.com", "amazonaws.com")
    assert domain_matches("sentry.io", "o123.ingest.sentry.io")  # a declared host
    assert not domain_matches("notsentry.io", "sentry.io")
    assert not domain_matches("sentry.io.evil.example", "sentry.io")


def _recipient(domain: str, org: str | None = None, parent: str | None = None) -> Recipient:
    return Recipient(
        domain=domain,
        hosts=(domain,),
        organization=org,
        parent=parent,
        categories=ADS,
        party=Party.THIRD,
        sdk=(),
        sources=(),
        flows=1,
    )


def test_match_prefers_domain_then_organisation_then_parent() -> None:
    by_name = DeclaredParty(name="Google LLC", purpose="sign-in")
    by_domain = DeclaredParty(name="Ads Co", domains=("doubleclick.net",))
    by_parent = DeclaredParty(name="Alphabet Inc.")
    dc = _recipient("doubleclick.net", "Google LLC", "Alphabet Inc.")
    assert match_party(dc, [by_parent, by_name, by_domain]) == (by_domain, "domain")
    assert match_party(dc, [by_parent, by_name]) == (by_name, "organization")
    assert match_party(dc, [by_parent]) == (by_parent, "parent")
    assert match_party(_recipient("youtube.com", "YouTube"), [by_name, by_parent]) is None
    # a recipient the lists do not attribute can only match by domain
    unknown = _recipient("cdn-x.example")
    assert match_party(unknown, [DeclaredParty(name="cdn-x.example")]) is not None
    assert match_party(unknown, [DeclaredParty(name="CDN X")]) is None


# ------------------------------------------------------------------ the comparison


def _app() -> ScanBuilder:
    """The app's own API gets the student's e-mail, password and a session cookie; Meta gets a
    hashed e-mail; a CDN is contacted with nothing detected; Mixpanel gets an ad id."""
    b = ScanBuilder().recipient("facebook.com", *ADS, org="Meta Platforms, Inc.")
    b.recipient("mixpanel.com", "analytics", org="Mixpanel, Inc.")
    b.recipient("jsdelivr.net", "CDN / hosting", org="Prospect One")
    i = b.flow("https://api.school.example/login", method="POST", request_bytes=90)
    b.obs(i, "st_contact.email", location="body:$.email", value="kid@example.org")
    b.obs(i, "sid.password", location="body:$.password", value="pw")
    b.obs(i, "cred.session", location="cookie:sid", value="sess-1", detector=_keyname())
    j = b.flow("https://www.facebook.com/tr?ev=PageView")
    b.obs(j, "st_contact.email", location="query:ud[em]", confidence=Confidence.MEDIUM)
    b.flow("https://cdn.jsdelivr.net/npm/x.js")
    k = b.flow("https://api-js.mixpanel.com/track", method="POST", request_bytes=100)
    b.obs(k, "dev.gaid", location="body:$.properties.gaid", confidence=Confidence.MEDIUM)
    return b


def _keyname():  # type: ignore[no-untyped-def]
    from edscan.models import Detector

    return Detector.KEYNAME


def test_elements_are_covered_by_themselves_their_category_or_their_exhibit_b_row() -> None:
    result = _app().build()
    d = compare(decl('elements = ["st_contact.email"]'), result)
    assert [u.element for u in d.undeclared_elements] == ["sid.password", "dev.gaid"]
    gaid = d.undeclared_elements[1]
    assert gaid.exhibit_b == "atm.other" and gaid.third_party
    assert gaid.recipients == ("mixpanel.com",) and gaid.confidence is Confidence.MEDIUM
    password = d.undeclared_elements[0]
    assert password.recipients == ("school.example",) and not password.third_party
    # the app's own session cookie is how sign-in works, not an element it collects
    assert "cred.session" not in {u.element for u in d.undeclared_elements}
    # declaring the Exhibit B row a device id falls under covers it; a category covers its rows
    covered = compare(decl('elements = ["atm.other", "Student Identifiers", "st_contact"]'), result)
    assert covered.undeclared_elements == ()
    assert "atm.ip_cookies" not in covered.elements  # type: ignore[operator]
    assert covered.not_observed == tuple(
        e
        for e in covered.elements or ()
        if e not in {"atm.other", "sid.password", "st_contact.email"}
    )


def test_third_parties_are_checked_and_the_unseen_ones_listed() -> None:
    d = compare(
        decl(
            '[[third_party]]\nname = "Mixpanel"\ndomains = ["mxpnl.com"]\npurpose = "analytics"\n'
            '[[third_party]]\nname = "Amazon Web Services"\ndomains = ["amazonaws.com"]'
        ),
        _app().build(),
    )
    checks = {c.domain: c for c in d.recipients}
    assert set(checks) == {"facebook.com", "jsdelivr.net", "mixpanel.com"}  # no first party
    assert [c.domain for c in d.undeclared_recipients] == ["facebook.com", "jsdelivr.net"]
    fb = checks["facebook.com"]
    assert fb.received_data and fb.elements == ("st_contact.email",) and fb.matched_by is None
    assert not checks["jsdelivr.net"].received_data
    mp = checks["mixpanel.com"]
    assert (mp.declared_as, mp.matched_by, mp.purpose) == ("Mixpanel", "organization", "analytics")
    assert "other domains (mxpnl.com)" in mp.note
    assert d.parties_not_seen == ("Amazon Web Services",)
    assert d.elements is None and d.undeclared_elements == () and d.not_observed == ()


# ------------------------------------------------------------------ findings


def test_findings_only_with_a_declaration() -> None:
    plain = _app().findings()
    assert not {"EDS022", "EDS023", "EDS024"} & set(_rules(plain))
    declared = _app().declare(decl('elements = ["st_contact.email"]\nthird_party = []'))
    findings = declared.findings()
    by_rule: dict[str, list] = {}  # type: ignore[type-arg]
    for f in findings:
        by_rule.setdefault(f.rule, []).append(f)
    eds022 = {f.recipients[0]: f for f in by_rule["EDS022"]}
    assert set(eds022) == {"facebook.com", "mixpanel.com"}
    assert eds022["facebook.com"].severity is Severity.HIGH
    assert eds022["facebook.com"].elements == ("st_contact.email",)
    assert "vendor.toml" in eds022["facebook.com"].summary
    assert [f.recipients for f in by_rule["EDS023"]] == [("jsdelivr.net",)]
    assert by_rule["EDS023"][0].severity is Severity.LOW
    assert sorted(f.elements[0] for f in by_rule["EDS024"]) == ["dev.gaid", "sid.password"]
    assert all(f.severity is Severity.MEDIUM for f in by_rule["EDS024"])
    for f in findings:
        assert f.evidence and f.occurrences >= 1


def test_an_unattributed_recipient_is_reported_at_medium_confidence_at_most() -> None:
    b = ScanBuilder()
    i = b.flow("https://collect.unknown-metrics.example/e", method="POST", request_bytes=40)
    b.obs(i, "st.name", location="body:$.name")
    f = next(f for f in b.declare(decl("third_party = []")).findings() if f.rule == "EDS022")
    assert f.confidence is Confidence.MEDIUM
    assert "only its domain could be matched" in f.summary


def test_an_undeclared_element_keeps_its_fingerprint_when_recipients_change() -> None:
    a = ScanBuilder()
    i = a.flow("https://api.school.example/p", method="POST", request_bytes=10)
    a.obs(i, "demo.dob", location="body:$.dob")
    b = ScanBuilder().recipient("braze.com", "customer engagement / messaging", org="Braze, Inc.")
    j = b.flow("https://sdk.iad-01.braze.com/api/v3/data", method="POST", request_bytes=10)
    b.obs(j, "demo.dob", location="body:$.attributes.dob")
    spec = decl('elements = ["st.name"]')
    fa = [f for f in a.declare(spec).findings() if f.rule == "EDS024"]
    fb = [f for f in b.declare(spec).findings() if f.rule == "EDS024"]
    assert len(fa) == len(fb) == 1
    assert fa[0].recipients != fb[0].recipients
    assert fa[0].fingerprint == fb[0].fingerprint


# ------------------------------------------------------------------ outputs


@pytest.fixture(scope="module")
def declared_result():  # type: ignore[no-untyped-def]
    spec = decl(
        'vendor = "Quill <script>alert(1)</script> Inc."\n'
        'elements = ["st_contact.email"]\n'
        '[[third_party]]\nname = "Mixpanel"\npurpose = "<b>analytics</b>"'
    )
    return _app().declare(spec).build()


def test_json_has_the_declared_key_only_with_a_declaration(declared_result) -> None:  # type: ignore[no-untyped-def]
    result = replace(declared_result, findings=tuple(run_rules(declared_result)))
    doc = json.loads(report.render(result, "json"))
    jsonschema.validate(doc, SCHEMA)
    jsonschema.validate(json.loads(report.render(result, "json", reveal=True)), SCHEMA)
    d = doc["declared"]
    assert d["source"] == "vendor.toml" and d["elements"] == ["st_contact.email"]
    assert [r["domain"] for r in d["recipients"] if not r["declared"]] == [
        "facebook.com",
        "jsdelivr.net",
    ]
    assert [u["element"] for u in d["undeclared_elements"]] == ["sid.password", "dev.gaid"]
    assert d["summary"].startswith("2 of the 3 third parties contacted are not listed")
    plain = json.loads(report.render(replace(result, declared=None), "json"))
    assert "declared" not in plain
    jsonschema.validate(plain, SCHEMA)
    d["recipients"][0]["matched_by"] = "guess"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, SCHEMA)


def test_every_format_renders_a_declared_result(declared_result) -> None:  # type: ignore[no-untyped-def]
    for fmt in report.FORMATS:
        assert report.render(declared_result, fmt)
    text = report.render(declared_result, "text")
    block = text.split("Declared vs observed", 1)[1].split("\n\n", 1)[0]
    assert "2 of the 3 third parties contacted are not listed in the agreement" in block
    assert "not listed: Meta Platforms, Inc. (facebook.com): st_contact.email" in block
    assert "not in Exhibit B: dev.gaid" in block
    assert "Declared vs observed" not in report.render(
        replace(declared_result, declared=None), "text"
    )


def _section(soup: BeautifulSoup, sid: str) -> Tag:
    el = soup.find("section", id=sid)
    assert isinstance(el, Tag), sid
    return el


def _text(el: Tag) -> str:
    return " ".join(el.get_text(" ").split())


def test_html_section_declared_vs_observed(declared_result) -> None:  # type: ignore[no-untyped-def]
    soup = BeautifulSoup(report.render(declared_result, "html"), "html.parser")
    sec = _section(soup, "declared")
    assert _text(sec.find("h2")) == "Declared vs observed"
    ids = [s["id"] for s in soup.find_all("section")]
    assert ids.index("declared") == ids.index("exhibit-b") + 1
    assert "#declared" in [a["href"] for a in soup.select("nav.toc a")]
    rows = sec.select("table.declared-parties tbody tr")
    assert [r["class"] for r in rows] == [["not-listed"], ["not-listed"], ["listed"]]
    cells = [[_text(td) for td in r.find_all("td")] for r in rows]
    assert cells[0][:4] == [
        "Meta Platforms, Inc.",
        "facebook.com",
        "advertising, ad-motivated tracking",
        "not listed",
    ]
    assert cells[0][4] == "Student e-mail"
    assert cells[1][4] == "none detected"
    assert cells[2][3].startswith("listed as “Mixpanel” by company")
    elements = [_text(r.find("td")) for r in sec.select("table.declared-elements tbody tr")]
    assert elements == [
        "Student app password sid.password",
        "Advertising identifier (Android GAID/AAID) dev.gaid",
    ]
    # the reviewer's own strings are escaped like captured ones
    assert sec.find("script") is None and sec.find("b") is None
    assert "<script>alert(1)</script>" in _text(sec) and "<b>analytics</b>" in _text(sec)
    plain = BeautifulSoup(
        report.render(replace(declared_result, declared=None), "html"), "html.parser"
    )
    assert plain.find("section", id="declared") is None
    assert "#declared" not in [a["href"] for a in plain.select("nav.toc a")]


# ------------------------------------------------------------------ the pipeline and the CLI


def test_scan_with_declared_on_a_real_capture(tmp_path: Path) -> None:
    capture = write_app_capture(tmp_path / "app.edscan.jsonl")
    spec = decl('elements = ["st_contact", "enr"]\n[[third_party]]\nname = "Google"')
    result = scan(capture, first_party=(FIRST_PARTY,), declared=spec)
    assert result.declared is not None
    undeclared = {r.domain for r in result.declared.undeclared_recipients}
    assert undeclared == {"facebook.com"}  # Google LLC matched by name
    assert "EDS022" in {f.rule for f in result.findings if f.recipients == ("facebook.com",)}
    assert result.score is not None
    baseline = scan(capture, first_party=(FIRST_PARTY,))
    assert baseline.declared is None
    assert {f.fingerprint for f in baseline.findings} < {f.fingerprint for f in result.findings}


def test_cli_scan_json_and_bad_declaration_exit_2(tmp_path: Path) -> None:
    capture = write_app_capture(tmp_path / "app.edscan.jsonl")
    good = tmp_path / "vendor.toml"
    good.write_text("third_party = []\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["scan", str(capture), "--declared", str(good), "-f", "json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert doc["declared"]["source"] == str(good)
    bad = tmp_path / "bad.toml"
    bad.write_text('elements = ["st.name", "sid.sasid"]\n', encoding="utf-8")
    for command in (
        ["scan", str(capture)],
        ["report", str(capture), "-o", str(tmp_path / "r.html")],
    ):
        r = CliRunner().invoke(cli, [*command, "--declared", str(bad)])
        assert r.exit_code == 2, r.output
        lines = r.output.strip().splitlines()
        assert len(lines) == 1 and "'sid.sasid'" in lines[0], r.output
    assert not (tmp_path / "r.html").exists()


def test_classdojo_har_meta_and_tiktok_are_not_in_a_declaration_without_ad_tech(
    tmp_path: Path,
) -> None:
    har = shared_path("corpus", "edtech", "teacher-login-www.classdojo.com.har")
    vendor = tmp_path / "classdojo.toml"
    vendor.write_text(
        'vendor = "ClassDojo, Inc."\n'
        'elements = ["Application Technology Meta Data", "Application Use Statistics",\n'
        '            "Student Contact Information", "Student Identifiers", "st.name"]\n'
        '[[third_party]]\nname = "Amazon Web Services"\ndomains = ["amazonaws.com"]\n'
        '[[third_party]]\nname = "Google LLC"\npurpose = "sign-in with Google"\n'
        '[[third_party]]\nname = "Functional Software, Inc. (Sentry)"\ndomains = ["sentry.io"]\n',
        encoding="utf-8",
    )
    html, sidecar = tmp_path / "dojo.html", tmp_path / "dojo.json"
    r = CliRunner().invoke(
        cli,
        ["report", str(har), "--declared", str(vendor), "-o", str(html), "--json", str(sidecar)],
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(sidecar.read_text(encoding="utf-8"))
    jsonschema.validate(doc, SCHEMA)
    undeclared = {x["organization"]: x for x in doc["declared"]["recipients"] if not x["declared"]}
    assert {"Meta Platforms, Inc.", "ByteDance Ltd."} <= set(undeclared)
    assert all(x["received_data"] for x in undeclared.values())
    eds022 = {f["recipients"][0] for f in doc["findings"] if f["rule"] == "EDS022"}
    assert {"facebook.com", "tiktok.com"} <= eds022
    soup = BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser")
    rows = _section(soup, "declared").select("table.declared-parties tbody tr.not-listed")
    names = {_text(row.find("td")) for row in rows}
    assert {"Meta Platforms, Inc.", "ByteDance Ltd."} <= names
