"""Start the app server in a subprocess and drive it with Chromium (tests, benchmarks,
screenshots).

    with AppServer() as url: ...          # solara on a free loopback port, stopped on exit
    browser = launch_chromium(playwright) # Debian's /usr/bin/chromium (playwright cannot download here)
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

APP_FILE = Path(__file__).resolve().parent / "app.py"
CHROMIUM = os.environ.get("SIM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
LOOPBACK_PREFIXES = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """``solara run sim/viz/app.py`` on 127.0.0.1 (production mode, telemetry off)."""

    def __init__(self, port: int | None = None, timeout_s: float = 90.0, log_path: str | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.timeout_s = timeout_s
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> str:
        solara = Path(sys.executable).with_name("solara")
        env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
        self._log = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [str(solara), "run", str(APP_FILE), "--host", "127.0.0.1", "--port", str(self.port), "--production", "--no-open"],
            stdout=self._log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app server exited with code {self.proc.returncode}")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as r:
                    if r.status == 200:
                        return self.url
            except OSError:
                time.sleep(0.3)
        self.__exit__()
        raise RuntimeError(f"app server not ready within {self.timeout_s} s")

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log_path and self._log not in (None, subprocess.DEVNULL):
            self._log.close()


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def open_app(context, url: str, timeout_ms: float = 90_000):
    """A new page on the app, waited until the simulation panel shows its step counter."""
    page = context.new_page()
    page.goto(url)
    page.locator(".sim-step-counter").wait_for(timeout=timeout_ms)
    return page
