"""mitmproxy's own flow saving (``-w``), as a script, to compare with the recorder.

    python benchmarks/proxy_overhead.py --script benchmarks/save_baseline.py

measures plain mitmdump against mitmdump writing every flow with its built-in save addon.
"""

import os
import tempfile

from mitmproxy import ctx


def running() -> None:
    ctx.options.save_stream_file = os.path.join(tempfile.mkdtemp(), "flows.mitm")
