"""Registrable domains (PSL, offline), host normalisation, and first versus third party."""

from __future__ import annotations

from pathlib import Path

import pytest

from edscan.models import Field, FlowSummary, Party
from edscan.recipients import domains, psl
from edscan.recipients.domains import normalize_host, registrable_domain
from edscan.recipients.first_party import FirstParty
from edscan.recipients.trackers import TrackerDB, load_trackers


@pytest.fixture(scope="module")
def db() -> TrackerDB:
    import tempfile

    with tempfile.TemporaryDirectory() as empty:
        return load_trackers(Path(empty))


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("www.classdojo.com", "classdojo.com"),
        ("a.b.example.co.uk", "example.co.uk"),
        ("WWW.Example.COM", "example.com"),
        ("core19usw2.fabrik.nytimes.com.", "nytimes.com"),  # trailing dot (seen in a real HAR)
        ("api.example.com:8443", "example.com"),
        ("https://user@api.example.com:8443/path?q=1", "example.com"),
        ("192.168.1.20", "192.168.1.20"),
        ("192.168.1.20:8080", "192.168.1.20"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("2001:DB8:0:0::1", "2001:db8::1"),
        ("localhost", "localhost"),
        ("app.localhost:3000", "localhost"),
        ("www.bücher.de", "xn--bcher-kva.de"),  # IDN → punycode
        ("xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("myschool.github.io", "myschool.github.io"),  # PSL private section
        ("bucket.s3.amazonaws.com", "bucket.s3.amazonaws.com"),
        ("d3qdfnco3bamip.cloudfront.net", "d3qdfnco3bamip.cloudfront.net"),
        ("api.school.lan", "school.lan"),  # unknown suffix: last two labels
        ("co.uk", "co.uk"),  # a bare public suffix
        ("", ""),
    ],
)
def test_registrable_domain(host: str, domain: str) -> None:
    assert registrable_domain(host) == domain


def test_normalize_host() -> None:
    assert normalize_host(" Example.COM. ") == "example.com"
    assert normalize_host("[::1]") == "::1"
    assert normalize_host("::ffff:10.0.0.1") == "::ffff:a00:1"
    assert domains.host_suffixes("a.b.c") == ["a.b.c", "b.c", "c"]


def test_psl_from_a_downloaded_file_is_used_offline(tmp_path: Path) -> None:
    psl = tmp_path / "public_suffix_list.dat"
    # a list where "school.test" is a public suffix: each school is its own registrable domain
    psl.write_text(
        "// ===BEGIN ICANN DOMAINS===\ncom\ntest\nschool.test\n// ===END ICANN DOMAINS===\n"
    )
    try:
        domains.use_public_suffix_list(psl)
        assert domains.public_suffix_list_path() == psl
        assert registrable_domain("app.lincoln.school.test") == "lincoln.school.test"
    finally:
        domains.use_public_suffix_list(None)
    assert registrable_domain("app.lincoln.school.test") == "school.test"


def test_domains_never_import_tldextract() -> None:
    # tldextract's import pulls in requests (~70 ms of start-up); the PSL is read as text
    source = Path(domains.__file__).read_text() + Path(psl.__file__).read_text()
    assert "import tldextract" not in source


_HOSTS = [
    "www.example.co.uk",
    "a.b.c.example.com",
    "myschool.github.io",
    "bucket.s3.amazonaws.com",
    "x.y.kawasaki.jp",  # wildcard rule *.kawasaki.jp
    "city.kawasaki.jp",  # exception rule !city.kawasaki.jp
    "www.city.kawasaki.jp",
    "a.b.ck",
    "www.ck",
    "api.school.lan",
    "co.uk",
    "xn--bcher-kva.de",
    "shop.xn--55qx5d.cn",  # an internationalised suffix, as punycode
    "a.b.xn--fiqs8s",
    "app.d3qdfnco3bamip.cloudfront.net",
]


@pytest.mark.parametrize("host", _HOSTS)
def test_registrable_domain_agrees_with_tldextract(host: str) -> None:
    import tldextract

    extract = tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
    )
    ext = extract(host)
    expected = ext.top_domain_under_public_suffix
    if not expected:
        labels = host.split(".")
        expected = ".".join(labels[-2:]) if not ext.suffix and len(labels) >= 2 else host
    assert registrable_domain(host) == expected


def test_unreadable_psl_falls_back_to_the_snapshot(tmp_path: Path) -> None:
    rules = psl.load_rules(tmp_path / "missing.dat")
    assert "co.uk" in rules.plain and "github.io" in rules.plain


def test_the_parsed_rules_are_kept_in_the_compiled_cache(tmp_path: Path) -> None:
    plain = psl.load_rules(None)
    cached = psl.load_rules(None, tmp_path)
    [stored] = (tmp_path / "cache").iterdir()
    assert cached == plain and "xn--p1ai" in cached.plain  # .рф, as punycode
    assert psl.load_rules(None, tmp_path) == plain  # now read from the cache
    # a cache of the wrong shape (an older format, a damaged file) is rebuilt, never trusted
    from edscan.recipients import listcache

    raw = psl.snapshot_path().read_bytes()  # type: ignore[union-attr]
    listcache.write_cached(tmp_path, raw, {"plain": 1})
    assert psl.load_rules(None, tmp_path) == plain
    stored.write_bytes(b"\x00garbage")
    assert psl.load_rules(None, tmp_path) == plain


def flow(i: int, host: str, t: float | None = None, **kw: object) -> FlowSummary:
    return FlowSummary(
        index=i,
        host=host,
        method="GET",
        url=f"https://{host}/p{i}",
        scheme="https",
        status=200,
        phase=None,
        time=t if t is not None else float(i),
        request_bytes=0,
        response_bytes=0,
        tls_intercepted=None,
        error=None,
        **kw,  # type: ignore[arg-type]
    )


def test_given_first_party_with_entity_awareness(db: TrackerDB) -> None:
    fp = FirstParty.resolve(["https://www.khanacademy.org/"], [], db)
    assert fp.domains == ("khanacademy.org",) and not fp.inferred
    assert fp.organizations == ("Khan Academy, Inc.",)
    assert fp.party("cdn.kastatic.org") is Party.FIRST  # same owner: its static CDN
    assert fp.party("www.khanacademy.org") is Party.FIRST
    assert fp.party("www.google-analytics.com") is Party.THIRD
    assert fp.party("10.0.0.1") is Party.THIRD


def test_given_first_party_unknown_to_the_lists(db: TrackerDB) -> None:
    fp = FirstParty.resolve(["myapp.example", "myapp-cdn.example"], [], db)
    assert fp.domains == ("myapp.example", "myapp-cdn.example")
    assert fp.organizations == ()
    assert fp.party("api.myapp-cdn.example") is Party.FIRST
    assert fp.party("connect.facebook.net") is Party.THIRD


def test_inferred_from_first_flow_and_counts_skipping_trackers(db: TrackerDB) -> None:
    flows = [
        flow(0, "www.classdojo.com"),
        *[flow(i, "www.facebook.com") for i in range(1, 6)],  # more flows, but a tracker
        flow(6, "api.classdojo.com"),
        flow(7, "static.classdojo.com"),
        flow(8, "analytics.tiktok.com"),
    ]
    fp = FirstParty.resolve([], flows, db)
    assert fp.inferred and fp.domains == ("classdojo.com",)
    assert "first flow" in fp.reason and "3 of 9 flows" in fp.reason
    assert fp.party("www.facebook.com") is Party.THIRD


def test_inferred_uses_referer_and_origin_signals(db: TrackerDB) -> None:
    def ref(value: str) -> tuple[Field, ...]:
        return (Field(location="header:referer", key="Referer", value=value),)

    flows = [
        flow(0, "cdn.unknown-widgets.example"),  # the earliest flow is a widget's
        flow(1, "cdn.unknown-widgets.example"),
        flow(2, "app.myschoolapp.example", signals=ref("https://app.myschoolapp.example/")),
        flow(3, "cdn.unknown-widgets.example", signals=ref("https://app.myschoolapp.example/x")),
        flow(4, "api.unknown-widgets.example", signals=ref("https://app.myschoolapp.example/")),
        flow(
            5,
            "app.myschoolapp.example",
            signals=(
                Field(
                    location="header:origin", key="Origin", value="https://app.myschoolapp.example"
                ),
            ),
        ),
    ]
    fp = FirstParty.resolve([], flows, db)
    assert fp.domains == ("myschoolapp.example",)
    assert "4 Referer/Origin headers" in fp.reason


def test_inferred_first_party_groups_same_owner_domains(db: TrackerDB) -> None:
    flows = [
        flow(0, "en.wikipedia.org"),
        flow(1, "upload.wikimedia.org"),
        flow(2, "en.wikipedia.org"),
    ]
    fp = FirstParty.resolve([], flows, db)
    assert fp.domains == ("wikipedia.org", "wikimedia.org")
    assert "owned by Wikimedia Foundation, Inc." in fp.reason


def test_a_tracker_is_never_inferred_as_the_app_and_no_flows_picks_none(db: TrackerDB) -> None:
    # only trackers seen: no first party rather than a tracker read as the app
    fp = FirstParty.resolve([], [flow(0, "www.facebook.com"), flow(1, "www.facebook.com")], db)
    assert fp.domains == () and fp.inferred
    assert fp.basis is not None and fp.basis.method == "none" and fp.basis.confidence is None
    assert "--first-party" in fp.reason and "facebook.com" in fp.reason
    assert fp.basis.candidates[0].excluded.startswith("the lists class it as")
    assert fp.party("www.facebook.com") is Party.THIRD
    # --first-party can still say so
    assert FirstParty.resolve(["facebook.com"], [], db).party("www.facebook.com") is Party.FIRST
    empty = FirstParty.resolve([], [], db)
    assert empty.domains == () and empty.inferred
    assert empty.party("anything.example") is Party.THIRD


def test_a_customer_of_a_hosting_company_is_not_the_hosting_company(db: TrackerDB) -> None:
    # the lists know herokuapp.com (Salesforce) and firebaseapp.com (Google) as hosting
    # suffixes; an app hosted there is its own party, not a Salesforce or Google domain
    fp = FirstParty.resolve(["myapp.herokuapp.com"], [], db)
    assert fp.domains == ("myapp.herokuapp.com",) and fp.organizations == ()
    assert fp.party("beacon.krxd.net") is Party.THIRD  # Salesforce's Krux: still third party
    classroom = FirstParty.resolve(["classroom.google.com"], [], db)
    assert classroom.organizations == ("Google LLC",)
    assert classroom.party("otherschool.firebaseapp.com") is Party.THIRD
    assert classroom.party("stats.g.doubleclick.net") is Party.FIRST  # same company


def test_an_app_on_a_hosting_subdomain_can_be_inferred(db: TrackerDB) -> None:
    flows = [
        flow(0, "myapp.herokuapp.com"),
        flow(1, "www.google-analytics.com"),
        flow(2, "www.google-analytics.com"),
        flow(3, "myapp.herokuapp.com"),
    ]
    fp = FirstParty.resolve([], flows, db)
    assert fp.domains == ("myapp.herokuapp.com",) and fp.organizations == ()
    assert db.is_service("www.google-analytics.com") and db.is_service("herokuapp.com")
    assert not db.is_service("myapp.herokuapp.com")
