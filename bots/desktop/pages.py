"""Page objects of the sample desktop 住民記録 app: one class per screen, named after what a clerk does there.

What the bot knows about the app lives here and in ``images/``: which reference image identifies each screen
and dialog, the keyboard order of each form's fields, and the labels of the read-only inquiry view. A change
to the app's screens is fixed in this file (and by re-cutting the images).
"""

from __future__ import annotations

import re
from typing import Any

from loguru import logger

from bots.desktop.screen import Match, Screen
from kakitori.errors import ApplicationError, BusinessError, ConfigError

SCREENS = {"screen_login": "ログイン", "screen_search": "住民検索", "screen_results": "検索結果一覧",
           "screen_entry": "異動届入力", "screen_view": "登録内容照会"}
DIALOGS = ("dialog_input_error", "dialog_login_error", "dialog_confirm", "dialog_done", "dialog_no_hit")

# The entry form's fields in keyboard (Tab) order, with their labels as the app's messages name them.
ENTRY_FIELDS = {
    "application_ref": "申請受付番号", "reason": "異動の種別", "moved_on": "異動日", "name": "氏名",
    "name_kana": "フリガナ", "birth_date": "生年月日", "sex": "性別", "postal_code": "郵便番号", "address": "住所",
    "prev_address": "前住所", "phone": "電話番号", "head_of_household": "世帯主", "relationship": "続柄",
    "national_health": "国民健康保険に加入する",
}
CHECKBOXES = {"national_health": {"加入する": True, "加入しない": False}}
DATES = ("moved_on", "birth_date")
# The search screen's fields in keyboard order.
SEARCH_FIELDS = ("application_ref", "number", "kana", "birth_date")
VIEW_LABELS = {"住民番号": "resident_no", **{label: name for name, label in ENTRY_FIELDS.items()},
               "登録日時": "created_at"}
_RESIDENT_NO = re.compile(r"住民番号[:：]\s*(\d+)")


class DesktopPages:
    """The app's screens, as one clerk at one workstation sees them."""

    def __init__(self, screen: Screen, username: str, password: str) -> None:
        self.screen = screen
        self.username = username
        self._password = password

    # ---- where are we ------------------------------------------------------------------------------------
    def current(self, timeout_s: float | None = None) -> Match:
        """The dialog on top, else the screen shown; ApplicationError when the app's window is not on screen."""
        try:
            match = self.screen.wait_for([*DIALOGS, *SCREENS], timeout_s=timeout_s)
        except ApplicationError:
            raise ApplicationError("the 住民記録 app's window is not on screen (is the app running on this "
                                   "display?)", screen="any") from None
        self.screen.touch(match)      # a click on a title is harmless and gives its window the keyboard
        return match

    def _await(self, names: list[str], screen: str) -> Match:
        """Wait for one of a screen's possible outcomes; a dialog gets the keyboard (it opens off the pointer)."""
        match = self.screen.wait_for(names, screen=screen)
        if match.name.startswith("dialog_"):
            self.screen.touch(match)
        return match

    def go_to_search(self) -> None:
        """From wherever the app is, get to a fresh 住民検索 screen (logging in if needed)."""
        for _ in range(8):
            here = self.current().name
            if here == "screen_search":
                return
            logger.bind(screen=here).debug("navigating to the search screen")
            if here == "screen_login":
                self.log_in()
            elif here == "dialog_confirm":
                self.screen.press("escape")          # いいえ: never confirm what this run did not fill
                self._gone(here)
            elif here.startswith("dialog_"):
                self.screen.press("enter")
                self._gone(here)
            else:
                self.screen.click("button_back", screen=SCREENS[here])
                self._gone(here)
        raise ApplicationError("could not get to the search screen", screen="住民検索")

    def _gone(self, name: str) -> None:
        self.screen.wait_gone(name, screen=SCREENS.get(name, name))

    # ---- ログイン ------------------------------------------------------------------------------------------
    def log_in(self) -> None:
        """Type the clerk id and password (typed, never pasted: the clipboard is shared) and log in."""
        self.screen.hotkey("ctrl", "a")      # a refused login leaves the clerk id in place
        self.screen.enter_text(self.username)
        self.screen.press("tab")
        self.screen.gui.write(self._password)
        self.screen.press("enter")
        after = self._await(["screen_search", "dialog_login_error"], screen="ログイン")
        if after.name == "dialog_login_error":
            self.screen.press("enter")
            raise ConfigError(f"the app refused the login of clerk id '{self.username}' "
                              "(check the password in the target's password_env)")
        logger.bind(screen="ログイン").info("logged in")

    # ---- 住民検索 → 検索結果一覧 → 登録内容照会 ----------------------------------------------------------------
    def search(self, **criteria: str) -> bool:
        """Search residents (fields of SEARCH_FIELDS); True when the result list is shown, False for no hit."""
        self.go_to_search()
        self.screen.press("escape")          # クリア: empty every condition, focus the first field
        position = 0
        for index, name in enumerate(SEARCH_FIELDS):
            if criteria.get(name):
                self.screen.press(*["tab"] * (index - position))
                position = index
                self.screen.enter_text(criteria[name])
        self.screen.click("button_search", screen="住民検索")
        after = self._await(["dialog_no_hit", "dialog_input_error", "screen_results"], screen="住民検索")
        if after.name == "dialog_input_error":
            message = self.dialog_message()
            raise ApplicationError(f"the search was refused: {message}", screen="住民検索")
        if after.name == "dialog_no_hit":
            self.screen.press("enter")
            self._gone("dialog_no_hit")
            return False
        return True

    def open_first_result(self) -> dict[str, Any]:
        """Open the first (oldest) entry of the result list and read its inquiry view."""
        self.screen.click("button_open", screen="検索結果一覧")
        self.screen.wait_for(["screen_view"], screen="検索結果一覧")
        return self.read_view()

    def read_view(self) -> dict[str, Any]:
        """Every value of the 登録内容照会 view, as keyed (dates as YYYYMMDD, the checkbox as a bool)."""
        self.screen.hotkey("ctrl", "a")
        text = self.screen.copy()
        values: dict[str, Any] = {}
        for line in text.splitlines():
            label, sep, value = line.partition("：")
            name = VIEW_LABELS.get(label.strip().strip("　"))
            if sep and name:
                values[name] = value.strip()
        if "resident_no" not in values:
            raise ApplicationError("the inquiry view shows no 住民番号", screen="登録内容照会")
        for name in DATES:
            if name in values:
                values[name] = values[name].replace("/", "")
        for name, states in CHECKBOXES.items():
            if name in values:
                values[name] = states.get(values[name], values[name])
        return values

    # ---- 異動届入力 ----------------------------------------------------------------------------------------
    def open_entry_form(self) -> None:
        self.go_to_search()
        self.screen.click("button_new", screen="住民検索")
        self.screen.wait_for(["screen_entry"], screen="住民検索")

    def fill_entry(self, values: dict[str, Any]) -> None:
        """Fill the (fresh) entry form field by field in Tab order; the app has focused its first field."""
        unknown = sorted(set(values) - set(ENTRY_FIELDS))
        if unknown:
            raise ConfigError(f"the mapping fills fields the 異動届入力 screen does not have: {', '.join(unknown)}",
                              screen="異動届入力")
        for index, name in enumerate(ENTRY_FIELDS):
            if index:
                self.screen.press("tab")
            value = values.get(name, "")
            if name in CHECKBOXES:
                if value is True:
                    self.screen.press("space")
            elif value:
                self.screen.enter_text(str(value), confirmed=index == 0)

    def register(self) -> str:
        """Press 登録, answer はい, and return the new 住民番号. BusinessError with the app's message if refused."""
        self.screen.click("button_register", screen="異動届入力")
        after = self._await(["dialog_confirm", "dialog_input_error"], screen="異動届入力")
        if after.name == "dialog_input_error":
            self.refused()
        self.screen.click("button_yes", screen="登録確認")
        self._await(["dialog_done"], screen="登録確認")
        message = self.dialog_message()
        found = _RESIDENT_NO.search(message)
        if not found:
            raise ApplicationError("the 登録完了 message shows no 住民番号", screen="登録完了")
        self.screen.press("enter")
        return found.group(1)

    def refused(self) -> None:
        """Raise the 入力エラー dialog's message as a BusinessError naming the field (dialog left open as evidence)."""
        message = self.dialog_message()
        field = next((name for name, label in sorted(ENTRY_FIELDS.items(), key=lambda kv: -len(kv[1]))
                      if message.startswith(label)), None)
        raise BusinessError(message, screen="異動届入力", field=field)

    def dialog_message(self) -> str:
        """The message of the dialog on top (its title line dropped), copied as from a Windows message box."""
        title, _, message = self.screen.copy().partition("\n")
        return message.strip() or title.strip()

    def leave_entry(self) -> None:
        """Abandon the form without saving (a dry run ends here)."""
        self.screen.click("button_back", screen="異動届入力")
        self.screen.wait_for(["screen_search"], screen="異動届入力")
