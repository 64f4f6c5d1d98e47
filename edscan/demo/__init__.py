"""``edscan demo``: a fictional classroom app audited end to end through the real proxy.

manifest     what the session does and what a scan of it must find (one place)
roster       the classroom: the test student (from a fresh persona), classmates, teacher
app          the app's loopback server for app./api./cdn./id.brindlewick.test
beacons      third-party requests shaped like Google, ad and measurement SDKs send them
services     ... and like analytics, engagement, monitoring, replay and AI SDKs
client       the scripted student session through the proxy, phase by phase
upstream     the demo-only mitmproxy addon that answers everything on this machine
proxy        a real mitmdump with that addon and the recorder, on a free loopback port
runner       persona, app, proxy, session, scan, report: what the command runs
"""
