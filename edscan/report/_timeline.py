"""The timeline of third-party flows by phase: histogram geometry and per-phase rows.

Flows are binned (``BINS`` columns over the session), so the drawing has the same size for 50
flows as for a million. Each bin is a stack of bars coloured by recipient group; the phases the
auditor marked are drawn as labelled bands behind them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from edscan.models import FlowSummary, Party
from edscan.report._palette import Group

BINS = 80
WIDTH = 1000
LEFT, RIGHT = 44, 10
PLOT_TOP, PLOT_H = 30, 120
NO_PHASE = "(no phase marked)"
BAND_COLOURS = ("#eceff1", "#e3f2fd")


@dataclass(frozen=True, slots=True, kw_only=True)
class Bar:
    x: float
    y: float
    w: float
    h: float
    colour: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Band:
    x: float
    w: float
    label: str
    fill: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeline:
    width: int
    height: int
    bars: tuple[Bar, ...]
    bands: tuple[Band, ...]
    ticks: tuple[Tick, ...]
    peak: int
    plot_top: int
    plot_bottom: int
    left: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PhaseRow:
    phase: str
    starts: str  # "00:20" from the start of the capture
    third_flows: int
    first_flows: int
    companies: tuple[str, ...]
    more_companies: int
    elements: tuple[str, ...]


def phase_order(flows: Sequence[FlowSummary], declared: Sequence[str]) -> list[str]:
    order = [p for p in declared if p]
    for f in flows:
        name = f.phase or NO_PHASE
        if name not in order:
            order.append(name)
    if NO_PHASE in order:  # unmarked flows usually come before the first mark
        order.remove(NO_PHASE)
        order.insert(0, NO_PHASE)
    return order


def rows(
    flows: Sequence[FlowSummary],
    order: Sequence[str],
    start: float | None,
    party_of: Callable[[str], Party],
    name_of: Callable[[str], str],
    elements_of_flow: Mapping[int, Iterable[str]],
    *,
    max_companies: int = 6,
) -> list[PhaseRow]:
    """One row per phase, in ``order``; ``party_of``/``name_of`` take a host."""
    first: dict[str, float] = {}
    third: dict[str, int] = dict.fromkeys(order, 0)
    firsts: dict[str, int] = dict.fromkeys(order, 0)
    companies: dict[str, dict[str, int]] = {p: {} for p in order}
    elements: dict[str, dict[str, None]] = {p: {} for p in order}
    for f in flows:
        phase = f.phase or NO_PHASE
        if phase not in third:
            continue
        if f.time is not None and (phase not in first or f.time < first[phase]):
            first[phase] = f.time
        if party_of(f.host) is Party.THIRD:
            third[phase] += 1
            name = name_of(f.host)
            companies[phase][name] = companies[phase].get(name, 0) + 1
            for el in elements_of_flow.get(f.index, ()):
                elements[phase][el] = None
        else:
            firsts[phase] += 1
    out = []
    for phase in order:
        ranked = sorted(companies[phase].items(), key=lambda kv: (-kv[1], kv[0]))
        out.append(
            PhaseRow(
                phase=phase,
                starts=_clock(first.get(phase), start),
                third_flows=third[phase],
                first_flows=firsts[phase],
                companies=tuple(n for n, _ in ranked[:max_companies]),
                more_companies=max(0, len(ranked) - max_companies),
                elements=tuple(elements[phase]),
            )
        )
    return out


def layout(
    flows: Sequence[FlowSummary],
    order: Sequence[str],
    start: float | None,
    end: float | None,
    group_of_host: Callable[[str], Group | None],
    group_order: Sequence[Group],
    label: Callable[[str], str] = str,
) -> Timeline | None:
    """The histogram of third-party flows over time, or None without timestamps."""
    if start is None or end is None:
        return None
    times = [f.time for f in flows if f.time is not None]
    if not times:
        return None
    lo, hi = min(min(times), start), max(max(times), end)
    spread = max(hi - lo, 1e-6)
    plot_w = WIDTH - LEFT - RIGHT
    counts: list[dict[str, int]] = [{} for _ in range(BINS)]
    colour: dict[str, str] = {g.key: g.colour for g in group_order}
    phase_span: dict[str, list[float]] = {}
    for f in flows:
        if f.time is None:
            continue
        phase = f.phase or NO_PHASE
        span = phase_span.setdefault(phase, [f.time, f.time])
        span[0] = min(span[0], f.time)
        span[1] = max(span[1], f.time)
        group = group_of_host(f.host)
        if group is None:
            continue
        i = min(BINS - 1, int((f.time - lo) / spread * BINS))
        counts[i][group.key] = counts[i].get(group.key, 0) + 1
    peak = max((sum(c.values()) for c in counts), default=0)
    bar_w = plot_w / BINS
    bars: list[Bar] = []
    if peak:
        for i, c in enumerate(counts):
            y = float(PLOT_TOP + PLOT_H)
            for g in group_order:  # stack in a fixed order so colours line up
                n = c.get(g.key, 0)
                if not n:
                    continue
                h = max(1.0, PLOT_H * n / peak)
                y -= h
                bars.append(
                    Bar(
                        x=LEFT + i * bar_w + 0.5,
                        y=y,
                        w=max(bar_w - 1, 1),
                        h=h,
                        colour=colour[g.key],
                    )
                )
    bands = []
    starts = [(phase_span[p][0], p) for p in order if p in phase_span]
    starts.sort()
    for k, (t0, phase) in enumerate(starts):
        t1 = starts[k + 1][0] if k + 1 < len(starts) else hi
        x = LEFT + (t0 - lo) / spread * plot_w
        w = max((t1 - t0) / spread * plot_w, 2.0)
        bands.append(Band(x=x, w=w, label=_fit(label(phase), w), fill=BAND_COLOURS[k % 2]))
    ticks = [
        Tick(x=LEFT + plot_w * q / 4, label=_clock(lo + spread * q / 4, lo) or "") for q in range(5)
    ]
    return Timeline(
        width=WIDTH,
        height=PLOT_TOP + PLOT_H + 26,
        bars=tuple(bars),
        bands=tuple(bands),
        ticks=tuple(ticks),
        peak=peak,
        plot_top=PLOT_TOP,
        plot_bottom=PLOT_TOP + PLOT_H,
        left=LEFT,
    )


def _clock(t: float | None, start: float | None) -> str:
    """``mm:ss`` (or ``h:mm:ss``) since the start of the capture."""
    if t is None or start is None:
        return ""
    s = max(0, round(t - start))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m:02d}:{sec:02d}"


def clock(t: float | None, start: float | None) -> str:
    return _clock(t, start)


def _fit(text: str, width: float) -> str:
    limit = int(width / 6.2)
    if limit < 2:
        return ""
    return text if len(text) <= limit else text[: limit - 1] + "…"
