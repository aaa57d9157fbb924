"""The review station's web app (Flask, server-rendered, a little plain JavaScript, nothing from a CDN).

A clerk logs in, presses Enter, and gets the next document with only its open fields: the crop beside the read
value, the reason, an input. Enter accepts a field and moves on; the last Enter saves the document and opens the
next. A document whose last open field is resolved moves to ``reviewed`` and continues in its workflow.

Security: accounts from config with scrypt hashes; sessions tracked server-side (logout and timeout really end
them); a CSRF token on every form (a POST without it gets 400); images only from under the data directory;
no caching of pages or crops (they hold personal data); values never logged.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from loguru import logger
from werkzeug.exceptions import HTTPException

from kakitori.config import ReviewConfig, secret
from kakitori.errors import ApplicationError, BusinessError, ConfigError, KakitoriError
from ocr.record import FieldStatus
from ocr.template import FieldType
from workflows.review import values as entry_values
from workflows.review.auth import Accounts, User, csrf_ok, new_csrf_token
from workflows.review.checks import Desk, Task, TaskKind, Templates
from workflows.review.feedback import correction_rates
from workflows.store import DocumentStore

PAGE_SIZE = 50
CLAIM_S = 600          # a document opened by one clerk is not handed to another for this long
# The OCR's reasons (short English phrases joined by "; ") in clerks' words; an unknown one is shown as is.
REASONS = (  # first match wins: specific phrases before general ones
    ("no gap between family and given name", "氏と名の区切りが読み取れない"),
    ("postal code corrected by one digit", "住所に合わせて郵便番号を1桁補正（要確認）"),
    ("one digit guessed from the check digit", "検査用数字から1桁を推定（要確認）"),
    ("date repaired", "日付を補正（要確認）"),
    ("low confidence", "読取の信頼度が低い"), ("second reader does not confirm", "2つの読取方式で確認できない"),
    ("second reader disagrees", "2つの読取方式の結果が違う"), ("whole-field reading differs", "2つの読取方式の結果が違う"),
    ("the two digit readers disagree", "数字の読取結果が食い違う"), ("a comb box is skipped", "枠の文字が抜けている"),
    ("digits and written characters do not line up", "文字と枠が合わない"),
    ("a written character was not read", "読めない文字がある"),
    ("writing found but nothing could be read", "記入があるが読み取れない"),
    ("required field", "必須項目が空欄"), ("longer than", "文字数が多すぎる"),
    ("postal code does not exist", "存在しない郵便番号"), ("postal code", "郵便番号の形式が違う"),
    ("phone number", "電話番号の形式が違う"), ("individual number check digit", "個人番号の検査用数字が合わない"),
    ("individual number", "個人番号が12桁でない"), ("not digits", "数字でない"), ("expected", "桁数が違う"),
    ("amount is not a number", "金額が数字でない"), ("amount starts with 0", "金額が0で始まる"),
    ("not a valid date", "日付として正しくない"), ("date out of range", "日付が範囲外"),
    ("not katakana", "カタカナでない"), ("not hiragana", "ひらがなでない"),
    ("must not be after", "日付の前後関係が合わない"), ("does not match", "他の項目と合わない"),
    ("inked", "チェックの有無が不確か"), ("mm²", "どの選択肢に○があるか不確か"),
)
PLACEHOLDERS = {
    FieldType.DATE: "例 R6.4.1 / 2024-04-01", FieldType.POSTAL: "例 8328555", FieldType.PHONE: "例 0944-73-8111",
    FieldType.KATAKANA: "カタカナ（ひらがな可）", FieldType.AMOUNT: "数字のみ",
}

bp = Blueprint("review", __name__)


@dataclass
class Station:
    """What the views need, built once by ``create_app``."""

    cfg: ReviewConfig
    store: DocumentStore
    desk: Desk
    templates: Templates
    accounts: Accounts
    data_dir: Path
    on_reviewed: Callable[[str], None]

    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self._handoff = ThreadPoolExecutor(max_workers=1, thread_name_prefix="review-handoff")
        self._lock = threading.Lock()
        self._sessions: dict[str, float] = {}      # session id → last activity (monotonic)
        self._claims: dict[str, tuple[str, float]] = {}  # document id → (user, until)

    def hand_on(self, doc_id: str) -> Future:
        """Continue a reviewed document in its workflow, off the request thread (an embedded queue keys it in
        right there, which must not keep the clerk waiting). A failure is logged; the store already says
        ``reviewed``, so the workflow's sweeper hands it on later."""
        return self._handoff.submit(self._hand_on, doc_id)

    def _hand_on(self, doc_id: str) -> None:
        try:
            self.on_reviewed(doc_id)
        except KakitoriError as exc:
            logger.bind(**{"document": doc_id, **exc.context}).error("reviewed document not handed on: {}", exc.message)
        except Exception as exc:  # noqa: BLE001 - a background thread: log it, the sweeper retries
            logger.opt(exception=exc).bind(document=doc_id).error("reviewed document not handed on")

    # server-side sessions: a cookie alone is not enough, so logout and timeout really end a session
    def open_session(self) -> str:
        sid = secrets.token_urlsafe(24)
        with self._lock:
            self._sessions[sid] = self.clock()
        return sid

    def touch_session(self, sid: str | None) -> bool:
        """True (and the session's clock reset) if ``sid`` is live and has not timed out."""
        now = self.clock()
        limit = self.cfg.session_timeout_min * 60
        with self._lock:
            seen = self._sessions.get(sid or "")
            if seen is None or now - seen > limit:
                self._sessions.pop(sid or "", None)
                return False
            self._sessions[sid] = now
        return True

    def close_session(self, sid: str | None) -> None:
        with self._lock:
            self._sessions.pop(sid or "", None)

    def claim(self, doc_id: str, user: str) -> None:
        with self._lock:
            self._claims[doc_id] = (user, self.clock() + CLAIM_S)

    def release(self, doc_id: str) -> None:
        with self._lock:
            self._claims.pop(doc_id, None)

    def claimed_by_other(self, doc_id: str, user: str) -> bool:
        with self._lock:
            holder = self._claims.get(doc_id)
        return bool(holder and holder[0] != user and holder[1] > self.clock())


def create_app(cfg: ReviewConfig, store: DocumentStore, data_dir: Path, templates_dirs: list[Path], *,
               on_reviewed: Callable[[str], None] | None = None, env: dict[str, str] | None = None) -> Flask:
    """The review station app. ``on_reviewed(doc_id)`` continues a reviewed document (default: its key-in job)."""
    key = secret(cfg.secret_key_env, env)
    if not key or len(key) < 16:
        raise ConfigError(f"key 'review.secret_key_env': environment variable {cfg.secret_key_env} must hold a "
                          "random secret of at least 16 characters (e.g. `python -c 'import secrets; "
                          "print(secrets.token_urlsafe(32))'`)")
    accounts = Accounts.from_config(cfg, env)
    if not accounts.users:
        raise ConfigError("key 'review.users': no reviewer accounts configured")
    templates = Templates(templates_dirs)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=key, SESSION_COOKIE_NAME="kakitori_review", SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict", PERMANENT_SESSION_LIFETIME=timedelta(minutes=cfg.session_timeout_min),
        MAX_CONTENT_LENGTH=1 << 20, TEMPLATES_AUTO_RELOAD=False, SEND_FILE_MAX_AGE_DEFAULT=3600,
    )
    app.extensions["kakitori_review"] = Station(
        cfg=cfg, store=store, desk=Desk(store, templates), templates=templates, accounts=accounts,
        data_dir=Path(data_dir).resolve(), on_reviewed=on_reviewed or _continue_after_review)
    app.register_blueprint(bp)
    app.jinja_env.globals["csrf_token"] = _csrf_token
    # static files are cached for an hour; their URLs change with their content
    app.jinja_env.globals["version"] = hashlib.sha1(b"".join(
        f.read_bytes() for f in sorted(Path(app.static_folder).iterdir()))).hexdigest()[:10]
    for code in (400, 403, 404, 405, 413, 500):
        app.register_error_handler(code, _error_page)
    app.register_error_handler(ApplicationError, _application_error)
    return app


def _continue_after_review(doc_id: str) -> None:
    from workflows.jobs import continue_after_review  # the workflow's own next step (enqueues key-in)

    continue_after_review(doc_id)


def station() -> Station:
    return current_app.extensions["kakitori_review"]


def _csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = new_csrf_token()
    return session["csrf"]


# request guards


PUBLIC = {"review.login", "static"}


@bp.before_app_request
def _guard() -> Response | None:
    st = station()
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        given = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token")
        if not csrf_ok(session.get("csrf"), given):
            logger.bind(path=request.path).warning("request refused: missing or wrong CSRF token")
            abort(400, description="フォームの有効期限が切れたか、不正な送信です。画面を開き直してください。")
    g.user = None
    name, sid = session.get("user"), session.get("sid")
    if name:
        user = st.accounts.users.get(name)
        if user and st.touch_session(sid):
            g.user = user
        else:
            session.clear()
            if request.endpoint not in PUBLIC:
                flash("一定時間操作がなかったため、ログアウトしました。", "error")
    if g.user is None and request.endpoint not in PUBLIC:
        back = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("review.login", next=back))
    return None


@bp.after_app_request
def _headers(resp: Response) -> Response:
    resp.headers["Content-Security-Policy"] = ("default-src 'self'; img-src 'self'; style-src 'self'; "
                                               "script-src 'self'; frame-ancestors 'none'; form-action 'self'")
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "no-referrer"
    if request.endpoint != "static":
        resp.headers["Cache-Control"] = "no-store"
    return resp


def _error_page(exc: HTTPException) -> tuple[str, int]:
    titles = {400: "不正な要求", 403: "権限がありません", 404: "見つかりません", 405: "許可されていない操作",
              413: "送信が大きすぎます", 500: "内部エラー"}
    code = getattr(exc, "code", 500) or 500
    message = exc.description if code in (400, 403, 404) and isinstance(exc, HTTPException) else ""
    return render_template("error.html", code=code, title=titles.get(code, "エラー"), message=message,
                           user=g.get("user")), code


def _application_error(exc: ApplicationError) -> tuple[str, int]:
    logger.bind(**exc.context).error("review station: {}", exc.message)
    return render_template("error.html", code=503, title="一時的な障害",
                           message="データベースに接続できません。しばらくしてから開き直してください。",
                           user=g.get("user")), 503


# login


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    st = station()
    nxt = _safe_next(request.values.get("next"))
    if request.method == "GET":
        if g.get("user"):
            return redirect(nxt or url_for("review.queue"))
        return render_template("login.html", next=nxt or "", error=None, user=None, username="")
    name = request.form.get("username", "").strip()
    user = st.accounts.authenticate(name, request.form.get("password", ""))
    if user is None:
        logger.bind(user_name=name).warning("review login failed")
        error = ("ログインに続けて失敗したため、しばらくお待ちください。" if st.accounts.locked(name)
                 else "ユーザー名またはパスワードが違います。")
        return render_template("login.html", next=nxt or "", error=error, user=None, username=name), 401
    session.clear()  # a fresh session (and CSRF token) at login: no session fixation
    session["user"], session["sid"], session["csrf"] = user.name, st.open_session(), new_csrf_token()
    session.permanent = True
    logger.bind(user_name=user.name, role=user.role.value).info("review login")
    return redirect(nxt or url_for("review.queue"))


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site (no scheme, no host, no '//') may be a redirect target after login."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlparse(target)
    return None if parts.scheme or parts.netloc or target.startswith("/login") else target


@bp.post("/logout")
def logout() -> Any:
    st = station()
    st.close_session(session.get("sid"))
    logger.bind(user_name=g.user.name).info("review logout")
    session.clear()
    flash("ログアウトしました。", "info")
    return redirect(url_for("review.login"))


# the queue


@bp.get("/")
def queue() -> str:
    st, user = station(), g.user
    page = max(1, request.args.get("page", 1, type=int))
    waiting = st.store.waiting_for_review(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    entries = st.desk.entries_for([d.id for d in waiting.items])
    rows = []
    for doc in waiting.items:
        tasks = st.desk.tasks(doc, user, entries[doc.id])
        rows.append({
            "document_id": doc.id, "title": st.templates.title(doc.record.template if doc.record else doc.template),
            "received": doc.created_at.astimezone().strftime("%m/%d %H:%M"),
            "open": len(tasks) if tasks else "—（他の確認者・監督者待ち）",
            "single": any(t.kind is TaskKind.SINGLE for t in tasks),
            "double": any(t.kind is not TaskKind.SINGLE for t in tasks),
        })
    conflicts = []
    if user.is_supervisor:
        conflicts = [{"document_id": doc.id, "title": st.templates.title(doc.record.template),
                      "labels": [st.templates.spec(doc.record.template, doc.record.fields[f]).label for f in fields]}
                     for doc, fields in st.desk.conflicts()]
    pages = max(1, -(-waiting.total // PAGE_SIZE))
    return render_template("queue.html", user=user, rows=rows, total=waiting.total, page=page, pages=pages,
                           conflicts=conflicts)


@bp.get("/next")
def next_document() -> Any:
    """The oldest document with work for this clerk that nobody else has open; ``skip`` passes one over.

    Skipped documents (Alt+N) are remembered in the session and offered again once the rest are done.
    """
    return _redirect_to_next(request.args.get("skip"))


def _redirect_to_next(after: str | None, *, skipping: bool = True) -> Any:
    st, user = station(), g.user
    skipped = list(session.get("skipped", []))
    if after:
        st.release(after)
        skipped = [s for s in skipped if s != after]
        if skipping:
            skipped = skipped[-49:] + [after]  # the session is a cookie: keep it small
    doc_id = _find_next(st, user, set(skipped) | ({after} if after else set()))
    if doc_id is None and skipped:
        skipped = []
        doc_id = _find_next(st, user, {after} if after else set())
    session["skipped"] = skipped
    if doc_id is None:
        flash("確認待ちの書類はありません。", "info")
        return redirect(url_for("review.queue"))
    return redirect(url_for("review.document", doc_id=doc_id))


def _find_next(st: Station, user: User, skip: set[str]) -> str | None:
    offset = 0
    while True:
        waiting = st.store.waiting_for_review(limit=25, offset=offset)
        entries = st.desk.entries_for([d.id for d in waiting.items])
        for doc in waiting.items:
            if doc.id in skip or st.claimed_by_other(doc.id, user.name):
                continue
            if st.desk.tasks(doc, user, entries[doc.id]):
                return doc.id
        offset += len(waiting.items)
        if not waiting.items or offset >= waiting.total:
            return None


# one document


@dataclass(frozen=True)
class TaskView:
    name: str
    label: str
    type: str
    kind: str
    reason: str
    crop_url: str | None
    read_display: str
    confidence: float | None
    entry: str
    entries: list[dict[str, str]]
    options: list[dict[str, str]]
    placeholder: str
    error: str | None = None


def _task_view(doc_id: str, task: Task, typed: dict[str, str], errors: dict[str, str]) -> TaskView:
    f, spec = task.field, task.spec
    read = entry_values.display(spec, f.value)
    entry = typed.get(f.name, read if task.kind is TaskKind.SINGLE else "")
    show = task.kind is not TaskKind.DOUBLE  # a blind entry shows neither the read value nor the other entry
    reason = reason_ja(f.reason) or ("検査エラー" if f.status is FieldStatus.INVALID else "")
    return TaskView(
        name=f.name, label=spec.label, type=spec.type.value, kind=task.kind.value, reason=reason,
        crop_url=url_for("review.crop", doc_id=doc_id, field=f.name) if f.crop else None,
        read_display=_option_label(spec, read) if show else "", confidence=f.confidence if show else None,
        entry=entry,
        entries=_entry_views(spec, task),
        options=[{"value": o.value, "label": o.label} for o in spec.options],
        placeholder=PLACEHOLDERS.get(spec.type, ""), error=errors.get(f.name),
    )


def reason_ja(reason: str) -> str:
    """The OCR's reasons for a field, in Japanese, one per "; "-separated part (a template's rule message,
    already Japanese, and any unknown phrase pass through unchanged)."""
    parts = []
    for part in (p.strip() for p in reason.split(";")):
        ja = next((text for key, text in REASONS if key in part), part)
        if part and ja not in parts:
            parts.append(ja)
    return "・".join(parts)


def _entry_views(spec: Any, task: Task) -> list[dict[str, Any]]:
    """The blind entries of a mismatch, each split into segments with the characters that differ marked."""
    shown = [_option_label(spec, entry_values.display(spec, e.value)) for e in task.entries]
    views = []
    for i, e in enumerate(task.entries):
        other = shown[1 - i] if len(shown) == 2 else shown[i]
        segments = []
        for op, a1, a2, _, _ in difflib.SequenceMatcher(a=shown[i], b=other, autojunk=False).get_opcodes():
            segments.append({"text": shown[i][a1:a2], "diff": op != "equal"})
        views.append({"user": e.reviewer, "value": entry_values.display(spec, e.value), "segments": segments})
    return views


def _option_label(spec: Any, shown: str) -> str:
    """A value as a clerk reads it beside the crop: option labels, checkbox words, dates also in 和暦."""
    if spec.type is FieldType.CHECKBOX:
        return "チェックあり" if shown else "チェックなし"
    if spec.type is FieldType.DATE and shown:
        try:
            return f"{shown}（{entry_values.wareki(shown)}）"
        except ValueError:
            return shown
    for o in spec.options:
        if o.value == shown:
            return o.label
    return shown


@bp.route("/doc/<doc_id>", methods=["GET", "POST"])
def document(doc_id: str) -> Any:
    st, user = station(), g.user
    doc = st.store.find(doc_id)
    if doc is None:
        abort(404, description="その書類はありません。")
    if request.method == "POST":
        return _submit(doc_id)
    tasks = st.desk.tasks(doc, user)
    if not tasks:
        flash("この書類にあなたが確認する項目はありません。", "info")
        return redirect(url_for("review.next_document", skip=doc_id))
    st.claim(doc_id, user.name)
    return _render_document(doc, tasks, {}, {})


def _render_document(doc: Any, tasks: list[Task], typed: dict[str, str], errors: dict[str, str], status: int = 200):
    st = station()
    views = [_task_view(doc.id, t, typed, errors) for t in tasks]
    info = {"id": doc.id, "title": st.templates.title(doc.record.template), "pages": max(1, doc.record.pages)}
    waiting = st.store.waiting_for_review(limit=1).total
    return render_template("document.html", user=g.user, doc=info, tasks=views, waiting=waiting), status


def _submit(doc_id: str) -> Any:
    st, user = station(), g.user
    doc = st.store.get(doc_id)
    tasks = {t.field.name: t for t in st.desk.tasks(doc, user)}
    shown = [n for n in request.form.get("fields", "").split(",") if n]
    parsed, typed, errors = {}, {}, {}
    for name in shown:
        raw = request.form.get(f"f.{name}", "")
        task = tasks.get(name)
        if task is None:
            continue  # resolved meanwhile by someone else: reported as stale below
        typed[name] = raw
        try:
            parsed[name] = entry_values.parse_entry(task.spec, raw)
        except entry_values.EntryError as exc:
            errors[name] = str(exc)
    if errors:
        return _render_document(doc, list(tasks.values()), typed, errors, status=422)
    try:
        outcomes = st.desk.submit(doc_id, user, parsed)
    except BusinessError as exc:
        logger.bind(document=doc_id).warning("review not saved: {}", exc.message)
        flash("他の確認者が同時にこの書類を更新しました。開き直して確認してください。", "error")
        return redirect(url_for("review.document", doc_id=doc_id))
    stale = [o for o in outcomes if o.result == "stale"] + [n for n in shown if n not in tasks]
    if stale:
        flash(f"{len(stale)} 項目は他の確認者が先に確定していました。", "info")
    conflicts = sum(o.result == "conflict" for o in outcomes)
    if conflicts:
        flash(f"{conflicts} 項目はもう一人の入力と一致しなかったため、監督者の判断に回しました。", "info")
    st.release(doc_id)
    if st.desk.finish_if_done(doc_id, user):
        st.hand_on(doc_id)
        flash(f"書類 {doc_id} の確認が完了しました。", "info")
    return _redirect_to_next(doc_id, skipping=False)


# images


def _under_data_dir(path_text: str | None) -> Path | None:
    """The file's resolved path if it exists under the data directory, else None (no path from a URL)."""
    if not path_text:
        return None
    root = station().data_dir
    p = Path(path_text)
    p = (p if p.is_absolute() else root / p).resolve()
    return p if p.is_relative_to(root) and p.is_file() else None


@bp.get("/crop/<doc_id>/<field>")
def crop(doc_id: str, field: str) -> Response:
    doc = station().store.find(doc_id)
    result = doc.record.fields.get(field) if doc and doc.record else None
    path = _under_data_dir(result.crop if result else None)
    if path is None or path.suffix.lower() != ".png":
        abort(404, description="画像がありません。")
    return send_file(path, mimetype="image/png", max_age=0)


@bp.get("/doc/<doc_id>/page/<int:page>")
def page_image(doc_id: str, page: int) -> Response:
    """The whole page, rendered for the screen (PNG), from the document's file under the data directory."""
    doc = station().store.find(doc_id)
    if doc is None:
        abort(404, description="その書類はありません。")
    # the kept copy (documents/<id>/<name>), else the record's file name in that folder
    candidates = [doc.file]
    if doc.record and doc.record.file:
        candidates += [str(Path("documents") / doc_id / Path(doc.record.file).name), doc.record.file]
    path = next((p for p in map(_under_data_dir, candidates) if p is not None), None)
    if path is None or page < 1:
        abort(404, description="書類の画像がありません。")
    try:
        image = _render_page(path, page)
    except (OSError, ValueError, EOFError):
        abort(404, description="書類の画像を表示できません。")
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=False)
    buf.seek(0)
    return send_file(buf, mimetype="image/png", max_age=0)


def _render_page(path: Path, page: int, max_width: int = 1400):
    from PIL import Image

    if path.suffix.lower() == ".pdf":
        import pypdfium2 as pdfium

        pdf = pdfium.PdfDocument(str(path))
        try:
            if page > len(pdf):
                raise ValueError("no such page")
            image = pdf[page - 1].render(scale=120 / 72).to_pil()
        finally:
            pdf.close()
    else:
        Image.MAX_IMAGE_PIXELS = 80_000_000
        with Image.open(path) as im:
            im.seek(page - 1)  # multi-page TIFF
            image = im.convert("L") if im.mode not in ("L", "RGB") else im.copy()
    if image.width > max_width:
        image = image.resize((max_width, round(image.height * max_width / image.width)))
    return image


# feedback


@bp.get("/stats")
def stats() -> str:
    st, user = station(), g.user
    if not user.is_supervisor:
        abort(403, description="修正率は監督者だけが見られます。")
    rates = correction_rates(st.store)
    view = []
    for name, t in rates.templates.items():
        tmpl_fields = []
        for fname, r in t.fields.items():
            tmpl_fields.append({"field": fname, "label": st.templates.label(name, fname), **r.to_dict(),
                                "rate": r.rate})
        view.append({"template": name, "title": st.templates.title(name), "reviewed": t.total.reviewed,
                     "corrected": t.total.corrected, "rate": t.total.rate, "fields": tmpl_fields})
    return render_template("stats.html", user=user, rates={"templates": view})
