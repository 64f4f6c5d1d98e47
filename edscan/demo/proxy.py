"""Run a real mitmdump on a free loopback port with the demo addon and the recorder.

The proxy is a child process of the same Python (so it imports this edscan), with its own
temporary ``confdir``: a fresh CA the demo client trusts and nothing touched in ``~/.mitmproxy``.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

from edscan.errors import EdscanError

SCRIPT = Path(__file__).with_name("proxy_addons.py")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DemoProxy:
    """``with DemoProxy(...) as proxy:`` a running mitmdump recording into ``capture``."""

    def __init__(
        self, *, capture: Path, app_port: int, confdir: Path, port: int | None = None
    ) -> None:
        self.capture = capture
        self.confdir = confdir
        self.port = port if port is not None else free_port()
        self.log_path = confdir / "mitmdump.log"
        self.args = [
            sys.executable,
            "-c",
            "import sys; from mitmproxy.tools.main import mitmdump; sys.exit(mitmdump())",
            "--listen-host",
            "127.0.0.1",
            "--listen-port",
            str(self.port),
            "--set",
            f"confdir={confdir}",
            # answer CONNECTs without dialling the server first: the demo addon answers every
            # request, so no connection upstream is ever needed (or allowed)
            "--set",
            "connection_strategy=lazy",
            "--set",
            "termlog_verbosity=warn",
            "--set",
            "flow_detail=0",
            "-s",
            str(SCRIPT),
            "--set",
            f"edscan_demo_app=127.0.0.1:{app_port}",
            "--set",
            f"edscan_capture={capture}",
        ]
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ca_file(self) -> Path:
        return self.confdir / "mitmproxy-ca-cert.pem"

    def _log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-8:])

    def start(self) -> None:
        with open(self.log_path, "wb") as log:
            self._process = subprocess.Popen(
                self.args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise EdscanError(
                    f"the proxy (mitmdump) exited with code {self._process.returncode} before it "
                    f"was ready on 127.0.0.1:{self.port} (--port 0 picks a free one):\n"
                    f"{self._log_tail()}"
                )
            if self._answers() and self.ca_file.exists():
                return
            time.sleep(0.1)
        self.stop()
        raise EdscanError(
            f"the proxy (mitmdump) did not start on 127.0.0.1:{self.port} within "
            f"{START_TIMEOUT:.0f} s; is the port in use? (--port 0 picks a free one)\n"
            f"{self._log_tail()}"
        )

    def _answers(self) -> bool:
        """Whether our recorder answers on the port (not some other program that holds it)."""
        probe = (
            b"GET http://edscan.mark/ HTTP/1.1\r\nHost: edscan.mark\r\nConnection: close\r\n\r\n"
        )
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                s.sendall(probe)
                reply = b""
                while chunk := s.recv(65536):
                    reply += chunk
        except OSError:
            return False
        # a mark with no label changes nothing and is never recorded
        return reply.startswith(b"HTTP/1.1 200") and b"edscan" in reply

    def stop(self) -> int | None:
        """Stop the proxy cleanly (SIGTERM lets the recorder close the capture)."""
        p, self._process = self._process, None
        if p is None:
            return None
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return p.returncode

    def __enter__(self) -> DemoProxy:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
