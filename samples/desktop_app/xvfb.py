"""A private virtual screen (Xvfb) and the sample desktop app running on it: for tests, the benchmark and demos.

A desktop bot needs a screen. On a clerk's PC that is the real one; on a build or benchmark machine it is
Xvfb. ``virtual_display`` starts one on a free display number, guarded by a random cookie, and points this
process at it (``DISPLAY``, ``XAUTHORITY``); child processes (the app) inherit both.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kakitori.errors import ApplicationError, ConfigError

ROOT = Path(__file__).resolve().parents[2]
SCREEN_SIZE = "1280x1024x24"
FAMILY_LOCAL = 256          # Xauthority address family of a local (Unix socket) display


def free_display() -> int:
    """The first display number with neither a lock file nor a socket."""
    for number in range(91, 300):
        if not Path(f"/tmp/.X{number}-lock").exists() and not Path(f"/tmp/.X11-unix/X{number}").exists():
            return number
    raise ApplicationError("no free X display number between :91 and :299")


@contextmanager
def virtual_display() -> Iterator[str]:
    """Run Xvfb on a free display for the duration of the block, with this process's DISPLAY set to it."""
    if not shutil.which("Xvfb"):
        raise ConfigError("Xvfb is not installed (Debian package xvfb)")
    number = free_display()
    saved = {name: os.environ.get(name) for name in ("DISPLAY", "XAUTHORITY")}
    with tempfile.TemporaryDirectory(prefix="kakitori-x") as tmp:
        xauthority = Path(tmp) / "Xauthority"
        _write_xauthority(xauthority, number)
        server = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", SCREEN_SIZE, "-nolisten", "tcp",
                                   "-auth", str(xauthority)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            unix_socket = Path(f"/tmp/.X11-unix/X{number}")
            deadline = time.monotonic() + 10
            while not unix_socket.exists():
                if server.poll() is not None or time.monotonic() > deadline:
                    raise ApplicationError(f"Xvfb did not start on :{number}")
                time.sleep(0.05)
            os.environ["DISPLAY"], os.environ["XAUTHORITY"] = f":{number}", str(xauthority)
            yield f":{number}"
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            server.terminate()
            server.wait(timeout=10)


def _write_xauthority(path: Path, number: int) -> None:
    """An Xauthority file with one random MIT-MAGIC-COOKIE-1 for this display: only this user's clients
    (the app, the bot) can connect to the private screen."""
    def field(data: bytes) -> bytes:
        return struct.pack(">H", len(data)) + data

    path.write_bytes(struct.pack(">H", FAMILY_LOCAL) + field(socket.gethostname().encode())
                     + field(str(number).encode()) + field(b"MIT-MAGIC-COOKIE-1") + field(secrets.token_bytes(16)))
    path.chmod(0o600)


@contextmanager
def running_app(db: Path, password_env: str, *, delay_ms: int = 0, timeout_s: float = 20.0) -> Iterator[
        subprocess.Popen[bytes]]:
    """``kakitori desktop-app run`` in its own process on $DISPLAY until the block ends (its window shown).

    Its data directory (logs) is the database's folder; its stderr goes to ``<db>.log``.
    """
    from bots.desktop.screen import Screen

    cmd = [sys.executable, "-m", "kakitori", "desktop-app", "run", "--db", str(db), "--password-env", password_env,
           "--delay-ms", str(delay_ms)]
    log = db.with_suffix(".log")
    with log.open("wb") as err:
        process = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err,
                                   env={**os.environ, "KAKITORI_DATA_DIR": str(db.parent)})
    try:
        screen = Screen(timeout_s=timeout_s)
        try:
            deadline = time.monotonic() + timeout_s
            while screen.locate(["screen_login"], everywhere=True) is None:
                if process.poll() is not None:
                    tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:]
                    raise ApplicationError(f"the sample desktop app exited: {' '.join(tail)}", file=log)
                if time.monotonic() > deadline:
                    raise ApplicationError("the sample desktop app's window did not appear")
                time.sleep(0.1)
        finally:
            screen.close()
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)
