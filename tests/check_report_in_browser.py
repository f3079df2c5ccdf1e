#!/usr/bin/env python3
"""Open an HTML report in headless Chromium and check that it renders: every image loaded
(complete, with a natural size) and the console has no error or warning, exceptions included.

    python tests/check_report_in_browser.py REPORT_DIR/index.html [--chromium PATH]

Exits 0 when the page is clean and 1 otherwise, printing what failed. The test suite runs the
same check (tests/test_report_browser.py) when Chromium is installed (Debian/Ubuntu:
``apt-get install chromium``). It drives the browser through the DevTools protocol over a pipe
(``--remote-debugging-pipe``), so it needs nothing beyond the Python standard library.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """The first Chromium-family browser on PATH (``ZSBENCH_CHROMIUM`` wins), or None."""
    explicit = os.environ.get("ZSBENCH_CHROMIUM")
    if explicit:
        return explicit
    return next((path for path in map(shutil.which, CANDIDATES) if path), None)


@dataclass
class PageCheck:
    """What the browser saw: each image ``(src, complete, natural width)``, console errors and
    warnings, uncaught exceptions and failed loads."""

    images: list[tuple[str, bool, int]] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    title: str = ""

    @property
    def broken_images(self) -> list[str]:
        return [src for src, complete, width in self.images if not complete or width == 0]

    @property
    def ok(self) -> bool:
        return bool(self.images) and not self.broken_images and not self.console

    def problems(self) -> list[str]:
        out = [f"image not loaded: {src}" for src in self.broken_images]
        out += [f"console: {line}" for line in self.console]
        if not self.images:
            out.append("the page has no image")
        return out


class _Pipe:
    """DevTools protocol messages over Chromium's ``--remote-debugging-pipe`` (fds 3 and 4,
    each message JSON ending in a NUL byte)."""

    def __init__(self, chromium: str, profile: str) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        self.process = subprocess.Popen(
            [
                chromium,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--remote-debugging-pipe",
                f"--user-data-dir={profile}",
                "--window-size=1200,900",
                "about:blank",
            ],
            pass_fds=(3, 4),  # the pipe ends land on 3 and 4 in preexec_fn, before the other fds are closed
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=lambda: (os.dup2(to_browser_r, 3), os.dup2(from_browser_w, 4)),
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None, timeout: float = 30) -> Any:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30) -> dict[str, Any]:
        for event in self.events:
            if event.get("method") == method:
                return event
        deadline = time.monotonic() + timeout
        while True:
            event = self._read(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def _read(self, deadline: float) -> dict[str, Any]:
        import select

        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if ready:
                chunk = os.read(self._from_browser, 1 << 16)
                if not chunk:
                    raise RuntimeError("Chromium closed the DevTools pipe (did it start?)")
                self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except Exception:  # the browser may already be gone; it is killed below either way
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)


def check_page(page: str | Path, chromium: str | None = None, timeout: float = 60) -> PageCheck:
    """Load ``page`` (a file) in headless Chromium and report images and console messages."""
    browser = chromium or find_chromium()
    if browser is None:
        raise FileNotFoundError("no Chromium found: install the 'chromium' package or set ZSBENCH_CHROMIUM")
    url = Path(page).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="zsbench-chromium-") as profile:
        pipe = _Pipe(browser, profile)
        try:
            target = pipe.send("Target.createTarget", {"url": "about:blank"}, timeout=timeout)["targetId"]
            session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log"):
                pipe.send(f"{domain}.enable", session=session)
            pipe.send("Page.navigate", {"url": url}, session=session)
            pipe.wait_for("Page.loadEventFired", timeout=timeout)
            found = pipe.send(
                "Runtime.evaluate",
                {
                    "expression": "JSON.stringify({title: document.title, images: Array.from(document.images)"
                    ".map(i => [i.getAttribute('src'), i.complete, i.naturalWidth])})",
                    "returnByValue": True,
                },
                session=session,
            )
            # messages logged while the page settles arrive as events after the load
            pipe.send("Runtime.evaluate", {"expression": "1"}, session=session)
        finally:
            pipe.close()
    state = json.loads(found["result"]["value"])
    check = PageCheck(images=[tuple(i) for i in state["images"]], title=state["title"])
    for event in pipe.events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
            text = " ".join(str(arg.get("value", arg.get("description", ""))) for arg in params.get("args", []))
            check.console.append(f"{params['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            check.console.append(f"exception: {details.get('exception', {}).get('description') or details.get('text')}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") in ("error", "warning"):
            entry = params["entry"]
            check.console.append(f"{entry['level']} ({entry.get('source')}): {entry.get('text')} {entry.get('url', '')}".strip())
    return check


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("page", help="the report's index.html")
    parser.add_argument("--chromium", help="browser executable (default: chromium on PATH or $ZSBENCH_CHROMIUM)")
    args = parser.parse_args(argv)
    check = check_page(args.page, args.chromium)
    print(f"{args.page}: {len(check.images)} images, {len(check.broken_images)} not loaded, {len(check.console)} console messages")
    for problem in check.problems():
        print(f"  {problem}")
    return 0 if check.ok else 1


if __name__ == "__main__":
    sys.exit(main())
