"""What every page object shares: finding its elements (a clear error when one is gone), moving between
screens, and telling a saved page from an error page, an expired session or a rejected value.

A screen subclass declares its name (as a clerk says it), its screen id, and its selectors in one dict; its
methods are named after what a clerk does there.
"""

from __future__ import annotations

from typing import Any, ClassVar

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Frame, Locator
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from kakitori.errors import ApplicationError, BusinessError

ELEMENT_TIMEOUT_MS = 1500  # the screen has loaded when elements are looked up: a missing one is gone, not late


class SessionExpired(ApplicationError):
    """The system sent the login page: the session ended (idle timeout, server restart)."""


class ScreenChanged(ApplicationError):
    """The screen is not what the page object knows: an element or the expected screen is missing."""


class Screen:
    """One screen of a legacy system, shown in a frame (or the page's main frame)."""

    name: ClassVar[str] = ""
    screen_id: ClassVar[str] = ""
    selectors: ClassVar[dict[str, str]] = {}
    login_ids: ClassVar[frozenset[str]] = frozenset()
    message_selector: ClassVar[str] = ""

    def __init__(self, frame: Frame, nav_timeout_ms: int) -> None:
        self.frame = frame
        self.nav_timeout_ms = nav_timeout_ms

    # elements ------------------------------------------------------------------------------------------------
    def element(self, field: str, selector: str | None = None) -> Locator:
        return self.frame.locator(selector or self.selectors[field])

    def missing(self, field: str, selector: str | None = None) -> ScreenChanged:
        sel = selector or self.selectors[field]
        return ScreenChanged(f"element not found: {sel} ({field}); the screen may have changed: update the "
                             "selectors of this screen", screen=self.name, selector=sel)

    def act(self, field: str, action: str, *args: Any, selector: str | None = None) -> Any:
        """Do one thing to one element (fill, select_option, check, click, inner_text...)."""
        try:
            return getattr(self.element(field, selector), action)(*args, timeout=ELEMENT_TIMEOUT_MS)
        except PlaywrightTimeout:
            raise self.missing(field, selector) from None

    # arriving at a screen ------------------------------------------------------------------------------------
    def current_id(self) -> str:
        try:
            return self.frame.evaluate("document.body ? (document.body.dataset.screen || '') : ''")
        except PlaywrightError as exc:
            raise ApplicationError(f"the screen is gone: {str(exc).splitlines()[0]}", screen=self.name) from None

    def messages(self) -> list[str]:
        if not self.message_selector:
            return []
        return [m.strip() for m in self.frame.locator(self.message_selector).all_inner_texts() if m.strip()]

    def expect(self, status: int | None, screen: type["Screen"]) -> "Screen":
        """Check that the frame now shows ``screen``; raise what the system said otherwise."""
        landed = self.current_id()
        if landed in self.login_ids:
            raise SessionExpired("the system showed the login page (session expired)", screen=self.name)
        if status is not None and status >= 500:
            raise ApplicationError(f"the system answered HTTP {status}: {' '.join(self.messages())}".strip(),
                                   screen=self.name)
        if landed == screen.screen_id:
            return screen(self.frame, self.nav_timeout_ms)
        if landed == self.screen_id and self.messages():
            raise BusinessError("the system rejected the input: " + " / ".join(self.messages()), screen=self.name)
        raise ScreenChanged(f"expected screen {screen.screen_id} ({screen.name}), got '{landed}'"
                            + (f": {' '.join(self.messages())}" if self.messages() else ""), screen=self.name)

    def submit(self, button: str, then: type["Screen"]) -> "Screen":
        """Press a button that posts the form, and arrive at the next screen."""
        try:
            with self.frame.expect_navigation(wait_until="domcontentloaded", timeout=self.nav_timeout_ms) as nav:
                self.act(button, "dispatch_event", "click")
            response = nav.value
        except PlaywrightTimeout:
            raise ApplicationError("timed out waiting for the next screen", screen=self.name) from None
        return self.expect(response.status if response else None, then)

    @classmethod
    def open(cls, frame: Frame, url: str, nav_timeout_ms: int) -> "Screen":
        """Go to this screen by its address (as the menu link does)."""
        here = cls(frame, nav_timeout_ms)
        try:
            response = frame.goto(url, wait_until="domcontentloaded", timeout=nav_timeout_ms)
        except PlaywrightTimeout:
            raise ApplicationError("timed out opening the screen", screen=cls.name) from None
        return here.expect(response.status if response else None, cls)
