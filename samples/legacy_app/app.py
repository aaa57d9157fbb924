"""The sample legacy web system: a 住民記録-style core system's screens, with the quirks of the real ones.

Login (lockout after repeated failures) → a frameset (header frame + work frame) → main menu, resident
search (kana name + birth date, or 受付メモ), a three-page 転入届 entry → confirmation (a JavaScript confirm
dialog) → completion page with a receipt number, and an edit screen. Meaningless element ids, a 元号 select
with year/month/day boxes, full-width-only fields checked by the server, some pages in Shift_JIS, a CSRF
token per form, session expiry after idle time, slow responses at times, and optional fault injection.

Server-side sessions live in memory: restarting the app logs everyone out, as it should.
"""

from __future__ import annotations

import html
import os
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from functools import wraps
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qsl

from flask import Flask, Response, g, redirect, render_template, request

from samples.legacy_app.faults import FaultConfig, FaultInjector
from samples.legacy_app.fields import (
    CHECKBOXES,
    COLUMNS,
    DATES,
    ERA_NAMES,
    FIELDS,
    LAYOUT,
    date_text,
    validate,
    wareki_text,
)
from samples.legacy_app.store import Store

PASSWORD_ENV = "KAKITORI_SAMPLE_LEGACY_PASSWORD"
DEFAULT_PASSWORD = "kakitori-sample"  # the sample system only; set the env variable for anything shared
USER_ID = "clerk01"
COOKIE = "JSESSIONID"
SJIS = "cp932"  # what browsers actually use for pages labelled Shift_JIS


@dataclass
class Session:
    user: str | None = None
    last_seen: float = field(default_factory=time.monotonic)
    tokens: deque = field(default_factory=lambda: deque(maxlen=32))
    draft: dict[str, str] = field(default_factory=dict)
    steps_done: int = 0


@dataclass(frozen=True)
class AppConfig:
    db: Path
    password: str = DEFAULT_PASSWORD
    idle_timeout_s: float = 600.0
    lockout_s: float = 300.0
    faults: FaultConfig = FaultConfig()


def create_app(cfg: AppConfig) -> Flask:
    """The Flask app over one SQLite file."""
    app = Flask(__name__)
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600  # the style sheet, as any intranet server would cache it
    store = Store(cfg.db, lockout_s=cfg.lockout_s)
    faults = FaultInjector(cfg.faults)
    sessions: dict[str, Session] = {}
    lock = threading.Lock()
    app.config["store"] = store
    app.config["faults"] = faults

    # sessions, CSRF, faults ----------------------------------------------------------------------------------
    def current() -> Session | None:
        sid = request.cookies.get(COOKIE)
        with lock:
            s = sessions.get(sid or "")
            if s and time.monotonic() - s.last_seen > cfg.idle_timeout_s:
                del sessions[sid]
                return None
            if s:
                s.last_seen = time.monotonic()
            return s

    def new_session(user: str | None) -> tuple[str, Session]:
        sid, s = secrets.token_hex(16), Session(user=user)
        now = time.monotonic()
        with lock:
            for stale in [k for k, v in sessions.items() if now - v.last_seen > cfg.idle_timeout_s]:
                del sessions[stale]  # every login page opens one: without this a long-running app grows
            sessions[sid] = s
        return sid, s

    def token() -> str:
        t = secrets.token_hex(12)
        g.session.tokens.append(t)
        return t

    def check_token(form: dict[str, str]) -> bool:
        t = form.get("_TOKEN", "")
        if t and t in g.session.tokens:
            g.session.tokens.remove(t)
            return True
        return False

    @app.before_request
    def before() -> Response | None:
        if request.path.startswith("/static"):
            return None
        delay = faults.slow()
        if delay:
            time.sleep(delay)
        g.fault = faults.draw(request.path)
        if g.fault == "error_before":
            return error_page(500, "システムエラーが発生しました。（E5001）")
        if g.fault == "expire":
            with lock:
                sessions.pop(request.cookies.get(COOKIE, ""), None)
        return None

    @app.after_request
    def after(resp: Response) -> Response:
        fault = getattr(g, "fault", None)
        if fault == "error_after" and resp.status_code < 500:
            return error_page(500, "システムエラーが発生しました。（E5002）")
        if fault == "stall":
            time.sleep(cfg.faults.stall_s)
        if fault == "rename" and resp.content_type.startswith("text/html"):
            resp.set_data(re.sub(rb'id="((?:TXT|SEL|CHK|RAD|BTN|LBL)\d+)', rb'id="\1R', resp.get_data()))
        return resp

    def screen(screen_id: str) -> Callable:
        """A work screen: needs a live logged-in session; an expired one lands on the login page."""

        def wrap(view: Callable) -> Callable:
            @wraps(view)
            def inner(*args: Any, **kwargs: Any) -> Any:
                s = current()
                if s is None or s.user is None:
                    return redirect("/login?expired=1", 303)
                g.session, g.screen = s, screen_id
                return view(*args, **kwargs)

            return inner

        return wrap

    def page(template: str, screen_id: str, sjis: bool = False, status: int = 200, **ctx: Any) -> Response:
        ctx.update(screen_id=screen_id, charset="Shift_JIS" if sjis else "UTF-8", token=token, LAYOUT=LAYOUT,
                   ERA_NAMES=ERA_NAMES, wareki=wareki_text, date_text=date_text,
                   user=getattr(g, "session", None) and g.session.user)
        text = render_template(template, **ctx)
        if sjis:
            return Response(text.encode(SJIS, "xmlcharrefreplace"), status,
                            content_type="text/html; charset=Shift_JIS")
        return Response(text, status, content_type="text/html; charset=UTF-8")

    def error_page(status: int, message: str) -> Response:
        return page("error.html", f"JKZ9{status}", status=status, message=message)

    def form(sjis: bool = False) -> dict[str, str]:
        """The posted form, decoded in the page's own charset (a Shift_JIS page posts Shift_JIS)."""
        body = request.get_data().decode("latin-1")
        pairs = parse_qsl(body, keep_blank_values=True, encoding=SJIS if sjis else "utf-8", errors="replace")
        return {k: html.unescape(v).strip() if sjis else v.strip() for k, v in pairs}

    def from_form(data: dict[str, str], step: int | None) -> dict[str, str]:
        """Element ids → column names for the fields of one entry page (or all pages)."""
        values = {}
        for d in DATES:
            if step in (None, d.step):
                values.update({c: data.get(i, "") for c, i in zip(d.columns, d.ids)})
        for f in FIELDS:
            if step in (None, f.step):
                values[f.name] = ("1" if data.get(f.id) else "0") if f.kind == "checkbox" else data.get(f.id, "")
        return values

    # login / frames / menu ------------------------------------------------------------------------------------
    @app.get("/")
    def root() -> Response:
        return redirect("/main", 303)

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Response:
        message = "セッションの有効期限が切れました。再度ログインしてください。" if request.args.get("expired") else ""
        if request.method == "POST":
            data = form()
            g.session = current()
            if g.session is None or not check_token(data):
                message = "不正な画面遷移です。もう一度ログインしてください。"
            else:
                user, password = data.get("USR001", ""), data.get("PWD001", "")
                if store.locked(user):
                    message = "アカウントがロックされています。管理者に連絡してください。"
                elif user == USER_ID and secrets.compare_digest(password.encode(), cfg.password.encode()):
                    store.login_ok(user)
                    sid, _ = new_session(user)
                    resp = redirect("/main", 303)
                    resp.set_cookie(COOKIE, sid, httponly=True, samesite="Lax")
                    return resp
                elif store.login_failed(user):
                    message = "アカウントがロックされています。管理者に連絡してください。"
                else:
                    message = "利用者IDまたはパスワードが違います。"
        sid, g.session = new_session(None)
        resp = page("login.html", "JKZ0001", message=message)
        resp.set_cookie(COOKIE, sid, httponly=True, samesite="Lax")
        return resp

    @app.get("/logout")
    def logout() -> Response:
        with lock:
            sessions.pop(request.cookies.get(COOKIE, ""), None)
        return redirect("/login", 303)

    @app.get("/main")
    @screen("JKZ0002")
    def main() -> Response:
        return page("frameset.html", "JKZ0002")

    @app.get("/head")
    @screen("JKZ0003")
    def head() -> Response:
        return page("head.html", "JKZ0003", now=time.strftime("%Y/%m/%d %H:%M"))

    @app.get("/menu")
    @screen("JKZ0010")
    def menu() -> Response:
        return page("menu.html", "JKZ0010")

    # search (Shift_JIS) ---------------------------------------------------------------------------------------
    @app.route("/search", methods=["GET", "POST"])
    @screen("JKA0101")
    def search() -> Response:
        data, rows, searched, messages = {}, [], False, []
        if request.method == "POST":
            data = form(sjis=True)
            if not check_token(data):
                return error_page(403, "不正な画面遷移です。メニューからやり直してください。")
            birth = tuple(data.get(i, "") for i in ("SEL101", "TXT102", "TXT103", "TXT104"))
            kana, memo = data.get("TXT101", ""), data.get("TXT105", "")
            if not (kana or memo or all(birth)):
                messages.append("検索条件を入力してください。")
            else:
                rows = store.search(kana=kana, birth=birth if all(birth) else None, memo=memo)
                searched = True
        return page("search.html", "JKA0101", sjis=True, data=data, rows=rows, searched=searched, messages=messages)

    # 転入届 entry -----------------------------------------------------------------------------------------------
    @app.get("/entry/1")
    @screen("JKB0101")
    def entry_start() -> Response:
        if request.args.get("continue") is None:
            g.session.draft, g.session.steps_done = {}, 0
        return page("entry.html", "JKB0101", step=1, values=g.session.draft, messages=[])

    @app.get("/entry/<int:step>")
    @screen("JKB0100")
    def entry_show(step: int) -> Response:
        if step not in (2, 3) or g.session.steps_done < step - 1:
            return error_page(403, "不正な画面遷移です。メニューからやり直してください。")
        return page("entry.html", f"JKB010{step}", step=step, values=g.session.draft, messages=[])

    @app.post("/entry/<int:step>")
    @screen("JKB0100")
    def entry_post(step: int) -> Response:
        data = form()
        if step not in (1, 2, 3) or g.session.steps_done < step - 1 or not check_token(data):
            return error_page(403, "不正な画面遷移です。メニューからやり直してください。")
        values = from_form(data, step)
        g.session.draft.update(values)
        if data.get("BTN_BACK") and step > 1:
            return redirect(f"/entry/{step - 1}?continue", 303)
        messages = validate(step, values)
        if messages:
            return page("entry.html", f"JKB010{step}", step=step, values=g.session.draft, messages=messages)
        g.session.steps_done = max(g.session.steps_done, step)
        return redirect(f"/entry/{step + 1}" if step < 3 else "/entry/confirm", 303)

    @app.get("/entry/confirm")
    @screen("JKB0104")
    def entry_confirm() -> Response:
        if g.session.steps_done < 3:
            return error_page(403, "不正な画面遷移です。メニューからやり直してください。")
        return page("confirm.html", "JKB0104", values=g.session.draft)

    @app.post("/entry/commit")
    @screen("JKB0104")
    def entry_commit() -> Response:
        data = form()
        if g.session.steps_done < 3 or not check_token(data):
            return error_page(403, "不正な画面遷移です。メニューからやり直してください。")
        messages = validate(None, g.session.draft)
        if messages:
            return page("confirm.html", "JKB0104", values=g.session.draft, messages=messages)
        receipt = store.insert(g.session.draft, g.session.user or "")
        g.session.draft, g.session.steps_done = {}, 0
        return redirect(f"/entry/done/{receipt}", 303)

    @app.get("/entry/done/<receipt>")
    @screen("JKB0105")
    def entry_done(receipt: str) -> Response:
        if store.get(receipt) is None:
            return error_page(404, "該当する受付がありません。")
        return page("done.html", "JKB0105", sjis=True, receipt=receipt)

    # edit (Shift_JIS) ----------------------------------------------------------------------------------------
    @app.route("/edit/<receipt>", methods=["GET", "POST"])
    @screen("JKA0201")
    def edit(receipt: str) -> Response:
        saved = store.get(receipt)
        if saved is None:
            return error_page(404, "該当する受付がありません。")
        messages, notice = [], ""
        values = {c: saved[c] for c in COLUMNS}
        if request.method == "POST":
            data = form(sjis=True)
            if not check_token(data):
                return error_page(403, "不正な画面遷移です。メニューからやり直してください。")
            values = from_form(data, None)
            messages = validate(None, values)
            if not messages:
                store.update(receipt, values)
                notice = "更新しました。"
        return page("edit.html", "JKA0201", sjis=True, receipt=receipt, values=values, messages=messages,
                    notice=notice, checkboxes=CHECKBOXES)

    return app


def config_from_env(db: Path, **kwargs: Any) -> AppConfig:
    """App settings with the password from ``KAKITORI_SAMPLE_LEGACY_PASSWORD`` (the documented default if unset)."""
    return AppConfig(db=db, password=os.environ.get(PASSWORD_ENV) or DEFAULT_PASSWORD, **kwargs)
