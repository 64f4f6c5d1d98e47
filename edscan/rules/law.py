"""The provisions a finding may implicate, and the concerns it touches.

Each provision has a citation, a one-line gist, who must act (FERPA binds the district; COPPA,
CGS §10-234cc and SOPIPA bind the operator; CGS §10-234bb binds both, through the contract), and
where it comes from: the date of the text, the day it took effect (and, for the 2025 COPPA
amendments, the day compliance became required), the source, and how far it was checked
(``STATUSES``). Findings never say a provision was broken: traffic shows what was sent, not what
the contract allows or how the recipient used it. Findings say "may be inconsistent with" and name
the facts that would settle it.

A capture is read against the law on its own date (``reading``): before a provision's switch day
(its compliance date, else its in-force date) the text then in force (``earlier``) is cited
instead, and the finding says so. ``LAW_DATE`` is the day this table was last reviewed; a
capture without timestamps is read as of that day.

Subsection letters of CGS §10-234bb(c)/(d), §10-234cc(b) and §10-234dd follow secondary sources
and are to be checked against the statute; the section numbers themselves are reliable. The
laws this table does not cite, because their text was not checked, are in ``NOT_YET_CHECKED``.
"""

from __future__ import annotations

import datetime as dt

from edscan.models import Citation
from edscan.rules.provision import BACKGROUND, PRIMARY_COPY, SECONDARY, Earlier, Provision
from edscan.rules.provision import STATUSES as STATUSES  # re-exported: the statuses in use

LAW_DATE = "2026-12-07"  # the day this table was last reviewed against its sources

# ------------------------------------------------------------------ concerns (one vocabulary)

NOTICE = "notice"
TRANSPARENCY = "transparency"
CONSENT = "consent"
ACCESS_AND_USE = "access and use"
SECURITY = "security"
SURVEILLANCE = "surveillance"
BREACH = "breach and misuse"
FERPA = "FERPA"
THIRD_PARTIES = "third-party vendors and subcontractors"
STATE_SYSTEMS = "state data systems"
ENFORCEMENT = "enforcement"

CONCERNS: tuple[str, ...] = (
    NOTICE,
    TRANSPARENCY,
    CONSENT,
    ACCESS_AND_USE,
    SECURITY,
    SURVEILLANCE,
    BREACH,
    FERPA,
    THIRD_PARTIES,
    STATE_SYSTEMS,
    ENFORCEMENT,
)

# ------------------------------------------------------------------ provisions

DISTRICT = "district"
OPERATOR = "operator"
BOTH = "district and vendor"


# the sources, named once
_FR_2025 = (
    "Federal Register 90 FR 16918 (document 2025-05904, published 2025-04-22), read in the "
    "copy at thefederalregister.org: effective 2025-06-23, compliance required from 2026-04-22 "
    "(except §312.11(d)(1), (d)(4), (g)); section wording from law-firm summaries "
    "(Alston & Bird, Perkins Coie)"
)
_CFR_2013 = (
    "16 CFR Part 312 as amended in 2013 (78 FR 3972, effective 2013-07-01); §312.5(a) read in "
    "copies of the CFR text (lawstack, GPO)"
)
_CGS = (
    "CGS §§10-234aa–dd (PA 16-189, effective 2016-10-01; PA 17-200; PA 18-125): section "
    "numbers from cga.ct.gov summaries, subsection letters from secondary sources"
)
_FERPA = "20 U.S.C. §1232g; 34 CFR Part 99 (citations as collected by Common Sense Media)"
_SOPIPA = "Cal. Bus. & Prof. Code §22584 (SB 1177, 2014; citations as collected by Common Sense)"
_PPRA = "20 U.S.C. §1232h"
_NDPA = "SDPC National Data Privacy Agreement, Standard Version 1.0 (2021), where signed"
_EDMODO = (
    "United States v. Edmodo, LLC, No. 23-cv-2495 (N.D. Cal.), complaint and stipulated order "
    "filed 2023-05-22 (complaint read in a copy; order terms from law-firm summaries)"
)


def _ct(key: str, cite: str, gist: str, who: str, date: str = "2016-10-01") -> Provision:
    return Provision(
        key=key,
        law="CT",
        cite=cite,
        gist=gist,
        who=who,
        date=date,
        in_force=date,
        source=_CGS,
        status=SECONDARY,
    )


def _ferpa(key: str, cite: str, gist: str) -> Provision:
    return Provision(
        key=key,
        law="FERPA",
        cite=cite,
        gist=gist,
        who=DISTRICT,
        date="1974-08-21",
        source=_FERPA,
        status=SECONDARY,
    )


def _coppa(key: str, cite: str, gist: str, earlier: Earlier | None) -> Provision:
    return Provision(
        key=key,
        law="COPPA",
        cite=cite,
        gist=gist,
        who=OPERATOR,
        date="2025-04-22",
        in_force="2025-06-23",
        compliance="2026-04-22",
        source=_FR_2025,
        status=SECONDARY,
        earlier=earlier,
    )


def _coppa_2013(cite: str, gist: str, status: str = BACKGROUND) -> Earlier:
    return Earlier(cite=cite, gist=gist, date="2013-07-01", source=_CFR_2013, status=status)


def _sopipa(key: str, cite: str, gist: str) -> Provision:
    return Provision(
        key=key,
        law="SOPIPA",
        cite=cite,
        gist=gist,
        who=OPERATOR,
        date="2014-09-29",
        in_force="2016-01-01",
        source=_SOPIPA,
        status=BACKGROUND,
    )


def _ndpa(key: str, cite: str, gist: str) -> Provision:
    return Provision(
        key=key,
        law="NDPA",
        cite=cite,
        gist=gist,
        who=BOTH,
        date="2021-01-01",
        source=_NDPA,
        status=BACKGROUND,
    )


_ALL = (
    # Connecticut, CGS §§10-234aa–dd
    _ct(
        "ct-bb-a",
        "CGS §10-234bb(a)",
        "a written contract is required before a board shares student information",
        BOTH,
        date="2018-07-01",  # PA 17-200 postponed the contract requirement to this day
    ),
    _ct(
        "ct-bb-a3",
        "CGS §10-234bb(a)(3)",
        "the contractor may not use student information for purposes the contract does not authorize",
        BOTH,
    ),
    _ct(
        "ct-bb-a5",
        "CGS §10-234bb(a)(5)",
        "the contractor must act to ensure the security and confidentiality of student information",
        BOTH,
    ),
    _ct(
        "ct-bb-a7",
        "CGS §10-234bb(a)(7)",
        "student information is not retained or available after the contracted services end",
        BOTH,
    ),
    _ct(
        "ct-bb-security",
        "CGS §10-234bb (contractor security)",
        "encryption of data in motion (HITECH guidance) and transmission security "
        "consistent with 45 CFR 164.312(e)",
        BOTH,
    ),
    _ct(
        "ct-bb-ads",
        "CGS §10-234bb (contractor use restriction)",
        "no use of personally identifiable student information for targeted advertising",
        BOTH,
    ),
    _ct(
        "ct-cc-a1",
        "CGS §10-234cc(a)(1)",
        "security procedures that meet or exceed industry standards",
        OPERATOR,
    ),
    _ct(
        "ct-cc-b1",
        "CGS §10-234cc(b)(1)",
        "no targeted advertising based on student information or persistent unique "
        "identifiers acquired through school use",
        OPERATOR,
    ),
    _ct(
        "ct-cc-b2",
        "CGS §10-234cc(b)(2)",
        "no collecting, storing or using student information or persistent unique "
        "identifiers for purposes other than school purposes (no unrelated profiles)",
        OPERATOR,
    ),
    _ct(
        "ct-cc-b3",
        "CGS §10-234cc(b)(3)",
        "no selling, renting or trading student information",
        OPERATOR,
    ),
    _ct(
        "ct-cc-b4",
        "CGS §10-234cc(b)(4)",
        "no disclosure of student information except to a service provider bound by "
        "contract to use it only for the service",
        OPERATOR,
    ),
    _ct(
        "ct-dd",
        "CGS §10-234dd",
        "an unauthorized release or disclosure of student information starts breach "
        "notification duties (30 days; 60 for directory information and student records)",
        BOTH,
    ),
    # FERPA, 34 CFR Part 99
    _ferpa(
        "ferpa-33",
        "FERPA 34 CFR §99.33",
        "a party receiving education records may not redisclose them",
    ),
    _ferpa(
        "ferpa-31",
        "FERPA 34 CFR §99.31(a)(1)(i)(B)",
        "a vendor is a school official only under the school's direct control over the "
        "use and maintenance of the records",
    ),
    _ferpa(
        "ferpa-31-ii",
        "FERPA 34 CFR §99.31(a)(1)(ii)",
        "reasonable methods so that only school officials with a legitimate educational "
        "interest obtain access to education records",
    ),
    _ferpa(
        "ferpa-30",
        "FERPA 34 CFR §99.30",
        "written consent before disclosing personally identifiable information from "
        "education records, unless an exception applies",
    ),
    # COPPA, 16 CFR Part 312 as amended in 2025 (90 FR 16918), and the 2013 text before it
    _coppa(
        "coppa-2",
        "COPPA 16 CFR §312.2 (as amended 2025)",
        "personal information includes persistent identifiers, geolocation, contact "
        "details, photos, audio, biometric identifiers (voiceprints, facial templates …) and "
        "government-issued identifiers",
        _coppa_2013(
            "COPPA 16 CFR §312.2 (2013 text)",
            "personal information includes persistent identifiers, geolocation, contact "
            "details, and photos, video or audio containing a child's image or voice",
        ),
    ),
    _coppa(
        "coppa-5",
        "COPPA 16 CFR §312.5(a) (as amended 2025)",
        "verifiable parental consent before collecting a child's personal information, and "
        "separate verifiable parental consent before disclosing it to third parties (targeted "
        "advertising among them) unless the disclosure is integral to the service",
        _coppa_2013(
            "COPPA 16 CFR §312.5(a) (2013 text)",
            "verifiable parental consent before any collection, use or disclosure of a child's "
            "personal information, with the option to consent to collection and use without "
            "consenting to disclosure to third parties",
            PRIMARY_COPY,
        ),
    ),
    _coppa(
        "coppa-5c7",
        "COPPA 16 CFR §312.5(c)(7)",
        "persistent identifiers without consent only to support internal operations, "
        "not for behavioral advertising or profiles",
        _coppa_2013(
            "COPPA 16 CFR §312.5(c)(7) (2013 text)",
            "persistent identifiers without consent only to support internal operations, "
            "not for behavioral advertising or profiles",
        ),
    ),
    _coppa(
        "coppa-4",
        "COPPA 16 CFR §312.4 (as amended 2025)",
        "the notice to parents names the third parties (or their categories) that receive "
        "children's data and why",
        None,
    ),
    _coppa(
        "coppa-4-internal",
        "COPPA 16 CFR §312.4 (as amended 2025: internal operations)",
        "an operator collecting persistent identifiers under the internal-operations "
        "exception says in its notice which internal operations they serve and how it keeps "
        "them from other uses",
        None,
    ),
    _coppa(
        "coppa-7",
        "COPPA 16 CFR §312.7",
        "no conditioning a child's participation on collecting more personal information than "
        "reasonably necessary",
        _coppa_2013(
            "COPPA 16 CFR §312.7 (2013 text)",
            "no conditioning a child's participation on collecting more personal information "
            "than reasonably necessary",
        ),
    ),
    _coppa(
        "coppa-8",
        "COPPA 16 CFR §312.8 (as amended 2025)",
        "reasonable procedures to protect children's personal information, including a "
        "written information-security program, and steps about third parties",
        _coppa_2013(
            "COPPA 16 CFR §312.8 (2013 text)",
            "reasonable procedures to protect the confidentiality, security and integrity of "
            "children's personal information, including with third parties",
        ),
    ),
    _coppa(
        "coppa-10",
        "COPPA 16 CFR §312.10 (as amended 2025)",
        "children's personal information kept only as long as reasonably necessary, under a "
        "written data-retention policy set out in the notice; no indefinite retention",
        _coppa_2013(
            "COPPA 16 CFR §312.10 (2013 text)",
            "children's personal information kept only as long as reasonably necessary",
        ),
    ),
    # The FTC's reading of COPPA and Section 5 in ed-tech orders
    Provision(
        key="ftc-edmodo",
        law="FTC",
        cite="the FTC's reading in its Edmodo order (United States v. Edmodo, 2023)",
        gist="the FTC's reading: an ed-tech operator may not require students to provide more "
        "personal information than necessary, nor shift its COPPA duties onto schools",
        who=OPERATOR,
        date="2023-05-22",
        in_force="2023-05-22",
        source=_EDMODO,
        status=SECONDARY,
    ),
    # California SOPIPA, Bus. & Prof. Code §22584
    _sopipa(
        "sopipa-b1",
        "SOPIPA Cal. Bus. & Prof. Code §22584(b)(1)",
        "no targeted advertising to students, including tracking across sites",
    ),
    _sopipa(
        "sopipa-b2",
        "SOPIPA Cal. Bus. & Prof. Code §22584(b)(2)",
        "no amassing a profile of a student except for K-12 school purposes",
    ),
    _sopipa(
        "sopipa-b3",
        "SOPIPA Cal. Bus. & Prof. Code §22584(b)(3)",
        "no selling or renting student information",
    ),
    _sopipa(
        "sopipa-b4",
        "SOPIPA Cal. Bus. & Prof. Code §22584(b)(4)",
        "no disclosure except to service providers bound not to use it for other purposes",
    ),
    _sopipa(
        "sopipa-d1",
        "SOPIPA Cal. Bus. & Prof. Code §22584(d)(1)",
        "reasonable security procedures and practices",
    ),
    # PPRA, 20 U.S.C. §1232h
    Provision(
        key="ppra",
        law="PPRA",
        cite="PPRA 20 U.S.C. §1232h",
        gist="consent or notice before collecting survey information in protected areas "
        "(mental health, sex, illegal behavior, religion, income, politics …), and limits "
        "on collecting personal information for marketing",
        who=BOTH,
        date="1978-11-01",
        source=_PPRA,
        status=BACKGROUND,
    ),
    # SDPC National Data Privacy Agreement (contractual, where signed)
    _ndpa(
        "ndpa-iv7",
        "NDPA Art. IV §7 (if signed)",
        "no use of student data for targeted advertising, profiles or unrelated products",
    ),
    _ndpa(
        "ndpa-i2",
        "NDPA Art. I §2 and Exhibit B (if signed)",
        "the student data to be provided is listed in Exhibit B; other elements need an amendment",
    ),
    _ndpa(
        "ndpa-ii5",
        "NDPA Art. II §5 (if signed)",
        "every subprocessor bound by a written agreement no less stringent than the DPA",
    ),
    _ndpa(
        "ndpa-v3",
        "NDPA Art. V §3 and Exhibit F (if signed)",
        "a recognised cybersecurity framework, including encryption in transit",
    ),
)

PROVISIONS: dict[str, Provision] = {p.key: p for p in _ALL}
LAWS: tuple[str, ...] = ("CT", "FERPA", "COPPA", "SOPIPA", "PPRA", "NDPA", "FTC")

# Laws bearing on what traffic shows that this table does not cite, because their text was not
# checked: (what, what the sources say, the sources, status). The README lists them too.
NOT_YET_CHECKED: tuple[tuple[str, str, str, str], ...] = (
    (
        "Connecticut SB 1295 (2025), amending the Connecticut Data Privacy Act (CGS §42-515 "
        "et seq.)",
        "signed 2025-06-24, in force 2026-07-01; bars targeted advertising to and sale of the "
        "personal data of minors (under 18), and limits minors' precise geolocation",
        "Covington Inside Privacy; the Connecticut Attorney General's guidance of 2026-07-02 "
        "as reprinted",
        "public act number and section text not yet checked",
    ),
    (
        "Connecticut PA 23-56 (2023), minors' online-services provisions of the CTDPA",
        "targeted advertising to and sale of minors' data only with opt-in consent; amended "
        "by SB 1295 (2025)",
        "the enrolled act's opening (legiplex) and a Connecticut Senate page",
        "section numbers and text of the minors' provisions not yet checked",
    ),
    (
        "Texas SCOPE Act, HB 18 (2023), Tex. Bus. & Com. Code ch. 509",
        "in force 2024-09-01; a digital service provider may not sell or share a known "
        "minor's (under 18) personal information or collect precise geolocation; partly "
        "enjoined on 2024-08-30 (the content-filtering duties)",
        "bill text at capitol.texas.gov (definitions read); press and Wikipedia for the injunction",
        "the operative sections and the injunction's scope not yet checked",
    ),
    (
        "Oregon HB 2008 (2025), amending ORS 646A.578 (Oregon Consumer Privacy Act)",
        "in force 2026-01-01; bans the sale of personal data of consumers known to be under "
        "16, and of precise geolocation; no targeted advertising to under-16s",
        "Davis Wright Tremaine, Mondaq and Digital Policy Alert summaries",
        "statute text not yet checked",
    ),
    (
        "FTC order against Illuminate Education (proposed 2025-12, finalised 2026)",
        "a security program, deletion of unneeded student data, a public retention schedule, "
        "no misrepresenting breach-notice timing to districts",
        "FTC press release as quoted by Akin Gump and GovTech",
        "order text and final date not yet checked",
    ),
    (
        "FTC order against Chegg (2022-2023)",
        "a retention schedule and deletion on request, per the issue's summary",
        "none read",
        "not yet checked",
    ),
)


# a capture clock before this is no real capture date (an unset device clock, a synthetic file)
EARLIEST_CAPTURE = "2010-01-01"


def dated(ts: float | None) -> bool:
    """Whether ``ts`` is a plausible capture date (see ``EARLIEST_CAPTURE``)."""
    if ts is None:
        return False
    try:
        day = dt.datetime.fromtimestamp(ts, dt.UTC).date().isoformat()
    except (OverflowError, OSError, ValueError):
        return False
    return day >= EARLIEST_CAPTURE


def day_of(ts: float | None) -> str:
    """The UTC date of a Unix time, or ``LAW_DATE`` when there is no plausible one."""
    if ts is None or not dated(ts):
        return LAW_DATE
    return dt.datetime.fromtimestamp(ts, dt.UTC).date().isoformat()


def provision_texts(keys: tuple[str, ...]) -> tuple[str, ...]:
    """The provisions' current texts (as of ``LAW_DATE``)."""
    return tuple(PROVISIONS[k].text() for k in keys)


def citations(keys: tuple[str, ...], day: str) -> tuple[Citation, ...]:
    """The provisions as read on ``day``: earlier texts before their switch day."""
    return tuple(PROVISIONS[k].citation(day) for k in keys)


def applicable(cites: tuple[Citation, ...]) -> tuple[Citation, ...]:
    """The citations that were in force on their day (in force, or read as then in force)."""
    return tuple(c for c in cites if not c.reading.startswith("not in force"))


def short_cites(cites: tuple[Citation, ...], limit: int = 4) -> str:
    """The first few citations, for a finding's one-sentence summary."""
    shown = [c.cite for c in cites[:limit]]
    more = len(cites) - limit
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def reading_note(cites: tuple[Citation, ...], day: str, dated: bool) -> str:
    """One sentence on which law the finding was read against, when that is not today's."""
    earlier = [c for c in cites if c.reading.startswith("read as then in force")]
    absent = [c for c in cites if c.reading.startswith("not in force")]
    if not (earlier or absent):
        return ""
    when = (
        f"on {day}, the capture's date"
        if dated
        else f"as of {day} (the capture carries no usable date)"
    )
    parts = []
    if earlier:
        parts.append(
            "the 2025 COPPA amendments (compliance required from 2026-04-22) did not yet "
            "apply, so the 2013 COPPA Rule is cited"
        )
    if absent:
        names = ", ".join(dict.fromkeys(c.cite for c in absent))
        parts.append(f"{names} did not yet apply and is not relied on")
    return f"Read against the law in force {when}: " + "; ".join(parts) + "."
