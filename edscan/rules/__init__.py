"""The rules: from observations, recipients and flow signals to findings.

One module per family (``disclosure``, ``identifiers``, ``consent``, ``security``,
``surveillance``, ``advertising``, ``children``; ``declared`` runs only when a declaration was given). Rule
ids are ``EDS`` + 3 digits and are never reused: a rule that is withdrawn moves its id to
``RETIRED``.

``run_rules(result)`` runs every rule over one ScanResult and returns the findings in a
deterministic order: severity (highest first), rule id, recipients, fingerprint.
"""

from __future__ import annotations

from edscan.models import Finding, ScanResult
from edscan.rules import (
    advertising,
    children,
    consent,
    declared,
    disclosure,
    identifiers,
    security,
    surveillance,
    sync,
)
from edscan.rules.base import Context, Rule

RULES: tuple[Rule, ...] = tuple(
    sorted(
        (
            *disclosure.RULES,
            *identifiers.RULES,
            *consent.RULES,
            *security.RULES,
            *surveillance.RULES,
            *sync.RULES,
            *advertising.RULES,
            *children.RULES,
            *declared.RULES,
        ),
        key=lambda r: r.id,
    )
)
# ids of withdrawn rules: never to be given to another rule
RETIRED: frozenset[str] = frozenset()

_BY_ID = {r.id: r for r in RULES}


def get_rule(rule_id: str) -> Rule:
    """The rule with this id (``KeyError`` when there is none)."""
    return _BY_ID[rule_id]


def run_rules(result: ScanResult) -> list[Finding]:
    """Every finding the rules make of ``result`` (its ``findings`` and ``score`` are ignored)."""
    ctx = Context(result)
    findings: list[Finding] = []
    for rule in [r for r in RULES if not r.runs_last] + [r for r in RULES if r.runs_last]:
        findings.extend(rule.check(ctx, rule))
    findings.sort(key=lambda f: (-f.severity.rank, f.rule, f.recipients, f.fingerprint))
    return findings


__all__ = ["RETIRED", "RULES", "Rule", "get_rule", "run_rules"]
