"""``edscan declared new``: a commented declaration template listing every data element.

Every element id of the taxonomy is in the template, commented out, under its category, in
the order of the NDPA Exhibit B; the reviewer uncomments the rows the vendor checked. Elements
that Exhibit B does not name follow, each saying which Exhibit B row already covers it.
"""

from __future__ import annotations

from edscan.detect import taxonomy

HEADER = """\
# What the vendor's signed data privacy agreement declares, for
#   edscan report CAPTURE --declared THIS_FILE -o report.html
# edscan compares it with the traffic: data elements the app sent that Exhibit B does not
# list, and third parties that received data or were contacted but are not listed.

vendor = ""      # the vendor's name, as in the agreement
agreement = ""   # which agreement, e.g. "SDPC NDPA v1.0, Exhibit B and Exhibit E, signed 2026-01-12"

# Exhibit B "Schedule of Data": uncomment every element the vendor checked. A whole category
# may be given by its id or name instead ("sid", "Student Identifiers"). An "Other - please
# specify" row covers everything edscan files under it; when the vendor's text is specific,
# list the specific ids from the second part instead. Leave the list empty if the vendor
# checked "None"; delete the `elements` key to skip this comparison.
elements = [
"""

MIDDLE = """\
]

# Subprocessors and other third parties the agreement lists (often Exhibit E or a linked
# page): one [[third_party]] table each, with the organisation's name, its domains, or both.
# A domain covers its subdomains and is the surest match; names are compared without case,
# punctuation or legal forms (Inc., LLC ...), also against the owner's parent company.
# If the agreement lists no third parties at all, write `third_party = []` instead;
# with neither, third parties are not compared.
#
# [[third_party]]
# name = "Amazon Web Services"
# domains = ["amazonaws.com", "cloudfront.net"]
# purpose = "hosting"
#
# [[third_party]]
# name = "Functional Software, Inc. (Sentry)"
# domains = ["sentry.io"]
# purpose = "error monitoring"
"""


def render_template() -> str:
    """The template text (valid TOML as it stands: empty element list, no third parties)."""
    width = max(len(e) for e in taxonomy.ELEMENTS) + 4
    lines = [HEADER.rstrip("\n")]
    in_b = [c for c in taxonomy.CATEGORIES.values() if c.exhibit_b]
    added = [c for c in taxonomy.CATEGORIES.values() if not c.exhibit_b]
    for cat in in_b:
        lines.append(f"  # --- {cat.name} (category id {cat.id!r})")
        for eid in cat.elements:
            el = taxonomy.ELEMENTS[eid]
            lines.append(f"  # {_quoted(eid, width)}# {el.name}")
    lines.append("")
    lines.append("  # ----- Not named by Exhibit B; each is covered by the row in brackets")
    for cat in added:
        lines.append(f"  # --- {cat.name} (category id {cat.id!r})")
        for eid in cat.elements:
            el = taxonomy.ELEMENTS[eid]
            lines.append(f"  # {_quoted(eid, width)}# {el.name} [{el.exhibit_b}]")
    lines.append(MIDDLE.rstrip("\n"))
    return "\n".join(lines) + "\n"


def _quoted(eid: str, width: int) -> str:
    return f'"{eid}",'.ljust(width)
