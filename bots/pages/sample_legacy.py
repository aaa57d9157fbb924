"""Page objects of the sample legacy system (samples/legacy_app), and its ``Target``.

Every selector of this system is in this file's dicts: when a screen changes, this is the one file to fix.
The system's element ids are meaningless (TXT011 is the family name); the dicts give them names. Work
screens live in the frameset's ``work`` frame; the login page is the top page.
"""

from __future__ import annotations

import time
from typing import Any, Callable, ClassVar, TypeVar

from loguru import logger
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Frame
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from bots.pages.base import Screen, SessionExpired
from bots.session import BrowserSession
from kakitori.config import TargetConfig
from kakitori.errors import ApplicationError, ConfigError, KakitoriError

T = TypeVar("T")

LOGIN_IDS = frozenset({"JKZ0001"})
MESSAGES = "#MSG001 li, #MSG900"

# screen field → (selector, kind); kind: text | select | radio (selector with {} for the option) | checkbox
FIELDS: dict[str, tuple[str, str]] = {
    "filing_era": ("#SEL001", "select"), "filing_year": ("#TXT001", "text"),
    "filing_month": ("#TXT002", "text"), "filing_day": ("#TXT003", "text"),
    "reason": ("#SEL002", "select"),
    "moved_era": ("#SEL003", "select"), "moved_year": ("#TXT004", "text"),
    "moved_month": ("#TXT005", "text"), "moved_day": ("#TXT006", "text"),
    "family_name": ("#TXT011", "text"), "given_name": ("#TXT012", "text"),
    "family_kana": ("#TXT013", "text"), "given_kana": ("#TXT014", "text"),
    "birth_era": ("#SEL011", "select"), "birth_year": ("#TXT015", "text"),
    "birth_month": ("#TXT016", "text"), "birth_day": ("#TXT017", "text"),
    "sex": ("#RAD011_{}", "radio"),
    "individual_number": ("#TXT018", "text"), "phone": ("#TXT019", "text"),
    "postal1": ("#TXT021", "text"), "postal2": ("#TXT022", "text"),
    "address": ("#TXT023", "text"), "prev_address": ("#TXT024", "text"),
    "head_of_household": ("#TXT025", "text"), "relationship": ("#SEL021", "select"),
    "national_health": ("#CHK021", "checkbox"), "keep_card": ("#CHK022", "checkbox"),
    "memo": ("#TXT026", "text"),
}
STEP_FIELDS = {
    1: ("filing_era", "filing_year", "filing_month", "filing_day", "reason",
        "moved_era", "moved_year", "moved_month", "moved_day"),
    2: ("family_name", "given_name", "family_kana", "given_kana", "birth_era", "birth_year", "birth_month",
        "birth_day", "sex", "individual_number", "phone"),
    3: ("postal1", "postal2", "address", "prev_address", "head_of_household", "relationship",
        "national_health", "keep_card", "memo"),
}

# reads every field of a form in one round trip; a missing element reads as null
_READ_JS = """(fields) => Object.fromEntries(fields.map(([name, sel, kind]) => {
  if (kind === 'radio') {
    const prefix = sel.slice(1).replace('{}', '');
    const all = document.querySelectorAll(`[id^="${prefix}"]`);
    if (!all.length) return [name, null];
    const on = Array.from(all).find(e => e.checked);
    return [name, on ? on.value : ''];
  }
  const el = document.querySelector(sel);
  if (!el) return [name, null];
  return [name, kind === 'checkbox' ? el.checked : el.value];
}))"""


# fills a form in one round trip: returns the names whose element is missing (nothing is changed then)
_FILL_JS = """(fields) => {
  const find = ([name, sel, kind, value]) => kind === 'radio'
    ? (value === '' ? [] : [document.querySelector(sel.replace('{}', value))]) : [document.querySelector(sel)];
  const gone = fields.filter(f => find(f).some(el => !el)).map(f => f[0]);
  if (gone.length) return gone;
  for (const f of fields) {
    const [name, sel, kind, value] = f;
    for (const el of find(f)) {
      el.focus();
      if (kind === 'checkbox' || kind === 'radio') el.checked = kind === 'radio' ? true : value;
      else el.value = value;
      el.dispatchEvent(new Event('input', {bubbles: true}));
      el.dispatchEvent(new Event('change', {bubbles: true}));
      el.blur();
    }
  }
  return [];
}"""


class WorkScreen(Screen):
    login_ids = LOGIN_IDS
    message_selector = MESSAGES


class FormScreen(WorkScreen):
    """A screen with some of the application's fields."""

    fields: ClassVar[tuple[str, ...]] = ()

    def enter(self, values: dict[str, Any]) -> None:
        """Type the values into this screen's fields, as a clerk would (input and change events included).

        One round trip per screen rather than one per field: the screens have no per-keystroke scripts, and
        keying 30 fields one by one would halve the bot's rate.
        """
        spec = []
        for name in self.fields:
            selector, kind = FIELDS[name]
            value = values.get(name, False if kind == "checkbox" else "")
            spec.append([name, selector, kind, value if kind == "checkbox" else str(value)])
        gone = self.frame.evaluate(_FILL_JS, spec)
        if gone:
            raise self.missing(gone[0], FIELDS[gone[0]][0])

    def read(self) -> dict[str, Any]:
        """What this screen's fields hold now."""
        spec = [[name, *FIELDS[name]] for name in self.fields]
        got = self.frame.evaluate(_READ_JS, spec)
        gone = [name for name, value in got.items() if value is None]
        if gone:
            raise self.missing(gone[0], FIELDS[gone[0]][0])
        return got


class LoginScreen(Screen):
    name = "ログイン"
    screen_id = "JKZ0001"
    selectors = {"user": "#USR001", "password": "#PWD001", "login": "#BTN001"}
    message_selector = "#MSG001"


class MenuScreen(WorkScreen):
    name = "業務メニュー"
    screen_id = "JKZ0010"
    selectors = {"search": "#LNK001", "entry": "#LNK002"}


class SearchScreen(WorkScreen):
    name = "住民検索・照会"
    screen_id = "JKA0101"
    selectors = {"kana": "#TXT101", "birth_era": "#SEL101", "birth_year": "#TXT102", "birth_month": "#TXT103",
                 "birth_day": "#TXT104", "memo": "#TXT105", "search": "#BTN101", "hits": "#TBL101 tr.hit",
                 "none": "#MSG101"}

    def search_by_memo(self, memo: str) -> "SearchScreen":
        self.act("memo", "fill", memo)
        return self.submit("search", SearchScreen)

    def search_resident(self, kana: str, era: str, year: str, month: str, day: str) -> "SearchScreen":
        self.act("kana", "fill", kana)
        self.act("birth_era", "select_option", era)
        for part, value in (("birth_year", year), ("birth_month", month), ("birth_day", day)):
            self.act(part, "fill", value)
        return self.submit("search", SearchScreen)

    def hits(self) -> list[dict[str, str]]:
        """The result rows: receipt number, name, kana, birth date, memo."""
        rows = self.frame.locator(self.selectors["hits"]).evaluate_all(
            "rows => rows.map(r => Array.from(r.cells).map(c => c.innerText.trim()))")
        if not rows and not self.element("none").count():
            raise self.missing("none")
        return [dict(zip(("receipt_no", "name", "kana", "birth", "memo"), r)) for r in rows]


class EntryStep1Screen(FormScreen):
    name = "転入届 入力(1/3) 届出内容"
    screen_id = "JKB0101"
    selectors = {"next": "#BTN001"}
    fields = STEP_FIELDS[1]


class EntryStep2Screen(FormScreen):
    name = "転入届 入力(2/3) 本人"
    screen_id = "JKB0102"
    selectors = {"next": "#BTN001", "back": "#BTN002"}
    fields = STEP_FIELDS[2]


class EntryStep3Screen(FormScreen):
    name = "転入届 入力(3/3) 住所・世帯"
    screen_id = "JKB0103"
    selectors = {"next": "#BTN001", "back": "#BTN002"}
    fields = STEP_FIELDS[3]


class ConfirmScreen(WorkScreen):
    name = "転入届 確認"
    screen_id = "JKB0104"
    selectors = {"register": "#BTN010"}

    def register(self) -> "DoneScreen":
        """Press 登録 (the browser's confirm dialog is accepted by the session)."""
        return self.submit("register", DoneScreen)


class DoneScreen(WorkScreen):
    name = "転入届 完了"
    screen_id = "JKB0105"
    selectors = {"receipt": "#LBL101"}

    def receipt_number(self) -> str:
        return self.act("receipt", "inner_text").strip()


class EditScreen(FormScreen):
    name = "転入届 照会・修正"
    screen_id = "JKA0201"
    selectors = {"receipt": "#LBL201", "update": "#BTN201"}
    fields = tuple(FIELDS)


STEPS: tuple[type[FormScreen], ...] = (EntryStep1Screen, EntryStep2Screen, EntryStep3Screen)


class Target:
    """The sample legacy system as a ``TargetSystem``: find, create, read (and rehearse, capture)."""

    def __init__(self, name: str, cfg: TargetConfig, session: BrowserSession, user: str, password: str) -> None:
        self.name = name
        self.base_url = cfg.base_url.rstrip("/")
        self.session = session
        self._user, self._password = user, password
        self.logins = 0
        self.nav_timeout_ms = session.cfg.timeout_ms
        if not session.state.get("dialogs"):  # once per page: a reused page already has its handler
            session.page.on("dialog", lambda dialog: dialog.accept())
            session.state["dialogs"] = True

    @property
    def _logged_in(self) -> bool:
        """Whether this page logged in (in this job or, on a reused page, an earlier one); the system may have
        ended the session since, which the screens notice (``SessionExpired``)."""
        return bool(self.session.state.get("logged_in"))

    @_logged_in.setter
    def _logged_in(self, value: bool) -> None:
        self.session.state["logged_in"] = value

    # TargetSystem --------------------------------------------------------------------------------------------
    def find(self, key: str) -> str | None:
        """Search 受付メモ for the key: the receipt number of an entry keyed under it, if any."""
        def search() -> str | None:
            screen = self._open(SearchScreen, "/search").search_by_memo(key)
            hits = [h for h in screen.hits() if h["memo"] == key]
            if len(hits) > 1:
                logger.warning("{n} entries carry the same key in the target", n=len(hits))
            return hits[0]["receipt_no"] if hits else None

        return self._verb(search, again_after_login=True)

    def create(self, key: str, values: dict[str, Any]) -> str:
        """Walk the three entry pages, confirm, register; the receipt number from the completion page."""
        def create() -> str:
            confirm = self._fill_entry(values)
            return confirm.register().receipt_number()

        return self._verb(create, again_after_login=False)

    def read(self, entry_id: str) -> dict[str, Any]:
        """Open the entry's edit screen (Shift_JIS) and read every field."""
        return self._verb(lambda: self._open(EditScreen, f"/edit/{entry_id}").read(), again_after_login=True)

    def rehearse(self, key: str, values: dict[str, Any]) -> list[str]:
        """Fill every entry page and stop on the confirmation page, a screenshot at each step."""
        shots: list[str] = []

        def rehearse() -> list[str]:
            self._fill_entry(values, lambda step: shots.append(self.session.screenshot(f"{key}-{step}")))
            shots.append(self.session.screenshot(f"{key}-confirm"))
            return shots

        return self._verb(rehearse, again_after_login=True)

    def capture(self, label: str) -> list[str]:
        """Screenshot of the failed screen; also keeps this job's browser trace."""
        self.session.failed = True
        try:
            return [self.session.screenshot(label)]
        except PlaywrightError as exc:
            raise ApplicationError(f"screenshot failed: {str(exc).splitlines()[0]}") from None

    # steps ---------------------------------------------------------------------------------------------------
    def _fill_entry(self, values: dict[str, Any], after_fill: Callable[[int], None] | None = None) -> ConfirmScreen:
        screen: Screen = self._open(EntryStep1Screen, "/entry/1")
        for n, cls in enumerate(STEPS, 1):
            assert isinstance(screen, cls)
            screen.enter(values)
            if after_fill:
                after_fill(n)
            screen = screen.submit("next", STEPS[n] if n < len(STEPS) else ConfirmScreen)
        assert isinstance(screen, ConfirmScreen)
        return screen

    def _open(self, screen: type[Screen], path: str) -> Any:
        return screen.open(self._work_frame(), self.base_url + path, self.nav_timeout_ms)

    def _work_frame(self) -> Frame:
        if not self._logged_in:
            self._login()
        frame = self.session.page.frame(name="work")
        if frame is None:
            self._logged_in = False
            raise SessionExpired("the main frameset is gone", screen=MenuScreen.name)
        return frame

    def _login(self) -> None:
        page = self.session.page
        started = time.perf_counter()
        screen = LoginScreen.open(page.main_frame, self.base_url + "/login", self.nav_timeout_ms)
        screen.act("user", "fill", self._user)
        screen.act("password", "fill", self._password)
        try:
            with page.expect_navigation(wait_until="load", timeout=self.nav_timeout_ms) as nav:  # frames too
                screen.act("login", "click")
            status = nav.value.status if nav.value else None
        except PlaywrightTimeout:
            raise ApplicationError("timed out logging in", screen=LoginScreen.name) from None
        if status is not None and status >= 500:
            raise ApplicationError(f"the system answered HTTP {status} to the login", screen=LoginScreen.name)
        if "/main" not in page.url:
            said = " ".join(screen.messages())
            if "パスワード" in said or "ロック" in said:  # wrong or locked: retrying would lock the account
                raise ConfigError(f"login refused: {said}", screen=LoginScreen.name,
                                  key="bots.targets.<target>.username/password_env")
            raise ApplicationError(f"login did not reach the menu: {said}", screen=LoginScreen.name)
        self._logged_in = True
        self.logins += 1
        logger.info("logged in to {target} ({ms:.0f} ms)", target=self.name, ms=(time.perf_counter() - started) * 1000)

    def _verb(self, action: Callable[[], T], again_after_login: bool) -> T:
        """Run one verb; on an expired session log in again (and repeat it, if repeating is harmless)."""
        try:
            try:
                return action()
            except SessionExpired:
                self._logged_in = False
                if not again_after_login:
                    raise
                logger.info("session expired: logging in again")
                return action()
        except SessionExpired:
            self._logged_in = False
            raise
        except KakitoriError:
            raise
        except PlaywrightTimeout as exc:
            raise ApplicationError(f"timed out: {str(exc).splitlines()[0]}") from None
        except PlaywrightError as exc:
            self._logged_in = False  # the page may be gone with the browser: start clean
            raise ApplicationError(f"browser error: {str(exc).splitlines()[0]}") from None
