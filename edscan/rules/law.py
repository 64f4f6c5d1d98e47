"""The provisions a finding may implicate, and the concerns it touches.

Each provision has a citation, a one-line gist, and who must act (FERPA binds the district; COPPA,
CGS §10-234cc and SOPIPA bind the operator; CGS §10-234bb binds both, through the contract).
Findings never say a provision was broken: traffic shows what was sent, not what the contract
allows or how the recipient used it. Findings say "may be inconsistent with" and name the facts
that would settle it.

Subsection letters of CGS §10-234bb(c)/(d), §10-234cc(b) and §10-234dd follow secondary sources
and are to be checked against the statute; the section numbers themselves are reliable.
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True, kw_only=True)
class Provision:
    key: str
    law: str  # "CT", "FERPA", "COPPA", "SOPIPA", "PPRA", "NDPA"
    cite: str
    gist: str
    who: str

    def text(self) -> str:
        return f"{self.cite}: {self.gist} (binds the {self.who})"


_ALL = (
    # Connecticut, CGS §§10-234aa–dd
    Provision(
        key="ct-bb-a",
        law="CT",
        cite="CGS §10-234bb(a)",
        gist="a written contract is required before a board shares student information",
        who=BOTH,
    ),
    Provision(
        key="ct-bb-a3",
        law="CT",
        cite="CGS §10-234bb(a)(3)",
        gist="the contractor may not use student information for purposes the contract does not authorize",
        who=BOTH,
    ),
    Provision(
        key="ct-bb-a5",
        law="CT",
        cite="CGS §10-234bb(a)(5)",
        gist="the contractor must act to ensure the security and confidentiality of student information",
        who=BOTH,
    ),
    Provision(
        key="ct-bb-a7",
        law="CT",
        cite="CGS §10-234bb(a)(7)",
        gist="student information is not retained or available after the contracted services end",
        who=BOTH,
    ),
    Provision(
        key="ct-bb-security",
        law="CT",
        cite="CGS §10-234bb (contractor security)",
        gist="encryption of data in motion (HITECH guidance) and transmission security "
        "consistent with 45 CFR 164.312(e)",
        who=BOTH,
    ),
    Provision(
        key="ct-bb-ads",
        law="CT",
        cite="CGS §10-234bb (contractor use restriction)",
        gist="no use of personally identifiable student information for targeted advertising",
        who=BOTH,
    ),
    Provision(
        key="ct-cc-a1",
        law="CT",
        cite="CGS §10-234cc(a)(1)",
        gist="security procedures that meet or exceed industry standards",
        who=OPERATOR,
    ),
    Provision(
        key="ct-cc-b1",
        law="CT",
        cite="CGS §10-234cc(b)(1)",
        gist="no targeted advertising based on student information or persistent unique "
        "identifiers acquired through school use",
        who=OPERATOR,
    ),
    Provision(
        key="ct-cc-b2",
        law="CT",
        cite="CGS §10-234cc(b)(2)",
        gist="no collecting, storing or using student information or persistent unique "
        "identifiers for purposes other than school purposes (no unrelated profiles)",
        who=OPERATOR,
    ),
    Provision(
        key="ct-cc-b3",
        law="CT",
        cite="CGS §10-234cc(b)(3)",
        gist="no selling, renting or trading student information",
        who=OPERATOR,
    ),
    Provision(
        key="ct-cc-b4",
        law="CT",
        cite="CGS §10-234cc(b)(4)",
        gist="no disclosure of student information except to a service provider bound by "
        "contract to use it only for the service",
        who=OPERATOR,
    ),
    Provision(
        key="ct-dd",
        law="CT",
        cite="CGS §10-234dd",
        gist="an unauthorized release or disclosure of student information starts breach "
        "notification duties (30 days; 60 for directory information and student records)",
        who=BOTH,
    ),
    # FERPA, 34 CFR Part 99
    Provision(
        key="ferpa-33",
        law="FERPA",
        cite="FERPA 34 CFR §99.33",
        gist="a party receiving education records may not redisclose them",
        who=DISTRICT,
    ),
    Provision(
        key="ferpa-31",
        law="FERPA",
        cite="FERPA 34 CFR §99.31(a)(1)(i)(B)",
        gist="a vendor is a school official only under the school's direct control over the "
        "use and maintenance of the records",
        who=DISTRICT,
    ),
    Provision(
        key="ferpa-31-ii",
        law="FERPA",
        cite="FERPA 34 CFR §99.31(a)(1)(ii)",
        gist="reasonable methods so that only school officials with a legitimate educational "
        "interest obtain access to education records",
        who=DISTRICT,
    ),
    Provision(
        key="ferpa-30",
        law="FERPA",
        cite="FERPA 34 CFR §99.30",
        gist="written consent before disclosing personally identifiable information from "
        "education records, unless an exception applies",
        who=DISTRICT,
    ),
    # COPPA, 16 CFR Part 312 (with the 2025 amendments, compliance from 22 April 2026)
    Provision(
        key="coppa-2",
        law="COPPA",
        cite="COPPA 16 CFR §312.2",
        gist="personal information includes persistent identifiers, geolocation, contact "
        "details, photos, audio and (2025) biometric and government identifiers",
        who=OPERATOR,
    ),
    Provision(
        key="coppa-5",
        law="COPPA",
        cite="COPPA 16 CFR §312.5",
        gist="verifiable parental consent before collecting a child's personal information; "
        "(2025) separate consent before disclosing it to third parties for advertising",
        who=OPERATOR,
    ),
    Provision(
        key="coppa-5c7",
        law="COPPA",
        cite="COPPA 16 CFR §312.5(c)(7)",
        gist="persistent identifiers without consent only to support internal operations, "
        "not for behavioral advertising or profiles",
        who=OPERATOR,
    ),
    Provision(
        key="coppa-4",
        law="COPPA",
        cite="COPPA 16 CFR §312.4 (2025 amendments)",
        gist="the direct notice to parents names the third parties (or their categories) "
        "that receive children's data and why",
        who=OPERATOR,
    ),
    Provision(
        key="coppa-7",
        law="COPPA",
        cite="COPPA 16 CFR §312.7",
        gist="no collecting more personal information than reasonably necessary",
        who=OPERATOR,
    ),
    Provision(
        key="coppa-8",
        law="COPPA",
        cite="COPPA 16 CFR §312.8",
        gist="reasonable procedures to protect the confidentiality, security and integrity of "
        "children's personal information, including with third parties",
        who=OPERATOR,
    ),
    # California SOPIPA, Bus. & Prof. Code §22584
    Provision(
        key="sopipa-b1",
        law="SOPIPA",
        cite="SOPIPA Cal. Bus. & Prof. Code §22584(b)(1)",
        gist="no targeted advertising to students, including tracking across sites",
        who=OPERATOR,
    ),
    Provision(
        key="sopipa-b2",
        law="SOPIPA",
        cite="SOPIPA Cal. Bus. & Prof. Code §22584(b)(2)",
        gist="no amassing a profile of a student except for K-12 school purposes",
        who=OPERATOR,
    ),
    Provision(
        key="sopipa-b3",
        law="SOPIPA",
        cite="SOPIPA Cal. Bus. & Prof. Code §22584(b)(3)",
        gist="no selling or renting student information",
        who=OPERATOR,
    ),
    Provision(
        key="sopipa-b4",
        law="SOPIPA",
        cite="SOPIPA Cal. Bus. & Prof. Code §22584(b)(4)",
        gist="no disclosure except to service providers bound not to use it for other purposes",
        who=OPERATOR,
    ),
    Provision(
        key="sopipa-d1",
        law="SOPIPA",
        cite="SOPIPA Cal. Bus. & Prof. Code §22584(d)(1)",
        gist="reasonable security procedures and practices",
        who=OPERATOR,
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
    ),
    # SDPC National Data Privacy Agreement (contractual, where signed)
    Provision(
        key="ndpa-iv7",
        law="NDPA",
        cite="NDPA Art. IV §7 (if signed)",
        gist="no use of student data for targeted advertising, profiles or unrelated products",
        who=BOTH,
    ),
    Provision(
        key="ndpa-i2",
        law="NDPA",
        cite="NDPA Art. I §2 and Exhibit B (if signed)",
        gist="the student data to be provided is listed in Exhibit B; other elements need an "
        "amendment",
        who=BOTH,
    ),
    Provision(
        key="ndpa-ii5",
        law="NDPA",
        cite="NDPA Art. II §5 (if signed)",
        gist="every subprocessor bound by a written agreement no less stringent than the DPA",
        who=BOTH,
    ),
    Provision(
        key="ndpa-v3",
        law="NDPA",
        cite="NDPA Art. V §3 and Exhibit F (if signed)",
        gist="a recognised cybersecurity framework, including encryption in transit",
        who=BOTH,
    ),
)

PROVISIONS: dict[str, Provision] = {p.key: p for p in _ALL}
LAWS: tuple[str, ...] = ("CT", "FERPA", "COPPA", "SOPIPA", "PPRA", "NDPA")


def provision_texts(keys: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(PROVISIONS[k].text() for k in keys)


def short_cites(keys: tuple[str, ...], limit: int = 4) -> str:
    """The first few citations, for a finding's one-sentence summary."""
    cites = [PROVISIONS[k].cite for k in keys[:limit]]
    more = len(keys) - limit
    return ", ".join(cites) + (f" and {more} more" if more > 0 else "")
