"""The desktop seam: what a bot can do with an app it cannot script — look at the screen, click, type, copy.

Everything goes through the X display the clerk (or Xvfb) sees: screenshots with Pillow's grab, buttons and
screens found by image (pyautogui/pyscreeze's OpenCV template match at a confidence), keys and clicks via
pyautogui, and text through the clipboard, because pyautogui can only type what the keyboard layout has
(no Japanese). Timeouts here become ``ApplicationError``: the machinery, not the data, went wrong.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from loguru import logger
from PIL import Image

from kakitori.errors import ApplicationError

IMAGES = Path(__file__).resolve().parent / "images"
_SENTINEL = "\x1ekakitori-clipboard-sentinel\x1e"
NEAR_PX = 24               # how far from a place it was seen before an image is looked for first
FULL_SEARCH_EVERY = 5      # polls between whole-screen searches while waiting
GROUPS = ("screen_", "dialog_")   # reference images named so share one place on screen
MAX_PLACES = 6             # places remembered per image (one button label may sit on several screens)
# Where each reference image has been seen, per images folder: kept across jobs of one worker process.
_SEEN: dict[tuple[Path, str], list[tuple[int, int]]] = {}


@dataclass(frozen=True)
class Match:
    """Where a reference image was found on screen, in screen px."""

    name: str
    left: int
    top: int
    width: int
    height: int

    @property
    def centre(self) -> tuple[int, int]:
        return self.left + self.width // 2, self.top + self.height // 2


def _import_pyautogui() -> Any:
    """pyautogui connects to $DISPLAY when imported; a missing or refused display is an application error."""
    if not os.environ.get("DISPLAY"):
        raise ApplicationError("no display to drive: DISPLAY is not set (start the app under X or Xvfb)")
    try:
        import pyautogui
    except Exception as exc:  # noqa: BLE001 - Xlib raises several unrelated types for "no display"
        raise ApplicationError(f"cannot connect to display {os.environ['DISPLAY']}: {type(exc).__name__}: {exc}") \
            from None
    return pyautogui


class Screen:
    """One X display, driven by keyboard, mouse, image-locate and the clipboard.

    ``confidence`` is the OpenCV match score a reference image must reach (0.9 tolerates antialiasing and
    hover shading, not a different label). ``timeout_s`` bounds every wait for something to appear.
    """

    def __init__(self, images: Path = IMAGES, *, confidence: float = 0.9, timeout_s: float = 10.0,
                 poll_s: float = 0.05, pause_s: float = 0.005) -> None:
        self.gui = _import_pyautogui()
        self.gui.PAUSE = pause_s          # pyautogui sleeps this long after every call (default 0.1 s)
        import pyperclip
        from Xlib import display as xdisplay

        pyperclip.set_clipboard("xclip")
        self.clipboard = pyperclip
        self._x = xdisplay.Display()          # to see who owns the clipboard (python-xlib: pyautogui's own)
        self._clipboard_atom = self._x.intern_atom("CLIPBOARD")
        self.confidence, self.timeout_s, self.poll_s = confidence, timeout_s, poll_s
        self.images = Path(images)
        self.needles: dict[str, np.ndarray] = {}
        for path in sorted(self.images.glob("*.png")):
            self.needles[path.stem] = np.asarray(Image.open(path).convert("L"))
        if not self.needles:
            raise ApplicationError("no reference images found", file=self.images)

    def close(self) -> None:
        self._x.close()

    # ---- looking -----------------------------------------------------------------------------------------
    def grab(self) -> Image.Image:
        from PIL import ImageGrab

        try:
            return ImageGrab.grab()
        except OSError as exc:
            raise ApplicationError(f"cannot read the screen of display {os.environ.get('DISPLAY')}: {exc}") \
                from None

    def locate(self, names: Sequence[str], image: Image.Image | None = None, *,
               everywhere: bool = False) -> Match | None:
        """The first of ``names`` (in the order given) visible in one screenshot, or None.

        A legacy app's layout is fixed, so an image seen before is looked for only around the places it was
        seen (a few ms instead of ~0.1 s for a whole-screen template match); ``everywhere`` searches the
        whole screen, for a window that has moved.
        """
        haystack = np.asarray((image or self.grab()).convert("L"))
        for name in names:
            needle = self._needle(name)
            places = [] if everywhere else self._seen_at(name)
            for region in [_around(p, needle.shape, haystack.shape) for p in places] or [None]:
                try:
                    box = self.gui.locate(needle, haystack, confidence=self.confidence, grayscale=True,
                                          region=region)
                except (self.gui.ImageNotFoundException, ValueError):  # ValueError: region cut by the edge
                    continue
                if box is not None:
                    self._remember(name, (int(box.left), int(box.top)))
                    return Match(name, int(box.left), int(box.top), int(box.width), int(box.height))
        return None

    def wait_for(self, names: Sequence[str], *, timeout_s: float | None = None, screen: str = "") -> Match:
        """Poll until one of ``names`` is on screen; ``ApplicationError`` naming what was awaited otherwise.

        Every few polls, and once more at the deadline, the whole screen is searched (a moved window).
        """
        deadline = time.monotonic() + (self.timeout_s if timeout_s is None else timeout_s)
        polls = 0
        while True:
            match = self.locate(names, everywhere=polls % FULL_SEARCH_EVERY == FULL_SEARCH_EVERY - 1)
            if match is not None:
                return match
            if time.monotonic() >= deadline:
                match = self.locate(names, everywhere=True)
                if match is not None:
                    return match
                raise ApplicationError(f"timed out waiting for {' or '.join(names)} on screen",
                                       screen=screen or None)
            polls += 1
            time.sleep(self.poll_s)

    def wait_gone(self, name: str, *, screen: str = "") -> None:
        """Poll until ``name`` has left the screen (the app reacted to the last key or click)."""
        deadline = time.monotonic() + self.timeout_s
        while self.locate([name]) is not None:
            if time.monotonic() >= deadline:
                raise ApplicationError(f"{name} stayed on screen", screen=screen or None)
            time.sleep(self.poll_s)

    def _seen_at(self, name: str) -> list[tuple[int, int]]:
        """Where this image has been seen, or else where others of its group were (every dialog's title sits
        at the same place, and so does every screen's)."""
        places = _SEEN.get((self.images, name), [])
        group = name.split("_", 1)[0] + "_"
        if not places and group in GROUPS:
            places = [p for (images, other), seen in _SEEN.items()
                      if images == self.images and other.startswith(group) for p in seen]
        return places

    def _remember(self, name: str, place: tuple[int, int]) -> None:
        places = _SEEN.setdefault((self.images, name), [])
        if not any(abs(place[0] - x) <= NEAR_PX and abs(place[1] - y) <= NEAR_PX for x, y in places):
            places.insert(0, place)
            del places[MAX_PLACES:]

    def _needle(self, name: str) -> np.ndarray:
        try:
            return self.needles[name]
        except KeyError:
            raise ApplicationError(f"no reference image {name}.png", file=self.images) from None

    # ---- acting ------------------------------------------------------------------------------------------
    def click(self, name: str, *, screen: str = "", timeout_s: float | None = None) -> None:
        """Find a button by its image and click its centre."""
        self.touch(self.wait_for([name], screen=screen, timeout_s=timeout_s))

    def touch(self, match: Match) -> None:
        """Click what was found and leave the pointer on it.

        The pointer stays inside the window being worked: under a window manager the click gives that window
        the keyboard; on a bare X server (Xvfb, focus PointerRoot) keys go to the window under the pointer.
        """
        self.gui.click(*match.centre)

    def press(self, *keys: str) -> None:
        """Press keys one after the other (``"tab"``, ``"enter"``, ``"space"``, ...)."""
        for key in keys:
            self.gui.press(key)

    def hotkey(self, *keys: str) -> None:
        self.gui.hotkey(*keys)

    def enter_text(self, text: str, *, confirmed: bool = False) -> None:
        """Put text into the focused field: typed when the keyboard has every character, else pasted.
        ``confirmed``: pasted anyway, so that the app is seen to take it (the first field after a screen
        change, while the keyboard focus may still be on its way: keys typed before it arrives are lost)."""
        if text.isascii() and text.isprintable() and not confirmed:
            self.gui.write(text)
        else:
            self.paste(text)

    def paste(self, text: str) -> None:
        """Paste text with Ctrl+V, waiting until the app has actually taken it.

        ``xclip -loops 1`` owns the clipboard until exactly one paste request has been served, then exits:
        its exit proves the app received this text, so the next field's text cannot overtake it.
        """
        owner = self._own_clipboard(text, loops=1)
        deadline = time.monotonic() + self.timeout_s
        try:
            while True:
                # a Ctrl+V sent before the field had the keyboard is lost: send it again. Never twice pasted:
                # the owner serves one request and exits, so a late second Ctrl+V finds nothing to paste
                self.hotkey("ctrl", "v")
                try:
                    owner.wait(timeout=min(1.0, max(0.0, deadline - time.monotonic())))
                    return
                except subprocess.TimeoutExpired:
                    if time.monotonic() >= deadline:
                        raise ApplicationError("the app did not take the pasted text (is a text field focused?)"
                                               ) from None
        finally:
            _release(owner)

    def copy(self) -> str:
        """Copy with Ctrl+C and return what the app put on the clipboard (waiting until it has).

        A sentinel owns the clipboard first; the app taking the clipboard over is the sign that it copied.
        """
        owner = self._own_clipboard(_SENTINEL, loops=0)
        try:
            self.hotkey("ctrl", "c")
            deadline = time.monotonic() + self.timeout_s
            while True:
                text = self.clipboard.paste()
                if text != _SENTINEL:
                    return text
                if time.monotonic() >= deadline:
                    raise ApplicationError("nothing was copied from the app (Ctrl+C had no selection)")
                time.sleep(self.poll_s)
        finally:
            _release(owner)

    def _own_clipboard(self, text: str, loops: int) -> subprocess.Popen[bytes]:
        """Make an ``xclip`` child own the CLIPBOARD selection with ``text``; returns once the X server says so.

        Not ``pyperclip.copy``: its xclip forks into the background holding our stdout. And xclip announces
        "Waiting" before its ownership request has reached the server, so the owner is checked here too.
        """
        before = self._clipboard_owner()
        try:
            owner = subprocess.Popen(["xclip", "-selection", "clipboard", "-quiet", "-loops", str(loops)],
                                     stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        except FileNotFoundError:
            raise ApplicationError("xclip is not installed (needed to paste Japanese text)") from None
        assert owner.stdin and owner.stderr
        owner.stdin.write(text.encode("utf-8"))
        owner.stdin.close()
        owner.stderr.readline()
        deadline = time.monotonic() + self.timeout_s
        while self._clipboard_owner() in (before, 0):
            if owner.poll() is not None or time.monotonic() >= deadline:
                _release(owner)
                raise ApplicationError("xclip could not take the clipboard")
            time.sleep(0.002)
        return owner

    def _clipboard_owner(self) -> int:
        owner = self._x.get_selection_owner(self._clipboard_atom)
        return owner if isinstance(owner, int) else owner.id

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.grab().save(path)
        logger.bind(file=str(path)).debug("screenshot saved")
        return path


def _release(owner: subprocess.Popen[bytes]) -> None:
    if owner.poll() is None:
        owner.kill()
    owner.wait()
    if owner.stderr:
        owner.stderr.close()


def _around(place: tuple[int, int], needle: tuple[int, ...], screen: tuple[int, ...]) -> tuple[int, int, int, int]:
    """The search region (left, top, width, height) within ``NEAR_PX`` of a place a needle was seen."""
    left, top = max(place[0] - NEAR_PX, 0), max(place[1] - NEAR_PX, 0)
    return left, top, min(needle[1] + 2 * NEAR_PX, screen[1] - left), min(needle[0] + 2 * NEAR_PX, screen[0] - top)
