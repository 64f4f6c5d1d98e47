"""Recipient groups for the report's colours: from a recipient's categories to one group.

The categories come from the tracker lists' vocabulary (``advertising``, ``session replay`` …).
A recipient with several categories takes the riskiest group it matches, so a company that does
both analytics and advertising is drawn as advertising. Colours are chosen to stay distinct in
print and for the commonest colour-vision deficiencies (red/purple/orange/teal/blue/grey).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from edscan.models import Party, Recipient


@dataclass(frozen=True, slots=True, kw_only=True)
class Group:
    key: str  # also the CSS class suffix: ``g-ads``
    label: str
    plain: str  # for parents: "advertising", "session recording"
    colour: str
    words: tuple[str, ...] = ()


GROUPS: tuple[Group, ...] = (
    Group(
        key="ads",
        label="Advertising and data brokers",
        plain="advertising",
        colour="#c62828",
        words=(
            "advertis",
            "ad-motivated",
            "ad motivated",
            "identity resolution",
            "data broker",
            "retarget",
            "action pixel",
            "ad fraud",
        ),
    ),
    Group(
        key="social",
        label="Social networks",
        plain="social network",
        colour="#ad1457",
        words=("social",),
    ),
    Group(
        key="replay",
        label="Session recording, fingerprinting, monitoring",
        plain="session recording",
        colour="#6a1b9a",
        words=("session replay", "fingerprint", "student monitoring", "monitoring / safety"),
    ),
    Group(
        key="ai",
        label="AI model providers",
        plain="AI",
        colour="#00838f",
        words=("ai model", "artificial intelligence"),
    ),
    Group(
        key="analytics",
        label="Analytics and marketing",
        plain="analytics",
        colour="#e65100",
        words=(
            "analytic",
            "audience",
            "a/b",
            "tag manager",
            "customer engagement",
            "messaging",
            "marketing",
        ),
    ),
    Group(
        key="monitoring",
        label="Error and performance monitoring",
        plain="error monitoring",
        colour="#6d4c41",
        words=("error", "performance", "crash"),
    ),
    Group(
        key="sso",
        label="Sign-in services",
        plain="sign-in",
        colour="#1565c0",
        words=("sso", "identity", "federated login", "login"),
    ),
    Group(
        key="infra",
        label="Hosting, content and payments",
        plain="hosting",
        colour="#546e7a",
        words=("cdn", "hosting", "video", "embedded", "consent", "payment", "content", "font"),
    ),
    Group(
        key="edtech",
        label="Other ed-tech services",
        plain="ed-tech",
        colour="#2e7d32",
        words=("ed-tech", "edtech", "education"),
    ),
)
UNKNOWN = Group(key="unknown", label="Not classified", plain="unclassified", colour="#78909c")
FIRST = Group(key="first", label="The app's own servers", plain="the app's maker", colour="#1b5e20")
# Riskiest first; the app's own servers last (they are expected to receive the student's data).
ALL: tuple[Group, ...] = (*GROUPS, UNKNOWN, FIRST)


def group_of(recipient: Recipient) -> Group:
    """The group a recipient is drawn in."""
    if recipient.party is Party.FIRST:
        return FIRST
    return group_for(recipient.categories)


def group_for(categories: Iterable[str]) -> Group:
    best: tuple[int, Group] | None = None
    for category in categories:
        low = category.lower()
        for rank, group in enumerate(GROUPS):
            # "identity resolution" is a data broker, not a sign-in service: ads is ranked first
            if any(word in low for word in group.words):
                if best is None or rank < best[0]:
                    best = (rank, group)
                break
    return best[1] if best else UNKNOWN


def rank(group: Group) -> int:
    return ALL.index(group)
