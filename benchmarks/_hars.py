"""Synthetic HAR captures for the study benchmarks: an app that calls its API and a tracker."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path


def write_har(path: Path, flows: int, *, app: str = "app") -> Path:
    t0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    entries = []
    for i in range(flows):
        host = f"api.{app}.example" if i % 3 else "www.google-analytics.com"
        body = json.dumps({"event": "page", "n": i, "email": "maya.lin.7731@example.org"})
        entries.append(
            {
                "startedDateTime": (t0 + timedelta(milliseconds=50 * i)).isoformat(),
                "time": 12,
                "request": {
                    "method": "POST",
                    "url": f"https://{host}/collect?v={i}&uid=s-{i % 7}",
                    "httpVersion": "HTTP/1.1",
                    "headers": [{"name": "content-type", "value": "application/json"}],
                    "queryString": [],
                    "cookies": [],
                    "headersSize": -1,
                    "bodySize": len(body),
                    "postData": {"mimeType": "application/json", "text": body},
                },
                "response": {
                    "status": 200,
                    "statusText": "OK",
                    "httpVersion": "HTTP/1.1",
                    "headers": [{"name": "content-type", "value": "application/json"}],
                    "cookies": [],
                    "content": {"size": 2, "mimeType": "application/json", "text": "{}"},
                    "redirectURL": "",
                    "headersSize": -1,
                    "bodySize": 2,
                },
                "cache": {},
                "timings": {"send": 1, "wait": 10, "receive": 1},
            }
        )
    log = {
        "log": {"version": "1.2", "creator": {"name": "bench", "version": "1"}, "entries": entries}
    }
    path.write_text(json.dumps(log), encoding="utf-8")
    return path
