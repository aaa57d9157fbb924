"""Re-cut the desktop bot's reference images from the sample app itself.

Image-locate only works when the reference PNG matches the screen pixel for pixel (fonts, DPI, theme), so
the images are cut from the running app rather than drawn by hand: each screen and dialog is opened in turn
and the registered widget (a screen title, a dialog heading, a button's face) is grabbed from the display.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PIL import ImageGrab

from samples.desktop_app.app import DesktopApp, Dialog
from samples.desktop_app.store import ResidentStore

BOT_IMAGES = Path(__file__).resolve().parents[2] / "bots" / "desktop" / "images"
# Buttons are cut inside their border and focus ring, so that focus and hover do not change the face.
BUTTON_INSET = 5


def capture(out: Path | None = None) -> list[Path]:
    """Open the app on $DISPLAY, grab every reference widget, write ``<name>.png`` files; returns their paths."""
    out = Path(out or BOT_IMAGES)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        store = ResidentStore(Path(tmp) / "capture.db")
        store.add({"reason": "転入", "name": "見本　花子", "name_kana": "ミホン　ハナコ", "birth_date": "19900101",
                   "application_ref": "KK-CAPTURE"})
        app = DesktopApp(store, "capture", "capture")
        written: list[Path] = []

        def grab(*names: str) -> None:
            _settle(app)
            for name in names:
                written.append(_grab_widget(app, name, out))

        def dialog(name: str, message: str) -> Callable[[], None]:
            box = Dialog(app, name, message)
            return lambda: box.close(True)

        try:
            grab("screen_login", "button_login")
            close = dialog("login_error", "職員IDまたはパスワードが違います。")
            grab("dialog_login_error", "button_ok")
            close()
            app.show("search")
            grab("screen_search", "button_search", "button_new", "button_logout")
            for name, message in (("no_hit", "該当する記録はありません。"), ("input_error", "検索条件を入力してください。")):
                close = dialog(name, message)
                grab(f"dialog_{name}")
                close()
            app.search_fields["application_ref"].insert(0, "KK-CAPTURE")
            app.search()
            grab("screen_results", "button_open")
            app.show("entry")
            grab("screen_entry", "button_register")
            close = dialog("confirm", "この内容で登録しますか？")
            grab("dialog_confirm", "button_yes", "button_no")
            close()
            close = dialog("done", "登録しました。")
            grab("dialog_done")
            close()
            app.open_view(store.all()[0])
            grab("screen_view", "button_back")
        finally:
            app.root.destroy()
    return written


def _settle(app: DesktopApp) -> None:
    """Let Tk draw everything and the X server catch up before a grab."""
    for _ in range(3):
        app.root.update()
        time.sleep(0.1)


def _grab_widget(app: DesktopApp, name: str, out: Path) -> Path:
    widget = app.refs[name]
    inset = BUTTON_INSET if name.startswith("button_") else 0
    x, y = widget.winfo_rootx(), widget.winfo_rooty()
    box = (x + inset, y + inset, x + widget.winfo_width() - inset, y + widget.winfo_height() - inset)
    path = out / f"{name}.png"
    ImageGrab.grab(bbox=box).save(path)
    return path
