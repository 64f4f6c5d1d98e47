"""Build small ScanResults by hand for rule and score tests: flows, observations, recipients.

    b = ScanBuilder()                                  # first party: school.example
    b.recipient("facebook.com", "advertising", org="Meta Platforms")
    i = b.flow("https://www.facebook.com/tr?ev=PageView", signals=[("query:ev", "ev", "PageView")])
    b.obs(i, "st_contact.email", location="query:ud[em]", detail="sha256")
    result = b.build()

Recipients are created for every flow's domain that was not declared (no categories), with the
party the first-party domains give. Observations get the party of their host.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

from edscan.declared.compare import compare
from edscan.declared.declaration import Declaration
from edscan.detect.id_values import Sighting
from edscan.models import (
    CaptureInfo,
    Confidence,
    Detector,
    Field,
    FlowSummary,
    Observation,
    Party,
    Recipient,
    ScanResult,
)
from edscan.recipients.domains import registrable_domain
from edscan.recipients.id_sync import IdLink
from edscan.rules import run_rules

FIRST = "school.example"
T0 = 1767258000.0

Signal = tuple[str, str, str]  # (location, key, value)


class ScanBuilder:
    def __init__(self, first_party: Sequence[str] = (FIRST,)) -> None:
        self.first_party = tuple(first_party)
        self.flows: list[FlowSummary] = []
        self.observations: list[Observation] = []
        self.declared: dict[str, Recipient] = {}
        self.declaration: Declaration | None = None  # the vendor's agreement (--declared)
        self.settings: dict[str, Any] = {}  # scan settings (child_directed, persona_age_band …)
        self.id_links: list[IdLink] = []  # identifiers seen at several organisations (EDS030)

    def recipient(
        self,
        domain: str,
        *categories: str,
        org: str | None = None,
        sources: tuple[str, ...] = ("bundled:edscan-trackers@test",),
        party: Party | None = None,
    ) -> ScanBuilder:
        self.declared[domain] = Recipient(
            domain=domain,
            hosts=(),
            organization=org,
            parent=None,
            categories=tuple(categories),
            party=party or self._party(domain),
            sdk=(),
            sources=sources if categories else (),
            flows=0,
        )
        return self

    def flow(
        self,
        url: str,
        *,
        method: str = "GET",
        phase: str | None = None,
        signals: Iterable[Signal] = (),
        status: int | None = 200,
        request_bytes: int = 0,
    ) -> int:
        index = len(self.flows)
        host = url.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0].split(":", 1)[0]
        self.flows.append(
            FlowSummary(
                index=index,
                host=host,
                method=method,
                url=url,
                scheme=url.split("://", 1)[0],
                status=status,
                phase=phase,
                time=T0 + index,
                request_bytes=request_bytes,
                response_bytes=0,
                tls_intercepted=True,
                error=None,
                signals=tuple(Field(location=lo, key=k, value=v) for lo, k, v in signals),
            )
        )
        return index

    def obs(
        self,
        flow: int,
        element: str,
        *,
        location: str = "body:$.x",
        confidence: Confidence = Confidence.HIGH,
        detector: Detector = Detector.PERSONA,
        persona_field: str | None = None,
        detail: str = "",
        encodings: tuple[str, ...] = (),
        value: str = "x",
    ) -> ScanBuilder:
        host = self.flows[flow].host
        self.observations.append(
            Observation(
                flow=flow,
                host=host,
                element=element,
                detector=detector,
                confidence=confidence,
                location=location,
                encodings=encodings,
                persona_field=persona_field,
                party=self._party(registrable_domain(host)),
                value=value,
                detail=detail,
            )
        )
        return self

    def id_link(
        self,
        handed: int,
        received: Sequence[int],
        *,
        how: str = "redirect",
        source: str = "Source Co",
        key: str = "uid",
        confidence: Confidence = Confidence.HIGH,
        first_party: bool = False,
    ) -> ScanBuilder:
        """An identifier handed out in flow ``handed`` and received in flows ``received``."""
        origin = self.flows[handed]
        sightings = [
            Sighting(
                flow=handed,
                host=origin.host,
                location="response-header:location>query:" + key,
                key=key,
                sent=how == "same value",
            )
        ] + [
            Sighting(flow=i, host=self.flows[i].host, location="query:" + key, key=key, sent=True)
            for i in received
        ]
        self.id_links.append(
            IdLink(
                digest=f"{len(self.id_links):016x}",
                key=key,
                how=how,
                source=source,
                source_domain=registrable_domain(origin.host),
                receivers=tuple(
                    dict.fromkeys(registrable_domain(self.flows[i].host) for i in received)
                ),
                organizations=(source,),
                first_party=first_party,
                sightings=tuple(sightings),
                confidence=confidence,
                value="id-value-0123456789",
            )
        )
        return self

    def declare(self, declaration: Declaration) -> ScanBuilder:
        """Compare the result with ``declaration``, as ``scan(..., declared=)`` does."""
        self.declaration = declaration
        return self

    def _party(self, domain: str) -> Party:
        return Party.FIRST if domain in self.first_party else Party.THIRD

    def setting(self, key: str, value: Any) -> ScanBuilder:
        self.settings[key] = value
        return self

    def build(self, settings: dict[str, Any] | None = None) -> ScanResult:
        recipients: dict[str, Recipient] = {}
        for f in self.flows:
            d = registrable_domain(f.host)
            base = recipients.get(d) or self.declared.get(d)
            if base is None:
                base = Recipient(
                    domain=d,
                    hosts=(),
                    organization=None,
                    parent=None,
                    categories=(),
                    party=self._party(d),
                    sdk=(),
                    sources=(),
                    flows=0,
                )
            hosts = tuple(sorted({*base.hosts, f.host}))
            recipients[d] = Recipient(
                domain=d,
                hosts=hosts,
                organization=base.organization,
                parent=base.parent,
                categories=base.categories,
                party=base.party,
                sdk=base.sdk,
                sources=base.sources,
                flows=base.flows + 1,
            )
        phases = tuple(dict.fromkeys(f.phase for f in self.flows if f.phase))
        result = ScanResult(
            tool_version="test",
            capture=CaptureInfo(
                path="t.edscan.jsonl",
                sha256="0" * 64,
                format="edscan",
                flows=len(self.flows),
                start=T0,
                end=T0 + len(self.flows),
                phases=phases,
                tls_check=getattr(self, "tls_check", False),
            ),
            first_party=self.first_party,
            first_party_inferred=False,
            flows=tuple(self.flows),
            observations=tuple(self.observations),
            recipients=tuple(sorted(recipients.values(), key=lambda r: r.domain)),
            settings={**self.settings, **(settings or {})},
            id_links=tuple(self.id_links),
        )
        if self.declaration is not None:
            result = dataclasses.replace(result, declared=compare(self.declaration, result))
        return result

    def findings(self, settings: dict[str, Any] | None = None) -> list[Any]:
        return run_rules(self.build(settings))
