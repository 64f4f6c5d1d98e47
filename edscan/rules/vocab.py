"""The vocabularies the rules depend on, in one place.

Recipient categories are spelled exactly as ``edscan.recipients.trackers.CATEGORIES`` (a test checks it).
Data elements come from ``edscan.detect.taxonomy``: tiers and the COPPA flag are looked up there, never
copied; the groups below name the element families the rules reason about.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from edscan.detect import taxonomy

# ------------------------------------------------------------------ recipient categories

ADVERTISING = "advertising"
AD_TRACKING = "ad-motivated tracking"
ANALYTICS = "analytics"
AUDIENCE = "audience measurement"
SESSION_REPLAY = "session replay"
SOCIAL = "social network"
TAG_MANAGER = "tag manager"
DATA_BROKER = "identity resolution / data broker"
FINGERPRINTING = "fingerprinting"
ERROR_MONITORING = "error monitoring"
PERFORMANCE = "performance monitoring"
ENGAGEMENT = "customer engagement / messaging"
AB_TESTING = "A/B testing"
CONSENT_MANAGEMENT = "consent management"
CDN = "CDN / hosting"
PAYMENTS = "payments"
SSO = "SSO / identity"
AI_PROVIDER = "AI model provider"
EDTECH = "ed-tech vendor"
STUDENT_MONITORING = "student monitoring / safety"
VIDEO = "video / embedded content"

USED_CATEGORIES: tuple[str, ...] = (
    ADVERTISING,
    AD_TRACKING,
    ANALYTICS,
    AUDIENCE,
    SESSION_REPLAY,
    SOCIAL,
    TAG_MANAGER,
    DATA_BROKER,
    FINGERPRINTING,
    ERROR_MONITORING,
    PERFORMANCE,
    ENGAGEMENT,
    AB_TESTING,
    CONSENT_MANAGEMENT,
    CDN,
    PAYMENTS,
    SSO,
    AI_PROVIDER,
    EDTECH,
    STUDENT_MONITORING,
    VIDEO,
)

# "ad-tech": advertising, ad-motivated tracking, and identity resolution / data brokers
AD_TECH = frozenset({ADVERTISING, AD_TRACKING, DATA_BROKER})
# whose business is observing people in aggregate (no ad motive declared)
MEASUREMENT = frozenset({ANALYTICS, AUDIENCE, TAG_MANAGER, AB_TESTING})
# what a retargeting pixel or social SDK event goes to
PIXEL_CATEGORIES = frozenset({ADVERTISING, AD_TRACKING, SOCIAL})
# collection that a login, consent or age gate should come before
TRACKING = frozenset(
    {
        ADVERTISING,
        AD_TRACKING,
        ANALYTICS,
        AUDIENCE,
        SESSION_REPLAY,
        SOCIAL,
        DATA_BROKER,
        FINGERPRINTING,
    }
)


# ------------------------------------------------------------------ data elements

# taxonomy category ids (edscan.detect.taxonomy.CATEGORIES) the rules reason about
IDENTITY_CATEGORIES = frozenset({"sid", "st_name", "st_contact", "pg_contact", "pg_id", "pg_name"})
CONTACT_CATEGORIES = frozenset({"st_contact", "pg_contact"})
CONTENT_CATEGORIES = frozenset({"work", "comm", "survey"})
DEVICE_CATEGORY = "dev"
CREDENTIAL_CATEGORY = "cred"
LOCATION_CATEGORY = "geo"
FINGERPRINT_CATEGORY = "fp"

# What the taxonomy cannot say: which device ids the user can reset. Reyes et al. 2018 count the
# advertising ids as resettable and hardware-bound ids as not.
RESETTABLE_AD_IDS = frozenset({"dev.idfa", "dev.gaid", "dev.ad_id"})
HARDWARE_IDS = frozenset({"dev.android_id", "dev.imei", "dev.mac", "dev.serial"})
STATE_ID = "sid.state"
PASSWORD = "sid.password"
PICKUP_LOCATION = "trans.pickup_location"  # a place a child is found every day


def _element(element_id: str) -> taxonomy.Element | None:
    return taxonomy.ELEMENTS.get(element_id)


@cache
def tier(element: str) -> int:
    """The element's sensitivity tier (0 technical … 3 sensitive); unknown ids count as 1."""
    el = _element(element)
    return int(el.tier) if el is not None else 1


@cache
def coppa_pi(element: str) -> bool:
    """Whether COPPA lists the element on its own as personal information (16 CFR 312.2)."""
    el = _element(element)
    return el.coppa_pi if el is not None else False


@cache
def label(element: str) -> str:
    """A reader's name for the element ("Student e-mail"), or the id when unknown."""
    el = _element(element)
    return el.name if el is not None else element


@cache
def category(element: str) -> str:
    """The taxonomy category id of the element ("sid", "dev" …), or the id's prefix."""
    el = _element(element)
    return el.category if el is not None else element.split(".", 1)[0]


def is_credential(element: str) -> bool:
    return element == PASSWORD or category(element) == CREDENTIAL_CATEGORY


def is_identity(element: str) -> bool:
    """Student (or parent) identifiers, names and contact details; credentials excluded."""
    return category(element) in IDENTITY_CATEGORIES and not is_credential(element)


def is_contact(element: str) -> bool:
    return category(element) in CONTACT_CATEGORIES


def is_location(element: str) -> bool:
    """Precise location: street-level coordinates, or a pick-up or drop-off place."""
    if element == PICKUP_LOCATION:
        return True
    return category(element) == LOCATION_CATEGORY and tier(element) >= 3


def is_ad_id(element: str) -> bool:
    """A resettable advertising id (IDFA, GAID/AAID, other platforms' ad ids)."""
    return element in RESETTABLE_AD_IDS


def is_hardware_id(element: str) -> bool:
    """A device id the user cannot reset (Android ID, IMEI, MAC, serial)."""
    return element in HARDWARE_IDS


SYNC_ID = "dev.sync_id"  # an id seen at several companies: EDS030 reports it, not the id rules


def is_device_id(element: str) -> bool:
    """Any persistent device, advertising or install identifier (not the ID-sync element,
    which marks a value already reported under its own element where it was recognised)."""
    return category(element) == DEVICE_CATEGORY and element != SYNC_ID


def is_fingerprint(element: str) -> bool:
    return category(element) == FINGERPRINT_CATEGORY


def is_content(element: str) -> bool:
    return category(element) in CONTENT_CATEGORIES or element == "asmt.voice"


def max_tier(elements: Iterable[str]) -> int:
    return max((tier(e) for e in elements), default=0)
