"""Layout of the data-flow diagram: the app → data elements → recipient companies.

Only geometry is computed here (numbers and short strings); ``_diagram.svg.j2`` draws it, so every
captured string is escaped by the template engine. Large captures stay legible: at most
``MAX_ELEMENTS`` element boxes and ``MAX_RECIPIENTS`` company boxes are drawn one by one; the
rest are merged into "+N more" boxes, one per recipient group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from edscan.report._palette import Group

MAX_ELEMENTS = 16
MAX_RECIPIENTS = 22

WIDTH = 1000
ROW = 38
BOX_H = 30
TOP = 34
APP_X, APP_W = 10, 170
EL_X, EL_W = 280, 290
RC_X, RC_W = 680, 310
TIER_COLOURS = {3: "#b71c1c", 2: "#f9a825", 1: "#ef6c00", 0: "#90a4ae", None: "#90a4ae"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Box:
    x: float
    y: float
    w: float
    h: float
    title: str  # first line (escaped by the template)
    subtitle: str
    tooltip: str
    colour: str  # a palette constant, never captured text
    css: str  # a CSS class from a fixed set
    cy: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Edge:
    d: str  # an SVG path made of numbers only
    colour: str
    width: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Legend:
    colour: str
    label: str
    x: float
    y: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagram:
    width: int
    height: int
    app: Box
    elements: tuple[Box, ...]
    recipients: tuple[Box, ...]
    edges: tuple[Edge, ...]
    legend: tuple[Legend, ...]
    headings: tuple[tuple[float, str], ...]
    hidden_elements: int
    hidden_recipients: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ElementNode:
    key: str
    label: str
    detail: str  # "Student Contact Information · T1"
    tier: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecipientNode:
    key: str
    name: str
    detail: str  # "advertising · facebook.com"
    group: Group
    weight: int  # sort key within a group: more data, then more flows, first


def layout(
    app_name: str,
    elements: Sequence[ElementNode],
    recipients: Sequence[RecipientNode],
    links: Mapping[str, Sequence[str]],
    group_order: Sequence[Group],
) -> Diagram:
    """``links`` maps an element key to the recipient keys that received it (ordered inputs)."""
    shown_el = list(elements[:MAX_ELEMENTS])
    hidden_el = list(elements[MAX_ELEMENTS:])
    el_key = {e.key: e.key for e in shown_el}
    if hidden_el:
        more = ElementNode(
            key="__more_elements",
            label=f"+{len(hidden_el)} more data elements",
            detail="listed in the tables below",
            tier=max((e.tier for e in hidden_el if e.tier is not None), default=None),
        )
        shown_el.append(more)
        el_key.update({e.key: more.key for e in hidden_el})

    shown_rc = list(recipients[:MAX_RECIPIENTS])
    hidden_rc = list(recipients[MAX_RECIPIENTS:])
    rc_key = {r.key: r.key for r in shown_rc}
    for group in group_order:
        members = [r for r in hidden_rc if r.group == group]
        if not members:
            continue
        if len(members) == 1:  # a "+1 more" box takes the same room as the company itself
            shown_rc.append(members[0])
            rc_key[members[0].key] = members[0].key
            continue
        node = RecipientNode(
            key=f"__more_{group.key}",
            name=f"+{len(members)} more: {group.label.lower()}",
            detail="see the recipients table",
            group=group,
            weight=0,
        )
        shown_rc.append(node)
        rc_key.update({r.key: node.key for r in members})

    shown_el, shown_rc = _untangle(shown_el, shown_rc, el_key, rc_key, links, group_order)
    rows = max(len(shown_el), len(shown_rc), 1)
    body = rows * ROW
    el_top = TOP + (body - len(shown_el) * ROW) / 2
    rc_top = TOP + (body - len(shown_rc) * ROW) / 2

    app = Box(
        x=APP_X,
        y=TOP + body / 2 - 30,
        w=APP_W,
        h=60,
        title=_fit(app_name, APP_W),
        subtitle="the app, on the student's device",
        tooltip=app_name,
        colour="#263238",
        css="app",
        cy=TOP + body / 2,
    )
    el_boxes: dict[str, Box] = {}
    for i, e in enumerate(shown_el):
        y = el_top + i * ROW + (ROW - BOX_H) / 2
        el_boxes[e.key] = Box(
            x=EL_X,
            y=y,
            w=EL_W,
            h=BOX_H,
            title=_fit(e.label, EL_W - 16),
            subtitle=_fit(e.detail, EL_W - 16, size=9.5),
            tooltip=f"{e.label} ({e.detail})",
            colour=TIER_COLOURS.get(e.tier, TIER_COLOURS[None]),
            css="el",
            cy=y + BOX_H / 2,
        )
    rc_boxes: dict[str, Box] = {}
    for i, r in enumerate(shown_rc):
        y = rc_top + i * ROW + (ROW - BOX_H) / 2
        rc_boxes[r.key] = Box(
            x=RC_X,
            y=y,
            w=RC_W,
            h=BOX_H,
            title=_fit(r.name, RC_W - 16),
            subtitle=_fit(r.detail, RC_W - 16, size=9.5),
            tooltip=f"{r.name} ({r.detail})",
            colour=r.group.colour,
            css="rc",
            cy=y + BOX_H / 2,
        )

    edges: list[Edge] = []
    for box in el_boxes.values():
        edges.append(_edge(app.x + app.w, app.cy, box.x, box.cy, "#90a4ae", 1.2))
    drawn: set[tuple[str, str]] = set()
    colour_of = {r.key: r.group.colour for r in shown_rc}
    for element, targets in links.items():
        src = el_key.get(element)
        if src is None:
            continue
        for target in targets:
            dst = rc_key.get(target)
            if dst is None or (src, dst) in drawn:
                continue
            drawn.add((src, dst))
            a, b = el_boxes[src], rc_boxes[dst]
            edges.append(_edge(a.x + a.w, a.cy, b.x, b.cy, colour_of[dst], 1.8))

    present: list[Group] = []
    for r in shown_rc:
        if r.group not in present:
            present.append(r.group)
    legend_top = TOP + body + 24
    legend = []
    for i, group in enumerate(present):
        col, row = i % 3, i // 3
        legend.append(
            Legend(
                colour=group.colour, label=group.label, x=10 + col * 330, y=legend_top + row * 20
            )
        )
    tiers_top = legend_top + ((len(present) + 2) // 3) * 20 + 6
    for i, (tier, text) in enumerate(
        ((3, "sensitive"), (1, "identifies the student"), (2, "education record"), (0, "technical"))
    ):
        legend.append(
            Legend(
                colour=TIER_COLOURS[tier],
                label=f"data: {text}",
                x=10 + i * 245,
                y=tiers_top,
            )
        )
    height = int(tiers_top + 20)
    return Diagram(
        width=WIDTH,
        height=height,
        app=app,
        elements=tuple(el_boxes.values()),
        recipients=tuple(rc_boxes.values()),
        edges=tuple(edges),
        legend=tuple(legend),
        headings=(
            (APP_X, "The app"),
            (EL_X, "What it sends"),
            (RC_X, "Who receives it"),
        ),
        hidden_elements=len(hidden_el),
        hidden_recipients=sum(1 for r in hidden_rc if rc_key[r.key] != r.key),
    )


def _untangle(
    elements: list[ElementNode],
    recipients: list[RecipientNode],
    el_key: Mapping[str, str],
    rc_key: Mapping[str, str],
    links: Mapping[str, Sequence[str]],
    group_order: Sequence[Group],
) -> tuple[list[ElementNode], list[RecipientNode]]:
    """Order the boxes so that lines cross less (barycentre heuristic).

    Companies stay grouped by colour (the riskiest groups on top); within a group, a company sits
    near the data it received. Then each data element moves to the mean height of its companies.
    """
    pairs = {
        (el_key[e], rc_key[t])
        for e, targets in links.items()
        if e in el_key
        for t in targets
        if t in rc_key
    }
    el_pos = {e.key: i for i, e in enumerate(elements)}
    rank = {g.key: i for i, g in enumerate(group_order)}

    def rc_centre(r: RecipientNode) -> float:
        ys = [el_pos[e] for e, t in pairs if t == r.key and e in el_pos]
        return sum(ys) / len(ys) if ys else float(len(elements))

    ordered_rc = sorted(
        recipients,
        key=lambda r: (rank.get(r.group.key, len(rank)), r.key.startswith("__more"), rc_centre(r)),
    )
    rc_pos = {r.key: i for i, r in enumerate(ordered_rc)}

    def el_centre(e: ElementNode) -> float:
        ys = [rc_pos[t] for s, t in pairs if s == e.key and t in rc_pos]
        return sum(ys) / len(ys) if ys else float(len(ordered_rc))

    ordered_el = sorted(elements, key=lambda e: (e.key.startswith("__"), el_centre(e)))
    return ordered_el, ordered_rc


def _edge(x1: float, y1: float, x2: float, y2: float, colour: str, width: float) -> Edge:
    mid = (x1 + x2) / 2
    d = f"M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
    return Edge(d=d, colour=colour, width=width)


def _fit(text: str, width: float, *, size: float = 12.0) -> str:
    """Cut ``text`` to what fits ``width`` pixels at ``size`` (a conservative average glyph:
    titles are bold, so they are measured wider)."""
    limit = max(4, int(width / (size * (0.6 if size >= 12 else 0.56))))
    return text if len(text) <= limit else text[: limit - 1] + "…"
