"""One provision a rule may cite: its text, dates, source and check status, and how it reads
on a given day (the capture's date). The table of provisions is ``edscan.rules.law``."""

from __future__ import annotations

from dataclasses import dataclass

from edscan.models import Citation

# how far a provision was checked
PRIMARY_COPY = "checked against a copy of the primary text"
SECONDARY = "secondary sources only; not yet checked against the primary text"
BACKGROUND = "from background knowledge; not yet checked against the primary text"
STATUSES: tuple[str, ...] = (PRIMARY_COPY, SECONDARY, BACKGROUND)


@dataclass(frozen=True, slots=True, kw_only=True)
class Earlier:
    """The text in force before a provision's switch day."""

    cite: str
    gist: str
    date: str
    source: str
    status: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Provision:
    key: str
    law: str  # "CT", "FERPA", "COPPA", "SOPIPA", "PPRA", "NDPA", "FTC"
    cite: str
    gist: str
    who: str
    date: str = ""  # ISO date of the text cited
    in_force: str = ""  # ISO date it took effect ("" when long established and not checked)
    compliance: str = ""  # ISO date compliance became required, when later than in_force
    source: str = ""
    status: str = BACKGROUND
    earlier: Earlier | None = None  # the text in force before the switch day

    @property
    def switch(self) -> str:
        """The day from which this text, not ``earlier``, is the one to read."""
        return self.compliance or self.in_force

    def text(self) -> str:
        return f"{self.cite}: {self.gist} (binds the {self.who})"

    def applies_on(self, day: str) -> bool:
        """Whether this text (or its earlier version) was in force on ``day``."""
        return not self.switch or day >= self.switch or self.earlier is not None

    def citation(self, day: str) -> Citation:
        """This provision as read on ``day`` (ISO date)."""
        if self.switch and day < self.switch:
            when = (
                f"in effect from {self.in_force}, compliance required from {self.compliance}"
                if self.compliance and day >= self.in_force
                else f"in force from {self.switch}"
            )
            if self.earlier is not None and day >= self.earlier.date:
                e = self.earlier
                return Citation(
                    key=self.key,
                    law=self.law,
                    cite=e.cite,
                    text=f"{e.cite}: {e.gist} (binds the {self.who})",
                    date=e.date,
                    in_force=e.date,
                    source=e.source,
                    status=e.status,
                    on=day,
                    reading=f"read as then in force: {self.cite} ({when}) did not yet apply",
                )
            return self._citation(day, f"not in force on {day} ({when})")
        return self._citation(day, "in force")

    def _citation(self, day: str, reading: str) -> Citation:
        return Citation(
            key=self.key,
            law=self.law,
            cite=self.cite,
            text=self.text(),
            date=self.date,
            in_force=self.in_force,
            source=self.source,
            status=self.status,
            on=day,
            reading=reading,
        )

    def to_dict(self) -> dict[str, object]:
        """For ``edscan rules -f json``: the provision with its dates, source and status."""
        d: dict[str, object] = {
            "key": self.key,
            "law": self.law,
            "cite": self.cite,
            "text": self.text(),
            "date": self.date,
            "in_force": self.in_force,
            "compliance": self.compliance,
            "source": self.source,
            "status": self.status,
        }
        if self.earlier is not None:
            e = self.earlier
            d["earlier"] = {
                "cite": e.cite,
                "text": f"{e.cite}: {e.gist} (binds the {self.who})",
                "date": e.date,
                "source": e.source,
                "status": e.status,
            }
        return d
