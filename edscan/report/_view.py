"""The report's view of a ``ScanResult``: redacted, labelled, grouped and capped for reading.

This is presentation only: findings, recipients and the score are taken as the result holds
them. Every string that came from the capture passes through the ``Redactor`` here, and is
escaped again by the templates.
"""

from __future__ import annotations

import functools
import re

from edscan.detect.known_ids import meaning_of
from edscan.models import FlowSummary, Party, Recipient, ScanResult
from edscan.report import (
    _brief,
    _companies,
    _coverage,
    _declared,
    _diagram,
    _finding_view,
    _identifiers,
    _palette,
    _timeline,
)
from edscan.report._common import (
    element_info,
    endpoint_context,
    iso,
    mode_note,
    sorted_findings,
    span,
)
from edscan.report._grouping import group_findings
from edscan.report._palette import Group
from edscan.report._view_model import (
    TIER_WORDS,
    Named,
    ParentLine,
    Pinned,
    Question,
    Report,
)
from edscan.report._view_parts import (
    _cut_off_note,
    _decision_css,
    _element_detail,
    _exhibit,
    _org_key,
    _setting,
    _tier_or,
    _verdict_paragraph,
    first_party_candidates,
    first_party_how,
)
from edscan.report.redact import Redactor
from edscan.rules.score import PAPER_QUESTIONS

PAPER = "on paper"  # the label of questions no finding raised: obligations traffic cannot show


MAX_PINNED = 30
MAX_WARNINGS = 40


_PINNED = re.compile(
    r"certificate|pinn|tls handshake|ssl handshake|unknown ca|bad cert|handshake fail|"
    r"does not trust|untrusted",
    re.IGNORECASE,
)


def _not_inspected(flow: FlowSummary) -> bool:
    """The client refused the proxy's certificate (pinning, or no CA installed): the content of
    that connection was never seen. Plain HTTP and upstream certificate errors are not this."""
    if flow.error and "client" in flow.error.lower() and _PINNED.search(flow.error):
        return True
    return flow.scheme == "https" and flow.tls_intercepted is False


def build(result: ScanResult, *, reveal: bool = False) -> Report:
    red = Redactor.for_result(result, reveal=reveal)
    recipients = list(result.recipients)
    by_host: dict[str, Recipient] = {h: r for r in recipients for h in r.hosts}
    by_domain: dict[str, Recipient] = {r.domain: r for r in recipients}

    def name(r: Recipient) -> str:
        return red.text(r.organization or r.domain)

    def recipient_of(host: str) -> Recipient | None:
        return by_host.get(host)

    # --- who received which element, from the observations (presentation grouping only)
    el_to_rc: dict[str, dict[str, None]] = {}
    rc_to_el: dict[str, dict[str, None]] = {}
    flow_elements: dict[int, dict[str, None]] = {}
    for o in result.observations:
        if endpoint_context(o):
            continue  # the page and device context: the identifiers appendix lists it
        r = recipient_of(o.host)
        key = r.domain if r else o.host
        el_to_rc.setdefault(o.element, {})[key] = None
        rc_to_el.setdefault(key, {})[o.element] = None
        if o.party is Party.THIRD:
            flow_elements.setdefault(o.flow, {})[o.element] = None

    @functools.cache
    def element_label(eid: str) -> str:
        return red.text(element_info(eid).label)

    def named_element(eid: str) -> Named:
        info = element_info(eid)
        tier = info.tier
        css = f"t{tier}" if tier in (0, 1, 2, 3) else "tx"
        note = f"{red.text(info.category)}; {TIER_WORDS.get(tier, 'tier unknown') if tier is not None else 'tier unknown'}"
        return Named(text=red.text(info.label), note=note, css=css)

    third = [r for r in recipients if r.party is Party.THIRD]
    # riskiest group first; a company's domains side by side, the most involved company first
    org_group: dict[str, int] = {}
    org_weight: dict[str, int] = {}
    for r in recipients:
        k = _org_key(r)
        g = _palette.rank(_palette.group_of(r))
        org_group[k] = min(org_group.get(k, g), g)
        org_weight[k] = org_weight.get(k, 0) + len(rc_to_el.get(r.domain, {}))
    ordered = sorted(
        recipients,
        key=lambda r: (
            r.party is Party.FIRST,
            org_group[_org_key(r)],
            -org_weight[_org_key(r)],
            _org_key(r),
            -len(rc_to_el.get(r.domain, {})),
            -r.flows,
            r.domain,
        ),
    )

    # --- diagram: one box per company (an organisation may own several domains)
    elements_sorted = sorted(
        el_to_rc,
        key=lambda e: (
            -_tier_or(element_info(e).tier, -1),
            -len(el_to_rc[e]),
            e,
        ),
    )
    el_nodes = [
        _diagram.ElementNode(
            key=e,
            label=element_label(e),
            detail=_element_detail(e, red),
            tier=element_info(e).tier,
        )
        for e in elements_sorted
    ]
    company: dict[str, list[Recipient]] = {}
    for r in ordered:
        company.setdefault(_org_key(r), []).append(r)
    company_of = {r.domain: _org_key(r) for r in recipients}
    links: dict[str, list[str]] = {
        e: list(dict.fromkeys(company_of.get(d, d) for d in el_to_rc[e])) for e in elements_sorted
    }
    contact_only = [k for k, rs in company.items() if not any(r.domain in rc_to_el for r in rs)]
    contact_only = [k for k in contact_only if all(r.party is Party.THIRD for r in company[k])]
    if contact_only:
        el_nodes.append(
            _diagram.ElementNode(
                key="__contact",
                label="Connection details only",
                detail="IP address, device and browser details",
                tier=0,
            )
        )
        links["__contact"] = contact_only
    rc_nodes = []
    for key, rs in company.items():
        group = min((_palette.group_of(r) for r in rs), key=_palette.rank)
        cats = list(dict.fromkeys(c for r in rs for c in r.categories))
        domains = [r.domain for r in rs]
        what = group.label if group is _palette.FIRST else ", ".join(cats[:2]) or "not classified"
        where = ", ".join(domains[:2]) + (f" +{len(domains) - 2}" if len(domains) > 2 else "")
        rc_nodes.append(
            _diagram.RecipientNode(
                key=key,
                name=name(rs[0]),
                detail=red.text(f"{what} · {where}"),
                group=group,
                weight=sum(len(rc_to_el.get(d, {})) for d in domains),
            )
        )
    # which companies get a box of their own when there are too many: the app's own servers,
    # then those named by the most severe findings, then those that received the most data
    # (the layout groups the rest into "+N more" boxes)
    severest: dict[str, int] = {}
    for f in result.findings:
        for d in f.recipients:
            k = company_of.get(d, d)
            severest[k] = max(severest.get(k, -1), f.severity.rank)
    rc_nodes.sort(
        key=lambda n: (
            n.group is not _palette.FIRST,
            -severest.get(n.key, -1),
            -n.weight,
            _palette.rank(n.group),
        )
    )
    app_name = red.text(", ".join(result.first_party)) or "the app"
    diagram = _diagram.layout(app_name, el_nodes, rc_nodes, links, _palette.ALL)

    # --- recipients table: one row per company
    company_rows, more_companies = _companies.rows(
        ordered, rc_to_el, named_element, red, result.capture.start
    )

    # --- findings: one card per rule and company
    findings = sorted_findings(result.findings)

    def rc_name(domain: str) -> str:
        r = by_domain.get(domain)
        if r is None or not r.organization:
            return red.text(domain)
        return f"{red.text(r.organization)} ({red.text(domain)})"

    def company_name(domain: str) -> str:
        r = by_domain.get(domain)
        return name(r) if r is not None else red.text(domain)

    # what each field of the evidence is, where the endpoint knowledge says ("cid: Google
    # Analytics client id"): the appendix's evidence tables show it beside the location
    meanings: dict[tuple[int, str], str] = {}
    for o in result.observations:
        said = meaning_of(o)
        if said is not None:
            meanings.setdefault((o.flow, o.location), said)
    fv = _finding_view.build(
        findings, recipients, red, named_element, rc_name, company_name, meanings
    )

    # --- questions for the vendor, collected in severity order
    questions: dict[str, list[str]] = {}
    for f in findings:
        for q in f.questions:
            rules = questions.setdefault(red.text(q), [])
            if f.rule not in rules:
                rules.append(f.rule)
    question_rows = tuple(Question(text=q, rules=tuple(r)) for q, r in questions.items())
    # what the law requires on paper, asked whatever the capture shows (never scored)
    question_rows += tuple(Question(text=q, rules=(PAPER,)) for q in PAPER_QUESTIONS)

    # --- timeline
    flows = result.flows
    order = _timeline.phase_order(flows, result.capture.phases)

    # called once per flow: memoised per host (a capture has few hosts, many flows)
    @functools.cache
    def party_of(host: str) -> Party:
        r = by_host.get(host)
        return r.party if r else Party.THIRD

    @functools.cache
    def host_name(host: str) -> str:
        r = by_host.get(host)
        return name(r) if r else red.text(host)

    @functools.cache
    def host_group(host: str) -> Group | None:
        r = by_host.get(host)
        if r is not None and r.party is Party.FIRST:
            return None
        return _palette.group_of(r) if r else _palette.UNKNOWN

    phase_rows = _timeline.rows(
        flows, order, result.capture.start, party_of, host_name, flow_elements
    )
    phase_rows = [
        _timeline.PhaseRow(
            phase=red.phase(p.phase),
            starts=p.starts,
            third_flows=p.third_flows,
            first_flows=p.first_flows,
            companies=p.companies,
            more_companies=p.more_companies,
            elements=tuple(element_label(e) for e in p.elements),
        )
        for p in phase_rows
    ]
    timeline = _timeline.layout(
        flows, order, result.capture.start, result.capture.end, host_group, _palette.ALL, red.phase
    )
    present_groups = tuple(
        g
        for g in _palette.ALL
        if g is not _palette.FIRST and any(_palette.group_of(r) == g for r in third)
    )

    # --- Exhibit B
    exhibit = _exhibit(el_to_rc, by_domain, named_element, name, red)

    # --- for parents
    parents = []
    for e in elements_sorted:
        companies = [
            by_domain[d]
            for d in el_to_rc[e]
            if d in by_domain and by_domain[d].party is Party.THIRD
        ]
        if not companies:
            continue
        info = element_info(e)
        kinds: dict[str, dict[str, None]] = {}  # company name -> what it does (plain words)
        for r in sorted(companies, key=lambda r: _palette.rank(_palette.group_of(r))):
            kinds.setdefault(name(r), {})[_palette.group_of(r).plain] = None
        names = [f"{n} ({', '.join(k)})" for n, k in kinds.items()]
        parents.append(
            ParentLine(
                data=red.text(info.label),
                category=red.text(info.category),
                sensitive=info.sensitive,
                companies=tuple(names[:5]),
                more=max(0, len(names) - 5),
            )
        )
    sensitive = tuple(p.data for p in parents if p.sensitive)

    # --- methodology and limits
    pinned_counts: dict[str, int] = {}
    for fl in flows:
        if _not_inspected(fl):
            pinned_counts[fl.host] = pinned_counts.get(fl.host, 0) + 1
    pinned_sorted = sorted(pinned_counts.items(), key=lambda kv: (-kv[1], kv[0]))
    cap = result.capture
    score = result.score
    grade = score.grade if score else "?"
    leads = [c for g in group_findings(findings, recipients) for c in g.findings[:1]]
    third_flows = sum(1 for f in flows if party_of(f.host) is Party.THIRD)

    return Report(
        title=app_name,
        subtitle=f"{red.text(cap.path)} · {iso(cap.start) or 'time unknown'}",
        redacted=not reveal,
        mode_note=mode_note(reveal),
        tool_version=red.text(result.tool_version),
        grade=red.text(grade)[:2],
        score=f"{score.value}" if score else "–",
        verdict=red.text(score.verdict) if score else "not scored",
        decision_css=_decision_css(score.verdict if score else ""),
        verdict_paragraph=_verdict_paragraph(
            result, third, leads, name, red, cap.flows, third_flows
        ),
        stats=(
            (f"{cap.flows:,}", "requests recorded"),
            (f"{third_flows:,}", "went to third parties"),
            (f"{len({_org_key(r) for r in third}):,}", "third-party companies"),
            (
                f"{len([e for e in el_to_rc if any(d in by_domain and by_domain[d].party is Party.THIRD for d in el_to_rc[e])]):,}",
                "kinds of student data to third parties",
            ),
            (span(cap.start, cap.end), "session length"),
        ),
        severity_counts=fv.counts,
        diagram=diagram,
        recipients=tuple(company_rows),
        more_recipients=more_companies,
        finding_groups=fv.sections,
        more_findings=fv.more,
        law=fv.law,
        law_read_on=fv.law_read_on,
        brief=_brief.build(result, fv.cards, fv.total, company_rows, sum(pinned_counts.values())),
        timeline=timeline,
        timeline_legend=present_groups,
        phases=tuple(phase_rows),
        exhibit=exhibit,
        parents=tuple(parents),
        parents_contact_only=tuple(
            sorted(
                name(rs[0])
                for k, rs in company.items()
                if all(r.party is Party.THIRD and r.domain not in rc_to_el for r in rs)
            )
        ),
        parents_sensitive=sensitive,
        questions=question_rows,
        capture=(
            ("File", red.text(cap.path)),
            ("Format", red.text(cap.format)),
            ("SHA-256", red.text(cap.sha256)),
            ("Requests", f"{cap.flows:,}"),
            ("Started", iso(cap.start) or "unknown"),
            ("Ended", iso(cap.end) or "unknown"),
            ("Length", span(cap.start, cap.end)),
            ("Phases marked", ", ".join(red.phase(p) for p in cap.phases) or "none"),
            ("Cut off by the stop", _cut_off_note(cap.cut_off)),
        ),
        lists=tuple(
            {
                "name": red.text(li.name),
                "version": red.text(li.version),
                "sha256": red.text(li.sha256),
                "licence": red.text(li.licence) + (" (non-commercial)" if li.noncommercial else ""),
                "source": red.text(li.source),
                "records": f"{li.records:,}",
            }
            for li in sorted(result.lists, key=lambda li: li.name)
        ),
        persona_fields=tuple(red.text(p) for p in sorted(result.persona_fields)),
        settings=(
            *(
                (red.text(str(k)), red.text(_setting(v)))
                for k, v in sorted(result.settings.items(), key=lambda kv: str(kv[0]))
                if str(k) != "redacted"
            ),
            ("redacted", "false" if reveal else "true"),
        ),
        first_party=red.text(", ".join(result.first_party)) or "none identified",
        first_party_how=first_party_how(result, red),
        first_party_candidates=first_party_candidates(result, red),
        formula=red.text(score.formula) if score else "",
        warnings=tuple(red.text(w) for w in cap.warnings[:MAX_WARNINGS]),
        more_warnings=max(0, len(cap.warnings) - MAX_WARNINGS),
        pinned=tuple(Pinned(host=red.text(h), flows=n) for h, n in pinned_sorted[:MAX_PINNED]),
        more_pinned=max(0, len(pinned_sorted) - MAX_PINNED),
        pinned_flows=sum(pinned_counts.values()),
        cut_off=cap.cut_off,
        not_verifiable=tuple(red.text(x) for x in score.not_verifiable) if score else (),
        observations=len(result.observations),
        declared=_declared.view(result, red),
        coverage_line=red.text(result.coverage.line()) if result.coverage else "",
        gaps=_coverage.gaps(result, red),
        coverage_items=_coverage.items(result, red),
        identifiers=_identifiers.view(result, red),
    )
