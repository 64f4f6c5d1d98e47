"""The mitmdump script ``edscan demo`` loads: the demo's local answering, then the recorder.

The demo addon comes first so that by the time the recorder's hooks run, every request already
has its local response; the recorder still sees (and records) each flow exactly as sent.
"""

from edscan.capture.recorder import Recorder
from edscan.demo.upstream import DemoUpstream

addons = [DemoUpstream(), Recorder()]
