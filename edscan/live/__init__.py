"""Analysis beside a running capture: alerts as student data leaves, marks in mitmweb.

The recorder hands every record it wrote to a ``LiveAnalyser`` (``analyser``), which decodes,
detects and attributes it with the same code as a scan in a worker process fed by a bounded
queue, so the proxy's event loop never waits for it. New findings come back to the loop as
``Alert`` objects (``alert``); the mitmproxy addon (``addon``) logs them and marks the flows.
"""
