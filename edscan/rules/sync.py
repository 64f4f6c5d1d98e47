"""ID sync between companies: the same browser or device id at two organisations (EDS030).

EDS012 flags requests *to* sync endpoints and identity brokers; this rule reads the ids
themselves (``ScanResult.id_links``, built by ``edscan.recipients.id_sync``): one finding per
company that handed an id out, naming every company that received it and how (a redirect chain,
a cookie passed on, or the same value), so the reader sees both ends of each hand-over.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from edscan.models import Confidence, Finding, Severity
from edscan.recipients.id_sync import SYNC_ELEMENT, IdLink
from edscan.rules import law, vocab
from edscan.rules.base import Context, Ref, Rule, best, make, weakest

FAMILY = "identifiers"
_SHOWN = 6  # receivers and keys named in one summary

_HOW = {
    "redirect": "passed on in redirects",
    "cookie": "set as a cookie, then sent on",
    "same value": "the same value sent to each",
}


def _shared_ids(ctx: Context, rule: Rule) -> Iterable[Finding]:
    by_source: dict[str, list[IdLink]] = defaultdict(list)
    for link in ctx.result.id_links:
        by_source[link.source_domain].append(link)
    for source_domain, found in sorted(by_source.items()):
        receivers = sorted({d for k in found for d in k.receivers})
        if not receivers:
            continue
        source = found[0].source
        app = found[0].first_party
        # both ends: where the source handed each id out, and where each receiver got it
        refs: list[Ref] = [
            (s.flow, s.location, ())
            for k in found
            for s in k.sightings
            if not s.sent or ctx.domain_of(s.host) in receivers
        ]
        ctx.covered.update((d, SYNC_ELEMENT) for d in receivers)
        adtech = [d for d in receivers if ctx.categories(d) & vocab.AD_TECH]
        hows = sorted({_HOW[k.how] for k in found})
        keys = sorted({k.key for k in found})
        names = ", ".join(ctx.who(d) for d in receivers[:_SHOWN])
        if len(receivers) > _SHOWN:
            names += f" and {len(receivers) - _SHOWN} more"
        ids = f"{len(found)} identifier{'s' if len(found) != 1 else ''}"
        origin = f"the app ({source})" if app else ctx.who(source_domain)
        how = "; ".join(hows)
        shown_keys = ", ".join(keys[:_SHOWN]) + (" …" if len(keys) > _SHOWN else "")
        if any(k.how != "same value" for k in found):
            observed = f"{ids} handed out by {origin} reaching {names} ({how}; keys: {shown_keys})"
        else:
            # nobody was seen handing it out: the page or its SDKs sent one value to each
            everyone = ", ".join([origin, *(ctx.who(d) for d in receivers[:_SHOWN])])
            observed = f"{ids} sent as the same value to {everyone} (keys: {shown_keys})"
        if app:
            why = "The app and the receiving company now hold the same id for the student."
        elif adtech:
            why = (
                "The student's browser or device id is shared between advertising companies: "
                "each can now join what it knows about the student to what the others know."
            )
        else:
            why = "The same id at several companies lets them link their records of the student."
        yield make(
            ctx,
            rule,
            observed=observed,
            # an id the app itself keeps, sent on to a tracker, is the pixel rules' business
            # first (EDS011, EDS026); here it counts as the link it makes between the two
            severity=Severity.MEDIUM if app else Severity.CRITICAL if adtech else Severity.HIGH,
            confidence=weakest(
                best(k.confidence for k in found),
                max(
                    (ctx.attribution_confidence(d) for d in receivers),
                    default=Confidence.LOW,
                ),
            ),
            elements=(SYNC_ELEMENT,),
            recipients=(*receivers, *(() if app else (source_domain,))),
            evidence=refs,
            why=why,
            key=source_domain,
        )


RULES: tuple[Rule, ...] = (
    Rule(
        id="EDS030",
        title="A browser or device identifier shared between companies (ID sync)",
        severity=Severity.HIGH,
        family=FAMILY,
        evidence_class="E1",
        explanation=(
            "One company's identifier for the student's browser or device was seen at another "
            "company in the same session: handed on in a redirect (cookie matching), set as a "
            "cookie and then sent elsewhere, or the same value sent to both. Once two companies "
            "hold the same id, they can merge what each knows about the student."
        ),
        escalations=(
            "Medium when the id is the app's own (the same value the app's servers received).",
            "Critical when a receiving company is in advertising, ad-motivated tracking or data "
            "brokerage and the id did not start with the app itself.",
        ),
        concerns=(law.ACCESS_AND_USE, law.SURVEILLANCE, law.BREACH),
        provisions=("ct-cc-b2", "ct-cc-b3", "sopipa-b2", "sopipa-b3", "ndpa-iv7", "coppa-5"),
        # EDS012's first question word for word: the report asks it once for both rules
        questions=(
            "Which companies receive a student's identifiers through these syncs?",
            "Can ID syncing and cookie matching be switched off on every student-facing page?",
        ),
        unless="no identifier from a student session is shared between companies",
        data_tier=1,
        check=_shared_ids,
    ),
)
