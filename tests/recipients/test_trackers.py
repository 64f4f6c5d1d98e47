"""The bundled lists, the SDK endpoint table, and attribution precedence with provenance."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from conftest import DATA

from edscan.errors import EdscanError
from edscan.recipients import update
from edscan.recipients.listformat import (
    CATEGORIES,
    TRACKING_CATEGORIES,
    SdkRule,
    parse_edscan_list,
    path_pattern,
)
from edscan.recipients.trackers import BUNDLED_FILES, TrackerDB, is_tracking, load_trackers
from edscan.resources import read_text

FIX = DATA / "lists"


@pytest.fixture(scope="module")
def db() -> TrackerDB:
    """The bundled lists alone (an empty data directory): what a fresh install sees."""
    import tempfile

    with tempfile.TemporaryDirectory() as empty:
        return load_trackers(Path(empty))


def _bundled() -> dict[str, dict]:  # type: ignore[type-arg]
    return {name: tomllib.loads(read_text("tracker_lists", name)) for name in BUNDLED_FILES}


# --------------------------------------------------------------------------- the bundled data


def test_every_bundled_record_uses_the_vocabulary_and_names_its_basis() -> None:
    vocab = set(CATEGORIES)
    assert len(vocab) == 22  # "accessibility overlay" added for school sites
    records = 0
    for name, data in _bundled().items():
        text = read_text("tracker_lists", name)
        assert text.startswith("# edscan bundled") and "Provenance:" in text[:1500], name
        assert {"name", "version", "licence"} <= set(data["meta"]), name
        for ent in data.get("entity", []):
            assert ent["organization"].strip(), ent
            assert ent.get("source", "").strip(), f"{ent['organization']} has no source"
            assert set(ent.get("categories", [])) <= vocab, ent["organization"]
            for domain, cats in ent.get("domain_categories", {}).items():
                assert set(cats) <= vocab, (ent["organization"], domain, cats)
                records += 1
            records += len(ent.get("domains", []))
        for rule in data.get("sdk", []):
            assert set(rule.get("categories", [])) <= vocab, rule["name"]
            records += 1
        parse_edscan_list(data, name)  # the loader's own checks pass too
    assert records > 1000


def test_at_least_400_tracker_domains() -> None:
    tracking = set()
    for data in _bundled().values():
        for ent in data.get("entity", []):
            default = set(ent.get("categories", []))
            for d in ent.get("domains", []):
                if default & TRACKING_CATEGORIES:
                    tracking.add(d)
            for d, cats in ent.get("domain_categories", {}).items():
                if set(cats) & TRACKING_CATEGORIES:
                    tracking.add(d)
    assert len(tracking) >= 400, len(tracking)


def test_no_domain_is_listed_twice_across_bundled_files() -> None:
    seen: dict[str, str] = {}
    for name, data in _bundled().items():
        entries, _rules, _meta = parse_edscan_list(data, name)
        for key in entries:
            assert key not in seen, f"{key} in {name} and {seen[key]}"
            seen[key] = name


EDTECH = {
    "classroom.google.com": "Google LLC",
    "clever.com": "Clever Inc.",
    "launchpad.classlink.com": "ClassLink, Inc.",
    "app.seesaw.me": "Seesaw Learning, Inc.",
    "www.classdojo.com": "ClassDojo, Inc.",
    "kahoot.it": "Kahoot! ASA",
    "quizlet.com": "Quizlet, Inc.",
    "app.nearpod.com": "Nearpod Inc.",
    "app.peardeck.com": "Pear Deck",
    "www.khanacademy.org": "Khan Academy, Inc.",
    "cdn.kastatic.org": "Khan Academy, Inc.",
    "www.ixl.com": "IXL Learning, Inc.",
    "play.prodigygame.com": "Prodigy Education Inc.",
    "newsela.com": "Newsela, Inc.",
    "edpuzzle.com": "Edpuzzle, Inc.",
    "flipgrid.com": "Microsoft Corporation",
    "app.schoology.com": "Schoology, Inc.",
    "school.instructure.com": "Instructure, Inc.",
    "district.powerschool.com": "PowerSchool Holdings, Inc.",
    "school.blackboard.com": "Anthology Inc.",
    "www.remind.com": "Remind101, Inc.",
    "www.zearn.org": "Zearn",
    "www.getepic.com": "Epic! Creations, Inc.",
    "www.brainpop.com": "BrainPOP LLC",
    "www.duolingo.com": "Duolingo, Inc.",
}
MONITORING = [
    "goguardian.com",
    "gaggle.net",
    "securly.com",
    "lightspeedsystems.com",
    "bark.us",
    "hapara.com",
]


@pytest.mark.parametrize(("host", "org"), sorted(EDTECH.items()))
def test_major_edtech_vendors(db: TrackerDB, host: str, org: str) -> None:
    a = db.attribute(host)
    assert a.organization == org
    assert "ed-tech vendor" in a.categories


@pytest.mark.parametrize("host", MONITORING)
def test_student_monitoring_vendors(db: TrackerDB, host: str) -> None:
    assert "student monitoring / safety" in db.attribute(host).categories


@pytest.mark.parametrize(
    "host",
    ["clever.com", "launchpad.classlink.com", "accounts.google.com", "login.microsoftonline.com"],
)
def test_school_sso(db: TrackerDB, host: str) -> None:
    assert "SSO / identity" in db.attribute(host).categories


@pytest.mark.parametrize(
    "host",
    [
        "static.hotjar.com",
        "rs.fullstory.com",
        "k.clarity.ms",
        "r.lr-ingest.io",
        "rec.smartlook.com",
        "o2.mouseflow.com",
        "script.crazyegg.com",
        "cdn.quantummetric.com",
    ],
)
def test_session_replay_vendors_carry_the_category(db: TrackerDB, host: str) -> None:
    a = db.attribute(host)
    assert "session replay" in a.categories and a.organization
    assert is_tracking(a)


@pytest.mark.parametrize(
    ("host", "org"),
    [
        ("api.openai.com", "OpenAI"),
        ("api.anthropic.com", "Anthropic PBC"),
        ("generativelanguage.googleapis.com", "Google LLC"),
        ("api.mistral.ai", "Mistral AI SAS"),
        ("myschool.openai.azure.com", "Microsoft Corporation"),
    ],
)
def test_ai_model_providers(db: TrackerDB, host: str, org: str) -> None:
    a = db.attribute(host)
    assert a.organization == org and "AI model provider" in a.categories


# --------------------------------------------------------------------------- SDK endpoint table


@pytest.mark.parametrize(
    ("host", "path", "sdk"),
    [
        ("www.facebook.com", "/tr/", "Meta Pixel"),
        ("www.facebook.com", "/tr?id=1&ev=PageView", "Meta Pixel"),
        ("connect.facebook.net", "/en_US/fbevents.js", "Meta Pixel (loader)"),
        ("www.google-analytics.com", "/g/collect", "Google Analytics 4"),
        ("region1.analytics.google.com", "/g/collect", "Google Analytics 4"),
        ("stats.g.doubleclick.net", "/g/collect", "Google Signals (GA4 remarketing)"),
        (
            "sgtm.myschoolapp.example",
            "/g/collect",
            "Google Analytics 4 (server-side tag container)",
        ),
        ("api.segment.io", "/v1/t", "Segment"),
        ("api.segment.io", "/v1/batch", "Segment"),
        ("api-js.mixpanel.com", "/track/", "Mixpanel"),
        ("api-js.mixpanel.com", "/record", "Mixpanel Session Replay"),
        ("analytics.tiktok.com", "/api/v2/pixel", "TikTok Pixel"),
        ("o4504.ingest.us.sentry.io", "/api/12/envelope/", "Sentry"),
        ("api.openai.com", "/v1/chat/completions", "OpenAI API"),
        ("bat.bing.com", "/action/0", "Microsoft Advertising UET"),
        ("c.clarity.ms", "/c.gif", "Microsoft Clarity cookie sync"),
        ("c.bing.com", "/c.gif", "Microsoft Clarity cookie sync"),
        ("k.clarity.ms", "/collect", "Microsoft Clarity"),
        ("www.google.com", "/pagead/1p-user-list/123/", "Google Ads remarketing"),
        ("www.google.co.uk", "/pagead/1p-user-list/123/", "Google Ads remarketing"),
        ("ad.doubleclick.net", "/activity;src=1;type=x", "Floodlight (Campaign Manager 360)"),
    ],
)
def test_sdk_endpoint_table(db: TrackerDB, host: str, path: str, sdk: str) -> None:
    a = db.attribute(host, path)
    assert a.sdk == (sdk,)
    assert "bundled:edscan-sdk@2026.11" in a.sources


def test_sdk_paths_match_whole_segments(db: TrackerDB) -> None:
    assert db.attribute("www.facebook.com", "/track").sdk == ()
    assert db.attribute("www.facebook.com", "/").sdk == ()
    assert db.attribute("www.facebook.com").sdk == ()  # no path, no pixel
    assert db.attribute("static.hotjar.com").sdk == ("Hotjar",)  # a host-wide rule
    # a path rule adds its categories to the host's own
    assert "advertising" in db.attribute("www.google.com", "/pagead/1p-conversion/1/").categories
    assert db.attribute("www.google.com", "/search").categories == ()


def test_path_pattern() -> None:
    import re

    def m(pattern: str, path: str) -> bool:
        return re.match(path_pattern(pattern), path) is not None

    assert m("/tr", "/tr") and m("/tr", "/tr/") and m("/tr", "/tr/x") and not m("/tr", "/track")
    assert m("/v1/", "/v1/t") and not m("/v1/", "/v2/t")
    assert m("/api/*/envelope/", "/api/42/envelope/") and not m(
        "/api/*/envelope/", "/api/envelope/"
    )
    assert m("/activity;**", "/activity;src=1;cat=a") and not m("/activity;**", "/activityx")
    assert SdkRule(name="x", hosts=("a.test",), paths=("/a", "/b/*/c")).matches_path("/b/1/c")


# --------------------------------------------------------------------------- attribution


def test_unknown_hosts_ip_literals_and_localhost(db: TrackerDB) -> None:
    assert db.attribute("app.unknown-vendor.example").organization is None
    assert db.attribute("app.unknown-vendor.example").domain == "unknown-vendor.example"
    for host, domain in [
        ("10.0.0.7", "10.0.0.7"),
        ("[::1]:8080", "::1"),
        ("localhost", "localhost"),
    ]:
        a = db.attribute(host)
        assert (a.domain, a.organization, a.sources) == (domain, None, ())


def test_name_under_any_public_suffix(db: TrackerDB) -> None:
    assert db.attribute("www.google.bg").organization == "Google LLC"
    assert db.attribute("www.google.co.uk").domain == "google.co.uk"
    assert db.attribute("google.evil.example").organization is None  # not a google.* domain


def test_more_specific_suffix_wins(db: TrackerDB) -> None:
    assert db.attribute("accounts.google.com").categories == ("SSO / identity",)
    assert db.attribute("www.google.com").categories == ()
    assert db.attribute("px.ads.linkedin.com").categories == (
        "advertising",
        "ad-motivated tracking",
    )
    assert db.attribute("www.linkedin.com").categories == ("social network",)
    assert db.attribute("www.linkedin.com").parent == "Microsoft Corporation"


def test_lists_report_the_bundled_files_and_the_psl(db: TrackerDB) -> None:
    infos = {i.name: i for i in db.lists()}
    assert {"edscan-trackers", "edscan-edtech", "edscan-sdk", "publicsuffix"} <= set(infos)
    assert (
        infos["edscan-trackers"].source == "bundled" and len(infos["edscan-trackers"].sha256) == 64
    )
    assert infos["publicsuffix"].source == "bundled with tldextract"


@pytest.fixture
def installed(tmp_path: Path) -> Path:
    """A data directory with every fixture list installed and an overrides file."""
    out = update.import_files(tmp_path, [FIX], accept_noncommercial=True)
    assert {o.name: o.status for o in out} == {
        "adguard-companiesdb": "updated",
        "exodus": "updated",
        "duckduckgo-tds": "updated",
        "disconnect": "updated",
        "ghostery-trackerdb": "updated",
    }
    (tmp_path / "overrides.toml").write_text(
        """
[[entity]]
organization = "Our District's Own Name For Meta"
source = "district contract register"
categories = ["advertising"]
domains = ["facebook.com"]

[[entity]]
organization = "KidPixel (per our vendor review)"
source = "vendor review 2026"
domain_categories = { "sync.kidpixel-cdn.test" = ["identity resolution / data broker"] }

[[sdk]]
name = "KidPixel beacon"
hosts = ["kidpixel.test"]
paths = ["/beacon"]
categories = ["advertising"]
""",
        encoding="utf-8",
    )
    return tmp_path


def test_precedence_overrides_then_bundled_then_downloaded(installed: Path) -> None:
    db = load_trackers(installed, accept_noncommercial=True)
    fb = db.attribute("www.facebook.com", "/tr/")
    assert fb.organization == "Our District's Own Name For Meta"  # overrides beat bundled
    assert fb.sources[0].startswith("user-overrides@")
    assert fb.sdk == ("Meta Pixel",)  # the bundled SDK table still names the endpoint
    # bundled beats every downloaded list
    assert db.attribute("www.google-analytics.com").organization == "Google LLC"
    # a host only downloaded lists know: AdGuard (first in order, permissive licence) decides
    kp = db.attribute("pixel.kidpixel.test", "/beacon/1")
    assert kp.organization == "KidPixel Co."
    assert kp.sources == (
        "adguard-companiesdb@2026-05-04 (CC BY-SA 4.0)",
        "user-overrides@" + kp.sources[1].split("@", 1)[1],
    )
    assert kp.sdk == ("KidPixel beacon",)
    # overrides beat AdGuard for the more specific key they name
    assert db.attribute("sync.kidpixel-cdn.test").organization == "KidPixel (per our vendor review)"


def test_a_platform_names_its_customers_hosts_only_where_no_list_knows_them(
    installed: Path,
) -> None:
    """cloudfront.net is Amazon's CDN in the bundled list; each customer's host there is a
    registrable domain of its own (a private suffix), which a downloaded list may know."""
    db = load_trackers(installed)
    customer = db.attribute("d1lessonstats.cloudfront.net")
    assert (customer.organization, customer.categories) == ("LessonStats Inc.", ("analytics",))
    assert customer.sources[0].startswith("adguard-companiesdb@")
    other = db.attribute("d9unknown.cloudfront.net")
    assert other.organization == "Amazon.com, Inc."
    assert other.sources[0].startswith("bundled:")


def test_noncommercial_lists_only_when_accepted_and_labelled(installed: Path) -> None:
    without = load_trackers(installed)
    assert without.attribute("replaykids.test").organization is None
    assert {i.name for i in without.lists()} >= {"adguard-companiesdb", "exodus"}
    assert not {"duckduckgo-tds", "disconnect", "ghostery-trackerdb"} & {
        i.name for i in without.lists()
    }
    unused = [o for o in without.opinions("replaykids.test") if not o.used]
    assert {o.layer for o in unused} == {"duckduckgo-tds", "disconnect", "ghostery-trackerdb"}

    accepted = load_trackers(installed, accept_noncommercial=True)
    a = accepted.attribute("replaykids.test")
    assert (a.organization, a.parent) == ("ReplayKids", "Example Holdings")
    assert a.categories == ("session replay", "analytics")
    assert a.sources == ("duckduckgo-tds@" + a.sources[0].split("@")[1],)
    assert "CC BY-NC-SA 4.0, non-commercial" in a.sources[0]
    nc = {i.name: i for i in accepted.lists()}
    assert nc["duckduckgo-tds"].noncommercial and not nc["adguard-companiesdb"].noncommercial


def test_categories_from_a_list_without_owners(installed: Path) -> None:
    db = load_trackers(installed)
    a = db.attribute("kidads.test")
    assert a.organization is None
    assert a.categories == ("advertising", "ad-motivated tracking")
    assert a.sources[0].startswith("exodus@")
    # a regex signature (not a plain host) still matches
    assert db.attribute("collect12.odd.test").categories == ("analytics",)


def test_broken_overrides_file_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "overrides.toml").write_text(
        '[[entity]]\norganization = "X"\ncategories = ["trackers"]\ndomains = ["x.test"]\n'
    )
    with pytest.raises(EdscanError, match="unknown category"):
        load_trackers(tmp_path)
    (tmp_path / "overrides.toml").write_text("[[entity]\n")
    with pytest.raises(EdscanError, match="overrides file"):
        load_trackers(tmp_path)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"entity": [{"organization": "X", "domains": ["x.test"], "colour": 1}]}, "unknown keys"),
        ({"entity": [{"organization": "X"}]}, "no domains"),
        ({"entity": [{"domains": ["x.test"]}]}, "'organization' is required"),
        (
            {
                "entity": [
                    {"organization": "X", "domains": ["x.test"]},
                    {"organization": "Y", "domains": ["x.test"]},
                ]
            },
            "already listed",
        ),
        ({"sdk": [{"name": "S", "hosts": ["*"]}]}, "needs paths"),
        ({"sdk": [{"name": "S", "hosts": ["a.test"], "paths": ["tr"]}]}, "must start with"),
    ],
)
def test_list_format_errors(data: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError, match=message):
        parse_edscan_list(data, "t.toml")


def test_a_tampered_installed_list_is_skipped_and_reported(installed: Path) -> None:
    path = installed / "lists" / "adguard-companiesdb" / "trackers.json"
    path.write_bytes(path.read_bytes().replace(b"KidPixel", b"EvilPixel"))
    db = load_trackers(installed)
    assert db.attribute("kidpixel.test").organization is None
    assert any("sha256" in p for p in db.problems)


@pytest.mark.parametrize(
    ("host", "organization", "category"),
    [
        ("cdn.userway.org", "UserWay Inc.", "accessibility overlay"),
        ("acsbapp.com", "accessiBe Ltd.", "accessibility overlay"),
        ("wcdn.audioeye.com", "AudioEye, Inc.", "accessibility overlay"),
        ("cdn.callrail.com", "CallRail, Inc.", "ad-motivated tracking"),
        ("tctm.co", "CallTrackingMetrics, LLC", "ad-motivated tracking"),
        ("flask.nextdoor.com", "Nextdoor Holdings, Inc.", "advertising"),
        ("form.typeform.com", "Typeform S.L.", "customer engagement / messaging"),
        ("resources.finalsite.net", "Finalsite", "ed-tech vendor"),
        ("scripts.whatconverts.com", "WhatConverts", "ad-motivated tracking"),
        ("api.callsource.com", "CallSource, Inc.", "analytics"),
        ("js.survicate.com", "Survicate", "customer engagement / messaging"),
        (
            "static.polldaddy.com",
            "Automattic Inc. (Crowdsignal)",
            "customer engagement / messaging",
        ),
        ("school.wufoo.com", "Wufoo", "customer engagement / messaging"),
        ("www.classy.org", "Classy", "payments"),
        ("givebutter.com", "Givebutter, Inc.", "payments"),
        ("capture.umbel.com", "Umbel", "analytics"),
        ("s.tagsrvcs.com", "HUMAN Security, Inc.", "fingerprinting"),
        ("bam.nr-data.net", "New Relic, Inc.", "analytics"),
        ("logx.optimizely.com", "Optimizely, Inc.", "analytics"),
    ],
)
def test_services_school_sites_embed_are_attributed(
    tmp_path: Path, host: str, organization: str, category: str
) -> None:
    db = load_trackers(tmp_path)
    a = db.attribute(host)
    assert a.organization == organization and category in a.categories
    # an overlay, a call tracker or a neighbourhood ad pixel is never inferred as the school
    assert db.is_service(host) or category == "ed-tech vendor"
