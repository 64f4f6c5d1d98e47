"""``edscan capture --browser``: Chromium set up for the proxy, and what it stored, recorded.

The browser is the system's Chromium (``/usr/bin/chromium``, or ``EDSCAN_CHROMIUM``) driven by
Playwright (``pip install 'edscan[browser]'``) in a fresh temporary profile, deleted at the end:

* ``--proxy-server`` points it at the proxy, ``--proxy-bypass-list=<-loopback>`` sends even
  localhost through it;
* ``--ignore-certificate-errors-spki-list`` trusts the proxy's CA key for this profile only
  (mitmproxy signs every site certificate with its CA key, so the hash of the CA's public key
  matches every certificate it makes); nothing is imported into the user's own browser;
* background networking, component updates, sync and the first-run pages are off, so the
  capture holds the app's traffic and not the browser's own.

While the window is open the profile's cookies and local storage are read once a second
(JavaScript-set cookies never cross the proxy, and once the window is closed they cannot be
read any more). At the end the last reading is appended to the capture as one
``browser_storage`` record: names, domains, lifetimes and sizes; never values.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edscan.errors import EdscanError

logger = logging.getLogger(__name__)

DEFAULT_CHROMIUM = "/usr/bin/chromium"
RECORD_TYPE = "browser_storage"
SNAPSHOT_EVERY = 1.0  # seconds between readings of the profile's cookies and storage
CA_PEM = "mitmproxy-ca-cert.pem"


def spki_hash(ca_pem: Path) -> str:
    """base64(sha256(SubjectPublicKeyInfo)) of a PEM certificate, as Chromium's flag wants."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert = x509.load_pem_x509_certificate(ca_pem.read_bytes())
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode("ascii")


def chromium_args(port: int, spki: str) -> list[str]:
    args = [
        f"--proxy-server=http://127.0.0.1:{port}",
        "--proxy-bypass-list=<-loopback>",
        f"--ignore-certificate-errors-spki-list={spki}",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--no-default-browser-check",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to start as root with its sandbox
    return args


@dataclass(frozen=True, slots=True, kw_only=True)
class BrowserLaunch:
    """What to open; checked before the proxy starts so a missing browser fails at once."""

    url: str
    executable: Path
    headless: bool = False

    @classmethod
    def prepare(cls, url: str, *, headless: bool = False) -> BrowserLaunch:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            raise EdscanError(
                "--browser needs Playwright: pip install 'edscan[browser]' (it drives the "
                "Chromium installed on this computer; no browser download is needed)"
            ) from None
        exe = Path(os.environ.get("EDSCAN_CHROMIUM", DEFAULT_CHROMIUM))
        if not exe.is_file():
            found = shutil.which("chromium") or shutil.which("chromium-browser")
            if found is None:
                raise EdscanError(
                    f"--browser: Chromium not found at {exe} (install it, e.g. apt-get install "
                    "chromium, or set EDSCAN_CHROMIUM to its path)"
                )
            exe = Path(found)
        if "://" not in url and url != "about:blank":
            url = "https://" + url
        return cls(url=url, executable=exe, headless=headless)

    @property
    def host(self) -> str:
        """The host of the URL opened ("" for about:blank)."""
        from urllib.parse import urlsplit

        return urlsplit(self.url).hostname or ""

    def start(
        self, *, port: int, confdir: Path, output: Path, stop: Callable[[], None]
    ) -> BrowserSession:
        session = BrowserSession(self, port=port, confdir=confdir, output=output, stop=stop)
        session.start()
        return session


class BrowserSession:
    """The browser thread: open, read storage while open, tell the capture when closed."""

    def __init__(
        self,
        launch: BrowserLaunch,
        *,
        port: int,
        confdir: Path,
        output: Path,
        stop: Callable[[], None],
    ) -> None:
        self.launch = launch
        self.port = port
        self.confdir = confdir
        self.output = output
        self._stop_capture = stop
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.snapshot: dict[str, Any] | None = None
        self.error: str | None = None
        self.recorded = 0  # cookies and storage items written into the capture

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="edscan-browser", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Close the browser (if still open) and append what it stored to the capture."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(15)
        if self.snapshot is not None:
            from edscan.capture.capture_file import append_record

            try:
                append_record(self.output, self.snapshot)
                self.recorded = len(self.snapshot["cookies"]) + len(self.snapshot["local_storage"])
            except OSError as e:
                logger.error(f"edscan: could not add the browser's storage to the capture: {e}")

    def _run(self) -> None:
        profile = Path(tempfile.mkdtemp(prefix="edscan-browser-"))
        try:
            self._drive(profile)
        except Exception as e:  # the recording goes on; the user sees why the browser went
            self.error = str(e).split("\n", 1)[0]
            logger.error(f"edscan: the browser stopped: {self.error}")
        finally:
            shutil.rmtree(profile, ignore_errors=True)
            if not self._stopping.is_set():
                self._stop_capture()  # the window was closed: the session is over

    def _drive(self, profile: Path) -> None:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright

        spki = spki_hash(self.confdir / CA_PEM)
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                str(profile),
                executable_path=str(self.launch.executable),
                headless=self.launch.headless,
                args=chromium_args(self.port, spki),
                no_viewport=not self.launch.headless,
            )
            closed = threading.Event()
            context.on("close", lambda _: closed.set())
            version = context.browser.version if context.browser else ""
            page = context.pages[0] if context.pages else context.new_page()
            if self.launch.url != "about:blank":
                try:
                    page.goto(self.launch.url)
                except PlaywrightError as e:  # a page that fails to load is still a session
                    logger.warning(f"edscan: {self.launch.url}: {str(e).splitlines()[0]}")
            while not self._stopping.is_set() and not closed.is_set():
                try:
                    self.snapshot = storage_record(context, self.launch.url, version)
                    if not context.pages:
                        break  # the last window was closed
                    context.pages[0].wait_for_timeout(SNAPSHOT_EVERY * 1000)
                except PlaywrightError:
                    break  # closed under us
            if not closed.is_set():
                try:
                    self.snapshot = storage_record(context, self.launch.url, version)
                    context.close()
                except PlaywrightError:
                    pass


def storage_record(context: Any, url: str, version: str) -> dict[str, Any]:
    """The capture record for what a browser profile stored: names and lifetimes, no values."""
    now = time.time()
    cookies = []
    for c in context.cookies():
        expires = c.get("expires", -1)
        cookies.append(
            {
                "name": c["name"],
                "domain": c["domain"].lstrip("."),
                "path": c.get("path", "/"),
                "expires": expires if expires and expires > 0 else None,  # None: session
                "lifetime_days": round((expires - now) / 86400, 1)
                if expires and expires > 0
                else None,
                "http_only": bool(c.get("httpOnly")),
                "secure": bool(c.get("secure")),
                "same_site": c.get("sameSite"),
                "size": len(c.get("value", "")),
            }
        )
    local = []
    for origin in context.storage_state().get("origins", []):
        for item in origin.get("localStorage", []):
            local.append(
                {"origin": origin["origin"], "name": item["name"], "size": len(item["value"])}
            )
    return {
        "record": RECORD_TYPE,
        "time": now,
        "browser": f"chromium {version}".strip(),
        "url": url,
        "cookies": cookies,
        "local_storage": local,
    }
