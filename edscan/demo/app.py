"""The fictional classroom app's server: one loopback HTTP server for all first-party hosts.

It dispatches on the ``Host`` header (``app.`` pages, ``api.`` JSON, ``cdn.`` assets, ``id.``
single sign-on), so the proxy can route every ``*.brindlewick.test`` request to it unchanged.
Responses carry the student's record as a real app's would, which is what lets a scan learn
derived values (the app's own student id) from first-party traffic.
"""

from __future__ import annotations

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from edscan.demo import roster
from edscan.demo.manifest import API_HOST, APP_HOST, APP_NAME, CDN_HOST, ID_HOST
from edscan.demo.roster import DemoStudent

CLIENT_ID = "brindlewick-web"
REDIRECT_URI = f"https://{APP_HOST}/auth/callback"

Reply = tuple[int, list[tuple[str, str]], bytes]


def _json(obj: Any, status: int = 200) -> Reply:
    return status, [("Content-Type", "application/json")], json.dumps(obj).encode()


def _html(title: str, body: str = "") -> Reply:
    page = (
        f"<!doctype html><html><head><meta charset=utf-8><title>{title}</title>"
        f'<script src="https://{CDN_HOST}/static/app.js"></script></head>'
        f"<body><h1>{title}</h1>{body}</body></html>"
    )
    return 200, [("Content-Type", "text/html; charset=utf-8")], page.encode()


class ClassroomState:
    """Sessions and one-time codes; shared by the server's threads."""

    def __init__(self, student: DemoStudent) -> None:
        self.student = student
        self._lock = threading.Lock()
        self._codes: set[str] = set()
        self._tokens: set[str] = set()
        self.requests = 0

    def new_code(self) -> str:
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes.add(code)
        return code

    def redeem(self, code: str) -> str | None:
        with self._lock:
            if code not in self._codes:
                return None
            self._codes.discard(code)
            token = "bwat_" + secrets.token_urlsafe(32)
            self._tokens.add(token)
            return token

    def authorised(self, header: str | None) -> bool:
        if not header or not header.startswith("Bearer "):
            return False
        with self._lock:
            return header[len("Bearer ") :] in self._tokens

    def revoke(self, header: str | None) -> None:
        if header and header.startswith("Bearer "):
            with self._lock:
                self._tokens.discard(header[len("Bearer ") :])


def route(
    state: ClassroomState, method: str, host: str, target: str, headers: Any, body: bytes
) -> Reply:
    """Answer one request; pure apart from the session state."""
    parts = urlsplit(target)
    path, query = parts.path, parse_qs(parts.query)
    student = state.student
    if host == ID_HOST:
        if method == "GET" and path == "/oauth/authorize":
            page = (
                '<form method=post action="/login">'
                "<input name=username><input name=password type=password>"
                f'<input type=hidden name=state value="{query.get("state", [""])[0]}">'
                "<button>Sign in</button></form>"
            )
            return _html("Sign in with Brindlewick ID", page)
        if method == "POST" and path == "/login":
            form = parse_qs(body.decode())
            ok = form.get("username") == [student.username] and form.get("password") == [
                student.password
            ]
            if not ok:
                return _json({"error": "invalid_grant"}, 401)
            location = (
                REDIRECT_URI
                + "?"
                + urlencode({"code": state.new_code(), "state": form.get("state", [""])[0]})
            )
            return 302, [("Location", location), ("Content-Length", "0")], b""
    elif host == APP_HOST:
        if path == "/auth/callback":
            reply = _html(f"Welcome to {APP_NAME}")
            cookie = f"bw_session={secrets.token_hex(16)}; Path=/; Secure; HttpOnly; SameSite=Lax"
            return reply[0], [*reply[1], ("Set-Cookie", cookie)], reply[2]
        if path == "/logout":
            return 302, [("Location", f"https://{APP_HOST}/"), ("Content-Length", "0")], b""
        return _html(APP_NAME)
    elif host == CDN_HOST:
        if path.endswith(".js"):
            return 200, [("Content-Type", "text/javascript")], b"/* brindlewick app bundle */\n"
        if path.endswith(".m3u8"):
            playlist = b"#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\nseg0.ts\n#EXT-X-ENDLIST\n"
            return 200, [("Content-Type", "application/vnd.apple.mpegurl")], playlist
        if path.endswith(".ts"):
            return 200, [("Content-Type", "video/mp2t")], bytes(188) * 16
    elif host == API_HOST:
        return _api(state, method, path, headers, body)
    return _json({"error": "not found"}, 404)


def _api(state: ClassroomState, method: str, path: str, headers: Any, body: bytes) -> Reply:
    if method == "POST" and path == "/oauth/token":
        form = parse_qs(body.decode())
        token = state.redeem(form.get("code", [""])[0])
        if token is None:
            return _json({"error": "invalid_grant"}, 400)
        return _json({"access_token": token, "token_type": "Bearer", "expires_in": 3600})
    auth = headers.get("Authorization")
    if not state.authorised(auth):
        return _json({"error": "unauthorized"}, 401)
    student = state.student
    if path == "/v1/me":
        return _json(roster.profile(student))
    if path == f"/v1/classes/{roster.CLASS_ID}/roster":
        return _json(roster.roster(student))
    if path == "/v1/assignments":
        return _json(roster.assignments())
    if path == "/v1/messages":
        return _json(roster.messages())
    if path == f"/v1/quizzes/{roster.QUIZ_ID}" and method == "GET":
        return _json(roster.QUIZ)
    if path == f"/v1/quizzes/{roster.QUIZ_ID}/answers" and method == "POST":
        answers = json.loads(body or b"{}").get("answers", {})
        right = sum(1 for q, a in roster.QUIZ_KEY.items() if answers.get(q) == a)
        return _json({"score": right, "of": len(roster.QUIZ_KEY)})
    if path == f"/v1/assignments/{roster.ASSIGNMENT_ID}/submissions" and method == "POST":
        return _json({"id": "sub-" + secrets.token_hex(4), "status": "submitted"}, 201)
    if path == "/v1/activity" and method == "POST":
        return _json({"ok": True})
    if path == "/v1/logout" and method == "POST":
        state.revoke(auth)
        return 204, [], b""
    return _json({"error": "not found"}, 404)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        self.server.state.requests += 1
        status, headers, content = route(
            self.server.state, self.command, host, self.path, self.headers, body
        )
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        if not any(k.lower() == "content-length" for k, _ in headers) and status != 204:
            self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if content:
            self.wfile.write(content)

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the proxy's capture is the log


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: ClassroomState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


class ClassroomServer:
    """The app server on a free loopback port, in a background thread."""

    def __init__(self, student: DemoStudent) -> None:
        self.state = ClassroomState(student)
        self._server = _Server(self.state)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def __enter__(self) -> ClassroomServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
