"""The redacted capture inside a bundle, and the scan that anyone can run on it again.

A bundle cannot hold the capture (it has the test student's values and the auditor's
session), so it holds ``capture.redacted.edscan.jsonl``: every request as it was sent, in the
edscan capture format, with the URL and headers redacted as the evidence is (credentials and
cookies as ``‹secret›``, the student's values as labels), no body, and no addresses. Scanning
it again with the bundled lists only (so that every machine gets the same attribution) gives
the "replay": the recipients, observations and findings that follow from the published data
alone. The manifest records the replay; ``edscan verify`` runs it again and compares.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from edscan.capture.capture_file import FORMAT_NAME, FORMAT_VERSION
from edscan.models import Flow, ScanResult
from edscan.publish.public import strip_controls, utc
from edscan.report.redact import Redactor

REDACTED_CAPTURE = "capture.redacted.edscan.jsonl"


def redacted_capture(
    flows: Iterable[Flow], red: Redactor, *, created: float | None, tool: str
) -> bytes:
    """The capture as it may be published: one line a request, redacted, without bodies.

    ``created``: when the capture began (not when the bundle was made, so that the file is the
    same whatever ``--created`` says).
    """
    from edscan.publish.bundle import redact_headers

    header = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "created": utc(created),
        "edscan": tool,
        "mitmproxy": "",
        "settings": {"redacted": True, "bodies": False},
    }
    lines = [_line(header)]
    for flow in flows:
        public = dataclasses.replace(
            flow,
            id=f"flow-{flow.index}",
            method=strip_controls(red.text(flow.method)),
            url=strip_controls(red.url(flow.url)),
            client_address=None,
            server_address=None,
            sni=None,
            request_headers=tuple((n, v) for n, v in redact_headers(flow.request_headers, red)),
            request_body=None,
            reason=None,
            response_headers=(),
            response_body=None,
            error=strip_controls(red.text(flow.error)) if flow.error else None,
            websocket=(),
            phase=red.phase(flow.phase) if flow.phase is not None else None,
        )
        lines.append(_line(public.to_dict()))
    return "".join(lines).encode("utf-8")


def _line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"


def replay(content: bytes, first_party: tuple[str, ...]) -> dict[str, Any]:
    """Scan a redacted capture with the bundled lists only; what the manifest records."""
    from edscan.pipeline import scan

    with tempfile.TemporaryDirectory(prefix="edscan-replay-") as tmp:
        path = Path(tmp) / REDACTED_CAPTURE
        path.write_bytes(content)
        empty = Path(tmp) / "no-installed-lists"
        empty.mkdir()
        result = scan(path, first_party=first_party, data_dir=empty)
    return summary(result)


def summary(result: ScanResult) -> dict[str, Any]:
    from edscan.report._common import sorted_findings

    return {
        "file": REDACTED_CAPTURE,
        "lists": "bundled lists only",
        "flows": result.capture.flows,
        "recipients": sorted(r.domain for r in result.recipients),
        "observations": len(result.observations),
        "findings": [
            {"fingerprint": f.fingerprint, "rule": f.rule, "severity": f.severity.value}
            for f in sorted_findings(result.findings)
        ],
    }
