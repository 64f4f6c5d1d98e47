"""The scripted session: a student uses Brindlewick Classroom on a tablet, through the proxy.

The client knows only the student's sign-in credentials and the essay they type; everything else
(their name, e-mail, ids) it reads from the app's own API after login, as a real app would, and
then hands to the SDKs. Each phase starts with a phase mark (``http://edscan.mark/LABEL``).
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from edscan.demo import beacons, roster, services
from edscan.demo.app import CLIENT_ID, REDIRECT_URI
from edscan.demo.beacons import Beacon, Device
from edscan.demo.manifest import API_HOST, APP_HOST, APP_NAME, CDN_HOST, ID_HOST, MARK_HOST, PHASES
from edscan.demo.roster import DemoStudent
from edscan.errors import EdscanError


class DemoClient:
    """Drives the whole session through the proxy at ``proxy_url``, trusting ``ca_file``."""

    def __init__(self, *, proxy_url: str, ca_file: Path, student: DemoStudent) -> None:
        context = ssl.create_default_context(cafile=str(ca_file))
        self.http = httpx.Client(
            proxy=proxy_url,
            verify=context,
            timeout=15,
            follow_redirects=False,
            headers={"User-Agent": beacons.WEBVIEW_UA, "Accept-Language": "en-US,en;q=0.9"},
        )
        self.student = student
        self.device = Device(aaid=student.advertising_id, android_id=student.device_id)
        self.token: str | None = None
        self.me: dict[str, Any] = {}
        self.callback_url = ""
        self.sent = 0

    def close(self) -> None:
        self.http.close()

    # ------------------------------------------------------------------ plumbing

    def mark(self, label: str) -> None:
        self.http.get(f"http://{MARK_HOST}/{label}")

    def send(self, beacon: Beacon) -> httpx.Response:
        self.sent += 1
        return self.http.request(
            beacon.method, beacon.url, headers=beacon.headers, content=beacon.content
        )

    def app(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """A first-party request; the app must answer it, or the demo is broken."""
        headers = dict(kwargs.pop("headers", {}))
        headers.setdefault("X-Requested-With", "com.brindlewick.classroom")
        if self.token and urlsplit(url).hostname == API_HOST:
            headers["Authorization"] = f"Bearer {self.token}"
        self.sent += 1
        reply = self.http.request(method, url, headers=headers, **kwargs)
        if reply.status_code >= 400 or (
            reply.status_code >= 300 and "location" not in reply.headers
        ):
            raise EdscanError(
                f"demo app answered {reply.status_code} to {method} {url}: {reply.text[:200]}"
            )
        return reply

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        reply = self.app(method, f"https://{API_HOST}{path}", **kwargs)
        return reply.json() if reply.content else None

    def run(self, on_phase: Callable[[str], None] | None = None, *, pause: float = 0.0) -> int:
        """Play every phase in order, ``pause`` seconds apart (a student reading the screen,
        which gives the report's timeline something to show); returns the number of requests
        sent (phase marks excluded)."""
        for i, phase in enumerate(PHASES):
            if i and pause:
                time.sleep(pause)
            if on_phase:
                on_phase(phase)
            self.mark(phase)
            getattr(self, f"phase_{phase}")()
        return self.sent

    # ------------------------------------------------------------------ the story

    def phase_launch(self) -> None:
        """The tablet app starts: native SDKs first, then the web view loads the home page."""
        self.send(beacons.firebase(self.device, events=["first_open", "session_start"]))
        self.app("GET", f"https://{APP_HOST}/")
        self.app("GET", f"https://{CDN_HOST}/static/app.js")
        home = f"https://{APP_HOST}/"
        self.send(
            beacons.ga4(
                self.device,
                page=home,
                title=APP_NAME,
                events=[{"en": "page_view", "_fv": "1", "_ss": "1"}],
            )
        )
        self.send(beacons.meta_pixel(self.device, event="PageView", page=home))

    def phase_login(self) -> None:
        """Single sign-on: the identity provider redirects back with an OAuth code in the URL."""
        state = "st-" + self.device.anonymous_id[:8]
        authorize = urlencode(
            {
                "client_id": CLIENT_ID,
                "redirect_uri": REDIRECT_URI,
                "response_type": "code",
                "state": state,
            }
        )
        self.app("GET", f"https://{ID_HOST}/oauth/authorize?{authorize}")
        form = {
            "username": self.student.username,
            "password": self.student.password,
            "state": state,
        }
        reply = self.app("POST", f"https://{ID_HOST}/login", data=form)
        self.callback_url = reply.headers["location"]
        code = parse_qs(urlsplit(self.callback_url).query)["code"][0]
        self.app("GET", self.callback_url)
        token = self.api(
            "POST",
            "/oauth/token",
            data={"grant_type": "authorization_code", "code": code, "client_id": CLIENT_ID},
        )
        self.token = token["access_token"]
        self.me = self.api("GET", "/v1/me")
        me = self.me
        first, last = me["name"]["first"], me["name"]["last"]
        # the SDKs see the callback URL, code and all, as the page location
        page = self.callback_url
        self.send(
            beacons.ga4(
                self.device,
                page=page,
                title=f"Welcome to {APP_NAME}",
                events=[{"en": "login", "ep.method": "brindlewick_id"}],
                uid=me["id"],
            )
        )
        matching = {"em": me["email"], "fn": first, "ln": last, "external_id": me["id"]}
        self.send(
            beacons.meta_pixel(
                self.device, event="CompleteRegistration", page=page, matching=matching
            )
        )
        self.send(
            beacons.tiktok(
                self.device,
                event="CompleteRegistration",
                page=page,
                email=me["email"],
                external_id=me["id"],
            )
        )
        traits = {
            "studentNumber": me["sis_id"],
            "email": me["email"],
            "firstName": first,
            "lastName": last,
            "name": f"{first} {last}",
            "birthday": me["dob"],
        }
        self.send(
            services.segment_batch(
                self.device,
                page=f"https://{APP_HOST}/home",
                messages=[{"type": "identify", "userId": me["id"], "traits": traits}],
            )
        )
        self.send(
            services.braze(
                self.device,
                user_id=me["id"],
                attributes={
                    "email": me["email"],
                    "first_name": first,
                    "last_name": last,
                    "dob": me["dob"],
                },
            )
        )

    def phase_assignment(self) -> None:
        """Classes, roster, assignments and a message from the teacher."""
        self.api("GET", f"/v1/classes/{roster.CLASS_ID}/roster")
        self.api("GET", "/v1/assignments")
        self.api("GET", "/v1/messages")
        # the reading app logs where the tablet is when an assignment opens: more than the
        # feature needs (EDS029, data minimisation)
        self.api(
            "POST",
            "/v1/activity",
            json={
                "event": "assignment_opened",
                "lat": float(self.student.lat),
                "lon": float(self.student.lon),
            },
        )
        page = f"https://{APP_HOST}/assignments/{roster.ASSIGNMENT_ID}"
        self.app("GET", page)
        me = self.me
        props = {
            "assignment": "Photosynthesis essay",
            "class": roster.CLASS_NAME,
            "$email": me["email"],
        }
        self.send(
            services.mixpanel(
                self.device,
                event="Assignment Opened",
                distinct_id=me["id"],
                page=page,
                properties=props,
            )
        )
        title = f"Assignments - {me['name']['first']} {me['name']['last']}"
        self.send(beacons.comscore_http(page=page.replace("https://", "http://"), title=title))

    def phase_quiz(self) -> None:
        self.api("GET", f"/v1/quizzes/{roster.QUIZ_ID}")
        result = self.api(
            "POST", f"/v1/quizzes/{roster.QUIZ_ID}/answers", json={"answers": roster.QUIZ_ANSWERS}
        )
        me = self.me
        page = f"https://{APP_HOST}/quiz/{roster.QUIZ_ID}"
        self.send(
            services.amplitude(
                self.device,
                user_id=me["id"],
                event_type="Quiz Completed",
                event_properties={
                    "quiz_id": roster.QUIZ_ID,
                    "score": result["score"],
                    "out_of": result["of"],
                },
                user_properties={
                    "grade_level": me["grade"],
                    "school": me["school"]["name"],
                    "iep_status": me["iep_status"],
                },
            )
        )
        user = {"id": me["id"], "email": me["email"], "username": me["username"]}
        self.send(
            services.sentry(
                page=page,
                user=user,
                extra={"student": {"sis_id": me["sis_id"], "state_id": me["state_id"]}},
                message="Cannot read properties of undefined (reading 'choices')",
            )
        )

    def phase_essay(self) -> None:
        """The student writes the essay: a replay SDK uploads the typing as it happens, the
        feedback button sends the draft to an AI model, and only then is it submitted."""
        essay = self.student.essay
        me = self.me
        first, last = me["name"]["first"], me["name"]["last"]
        page = f"https://{APP_HOST}/assignments/{roster.ASSIGNMENT_ID}/write"
        self.app("GET", page)
        typed = [essay[: len(essay) // 3], essay[: 2 * len(essay) // 3], essay]
        identity = {"email": me["email"], "displayName": f"{first} {last}"}
        self.send(
            services.fullstory(
                self.device, user_id=me["id"], identity=identity, typed=typed, page=page
            )
        )
        student_line = f"Student: {first} {last}, grade {me['grade']}"
        self.send(services.openai_chat(student_line=student_line, essay=essay, user=me["email"]))
        # the read-aloud check: the student reads the essay aloud, the recording goes to a
        # speech-to-text service (EDS028: a child's voice is personal information)
        self.send(services.deepgram_listen())
        self.api(
            "POST", f"/v1/assignments/{roster.ASSIGNMENT_ID}/submissions", json={"text": essay}
        )

    def phase_video(self) -> None:
        """A lesson video with a pre-roll ad auction and a data-broker ID sync."""
        me = self.me
        page = f"https://{APP_HOST}/video/{roster.VIDEO_ID}"
        self.app("GET", page)
        self.send(
            beacons.openrtb(
                self.device,
                page=page,
                user_id=me["id"],
                birth_year=int(me["dob"][:4]),
                # the tablet's location, as the OS gives it to the ad SDK
                lat=float(self.student.lat),
                lon=float(self.student.lon),
            )
        )
        self.send(beacons.cookie_sync(partner_uid=me["id"]))
        self.app("GET", f"https://{CDN_HOST}/video/{roster.VIDEO_ID}/master.m3u8")
        self.app("GET", f"https://{CDN_HOST}/video/{roster.VIDEO_ID}/seg0.ts")
        self.send(beacons.firebase(self.device, events=["video_start"], user_id=me["id"]))
        self.send(
            services.segment_batch(
                self.device,
                page=page,
                messages=[
                    {
                        "type": "track",
                        "userId": me["id"],
                        "event": "Video Playback Started",
                        "properties": {"video_id": roster.VIDEO_ID},
                    }
                ],
            )
        )

    def phase_logout(self) -> None:
        self.api("POST", "/v1/logout")
        self.app("GET", f"https://{APP_HOST}/logout")
        self.send(
            beacons.ga4(
                self.device,
                page=f"https://{APP_HOST}/",
                title=APP_NAME,
                events=[{"en": "logout"}],
                uid=self.me["id"],
            )
        )
        self.token = None
