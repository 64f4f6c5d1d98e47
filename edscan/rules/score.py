"""The risk score (0 = nothing risky seen … 100), the A–F grade, and the verdict.

Each finding earns points::

    p = base[severity] × tier × recipient × child × confidence

and the app's score is a union with diminishing returns, so that one critical finding at high
confidence alone gives 40–60 and further findings add less and less::

    R = 100 × (1 − Π (1 − min(p, 60) / 100))

Obligations that traffic cannot show (contracts, deletion, breach timelines, parental review)
are listed in ``not_verifiable`` and are never scored as passed: a clean capture says nothing
about them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from edscan.models import Confidence, Finding, Party, ScanResult, Score, Severity
from edscan.rules import RULES, vocab
from edscan.rules.base import child_directed

BASE: dict[Severity, float] = {
    Severity.CRITICAL: 40.0,
    Severity.HIGH: 20.0,
    Severity.MEDIUM: 8.0,
    Severity.LOW: 3.0,
    Severity.INFO: 0.0,
}
TIER: dict[int, float] = {0: 0.5, 1: 1.0, 2: 1.2, 3: 1.5}
CONFIDENCE: dict[Confidence, float] = {
    Confidence.HIGH: 1.0,
    Confidence.MEDIUM: 0.7,
    Confidence.LOW: 0.4,
}
AD_TECH_MULT = 1.5  # advertising, ad-motivated tracking, identity resolution / data broker
REPLAY_MULT = 1.3  # session replay
THIRD_PARTY_MULT = 1.0  # any other third party
FIRST_PARTY_MULT = 0.25  # the app's own servers (security findings)
CHILD_MULT = 1.25  # the app marks itself child-directed
CAP = 60.0  # no single finding counts for more than this

# grade thresholds on R (A below the first)
GRADE_B, GRADE_C, GRADE_D, GRADE_F = 10, 30, 50, 70

APPROVE = "approve"
CONDITIONS = "approve with conditions"
DO_NOT_APPROVE = "do not approve until fixed"
# a capture in which no host could be inspected (pinned, no keys, QUIC) shows nothing either way
INCONCLUSIVE = "inconclusive: no host could be inspected"
VERDICTS: dict[str, str] = {
    "A": APPROVE,
    "B": APPROVE,
    "C": CONDITIONS,
    "D": CONDITIONS,
    "F": DO_NOT_APPROVE,
}

FORMULA = (
    "R = 100 × (1 − Π(1 − min(p, 60)/100)) over all findings, rounded; "
    "p = base × tier × recipient × child × confidence. "
    "base: critical 40, high 20, medium 8, low 3, info 0. "
    "tier (most sensitive data element in the finding): T0 technical 0.5, T1 identifier 1.0, "
    "T2 education record 1.2, T3 sensitive 1.5. "
    "recipient: advertising or data broker 1.5, session replay 1.3, other third party 1.0, "
    "the app itself 0.25. "
    "child: 1.25 when the app marks itself child-directed, else 1.0. "
    "confidence: high 1.0, medium 0.7, low 0.4. "
    "Grade: F if any critical finding at medium or high confidence, or R ≥ 70; "
    "D if R ≥ 50, or two or more high findings at medium or high confidence; "
    "C if R ≥ 30; B if R ≥ 10, or if any student data (T1 or above) reached a third party; "
    "else A. Verdict: A or B approve; C or D approve with conditions; F do not approve "
    "until fixed; inconclusive when no host of the capture could be inspected. Obligations traffic cannot show are listed, never scored as passed."
)

NOT_VERIFIABLE: tuple[str, ...] = (
    "A written contract with the vendor, containing every provision CGS §10-234bb(a)(1)–(10) "
    "requires (or a signed data privacy agreement such as the SDPC NDPA).",
    "That every third party seen here is a declared subprocessor bound by a written agreement "
    "no less stringent than the vendor's own (NDPA Art. II §5; CGS §10-234cc(b)(4)(E)).",
    "That the data elements seen here are listed on the signed Exhibit B and in the board's "
    "posted contract notice (CGS §10-234bb).",
    "Deletion of student information on request of the student, parent or board, and at the end "
    "of the contract (CGS §10-234bb(a)(2), (a)(7); §10-234cc(a)(2); NDPA Art. IV §6).",
    "Breach notification plans and timelines: contractor to board within 30 days (60 for "
    "directory information and student records), board to parents within two business days "
    "(CGS §10-234dd); NDPA 72 hours.",
    "Procedures for students and parents to review and correct their information "
    "(CGS §10-234bb(a)(4); FERPA 34 CFR §99.20).",
    "That student data is not the property or under the control of the vendor "
    "(CGS §10-234bb(a)(1)).",
    "How recipients use data server-side: targeted advertising, profiling, sale or model "
    "training cannot be seen in traffic, only indicated.",
    "Verifiable parental consent records, including the separate consent the 2025 COPPA "
    "amendments require before children's personal information is disclosed to third parties "
    "for purposes not integral to the service (16 CFR §312.5(a); compliance from 2026-04-22).",
    "A written data-retention policy, published in the notice, that keeps children's personal "
    "information only as long as reasonably necessary and never indefinitely (COPPA 16 CFR "
    "§312.10 as amended 2025); the FTC's Illuminate order (not yet checked) asked for a public "
    "retention schedule.",
    "A written information-security program: a named coordinator, yearly risk assessment, "
    "safeguards and their testing (COPPA 16 CFR §312.8 as amended 2025).",
    "That the notice to parents and schools names each third party (or category) that receives "
    "children's personal information and why, and says which internal operations any "
    "persistent identifier serves (COPPA 16 CFR §312.4 as amended 2025).",
    "The district's FERPA directory-information designations and each family's opt-outs "
    "(34 CFR §99.37), and the vendor's status as a school official under direct control "
    "(§99.31(a)(1)(i)(B)).",
    "Where data is stored and whether it is encrypted at rest (NDPA Art. V §1, §3).",
    "Behaviour not exercised in this session: other screens, other accounts, other devices, "
    "background activity, and traffic the proxy could not inspect (pinned certificates).",
)


# What the law now requires on paper, asked of every vendor whatever the capture shows: the
# report lists these with the findings' questions, and the letter asks them.
PAPER_QUESTIONS: tuple[str, ...] = (
    "Please send your written data-retention policy for student and children's data: what is "
    "kept, for how long, why, and how it is deleted (COPPA 16 CFR §312.10 as amended 2025).",
    "Please describe your written information-security program: who coordinates it, when the "
    "last risk assessment was made, and how safeguards are tested (COPPA 16 CFR §312.8 as "
    "amended 2025).",
    "Please list the third parties (or their categories) your notice to parents and schools "
    "names as receiving student or children's data, with the purpose of each (COPPA 16 CFR "
    "§312.4 as amended 2025).",
)


def finding_points(finding: Finding, result: ScanResult, *, child: bool | None = None) -> float:
    """The finding's points before the cap: base × tier × recipient × child × confidence."""
    if child is None:
        child = child_directed(result)
    tier = vocab.max_tier(finding.elements) if finding.elements else _rule_tier(finding.rule)
    return (
        BASE[finding.severity]
        * TIER[max(0, min(3, tier))]
        * _recipient_mult(finding.recipients, result)
        * (CHILD_MULT if child else 1.0)
        * CONFIDENCE[finding.confidence]
    )


def combine(points: Iterable[float]) -> float:
    """R = 100 × (1 − Π(1 − min(p, 60)/100)): bounded by 100, never lowered by a finding."""
    remaining = 1.0
    for p in points:
        remaining *= 1.0 - min(max(p, 0.0), CAP) / 100.0
    return 100.0 * (1.0 - remaining)


def grade(value: float, findings: Iterable[Finding], third_party_data: bool) -> str:
    """The A–F grade for score ``value`` (0–100) and the findings behind it."""
    sure = [f for f in findings if f.confidence >= Confidence.MEDIUM]
    if value >= GRADE_F or any(f.severity is Severity.CRITICAL for f in sure):
        return "F"
    if value >= GRADE_D or sum(f.severity is Severity.HIGH for f in sure) >= 2:
        return "D"
    if value >= GRADE_C:
        return "C"
    if value >= GRADE_B or third_party_data:
        return "B"
    return "A"


def score(result: ScanResult) -> Score:
    """Score the findings of ``result``."""
    child = child_directed(result)
    contributions = [
        (f.fingerprint, round(min(finding_points(f, result, child=child), CAP), 2))
        for f in result.findings
    ]
    value = math.floor(combine(p for _, p in contributions) + 0.5)  # half up
    value = max(0, min(100, value))
    g = grade(value, result.findings, _third_party_data(result))
    contributions.sort(key=lambda c: (-c[1], c[0]))
    nothing_seen = result.coverage is not None and result.coverage.hosts_inspected == 0
    return Score(
        value=value,
        grade=g,
        verdict=INCONCLUSIVE if nothing_seen else VERDICTS[g],
        formula=FORMULA,
        contributions=tuple(contributions),
        not_verifiable=NOT_VERIFIABLE,
    )


_RULE_TIER = {r.id: r.data_tier for r in RULES}


def _rule_tier(rule_id: str) -> int:
    return _RULE_TIER.get(rule_id, 1)


def _recipient_mult(domains: tuple[str, ...], result: ScanResult) -> float:
    if not domains:
        return THIRD_PARTY_MULT
    by_domain = {r.domain: r for r in result.recipients}
    first = set(result.first_party)
    mults = []
    for d in domains:
        r = by_domain.get(d)
        cats = set(r.categories) if r is not None else set()
        if d in first or (r is not None and r.party is Party.FIRST):
            mults.append(FIRST_PARTY_MULT)
        elif cats & vocab.AD_TECH:
            mults.append(AD_TECH_MULT)
        elif vocab.SESSION_REPLAY in cats:
            mults.append(REPLAY_MULT)
        else:
            mults.append(THIRD_PARTY_MULT)
    return max(mults)


def _third_party_data(result: ScanResult) -> bool:
    """Whether any student data (tier 1 or above) reached a third party."""
    first_hosts = {
        h
        for r in result.recipients
        if r.party is Party.FIRST or r.domain in result.first_party
        for h in r.hosts
    }
    return any(
        o.party is Party.THIRD and o.host not in first_hosts and vocab.tier(o.element) >= 1
        for o in result.observations
    )
