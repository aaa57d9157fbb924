"""``kakitori bench review``: the review station in real Chromium, with a scripted keyboard-only clerk.

Figures: page load time (queue and document page) with N documents waiting, and seconds per reviewed field
when a script reviews documents with the keyboard only (Enter to accept, typing to correct, Space/digits for
checkboxes and choices). The script types instantly, so the figure is the station's own share of a clerk's
time per field (server, page change, rendering); a person adds their reading and typing on top.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from loguru import logger

from kakitori.config import ROOT, ReviewConfig, ReviewUser
from ocr.record import Value
from ocr.template import load_template

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1366, "height": 900}
TEMPLATES = ROOT / "samples" / "templates"


def chromium_path() -> str:
    return shutil.which("chromium") or "/usr/bin/chromium"


def launch_chromium(playwright: Any) -> Any:
    """Debian's Chromium (nothing downloaded), headless."""
    return playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve ``app`` on a free loopback port in a thread; yields its base URL."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args: Any) -> None:  # no access-log line per request
            pass

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
    thread = threading.Thread(target=server.serve_forever, name="review-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


def login(page: Any, base: str, user: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def typed(value: Value) -> str:
    """What a clerk types for a normalised value (dates as ISO, which the station also accepts)."""
    return str(value)


_TASKS_JS = """() => Array.from(document.querySelectorAll('li.task')).map(li => ({
  field: li.dataset.field, type: li.dataset.type,
  value: (li.querySelector('input.js-entry') || {}).value ?? null,
  pressed: (li.querySelector('button.check') || {ariaPressed: null}).ariaPressed === 'true',
  options: Array.from(li.querySelectorAll('[role=radio]')).map(b => b.dataset.value)}))"""


def review_document(page: Any, truth: dict[str, Value], *, check_focus: bool = False) -> int:
    """Review the open document page with the keyboard only, making every field equal to ``truth``.

    Reads the page once, then only presses keys: Enter to accept, typing to correct, Space for a checkbox,
    a digit for a choice. Returns the number of fields; returns after the page that follows the last Enter
    (the next document) has loaded. ``check_focus`` also asserts that Enter moved the focus field by field.
    """
    tasks = page.evaluate(_TASKS_JS)
    for i, task in enumerate(tasks):
        if check_focus:
            current = page.evaluate("document.activeElement.closest('li.task.current')?.dataset.field")
            assert current == task["field"], f"focus is on {current}, expected {task['field']}"
        want = truth[task["field"]]
        if task["type"] == "checkbox":
            if task["pressed"] != bool(want):
                page.keyboard.press("Space")
        elif task["type"] == "choice":
            page.keyboard.press(str(task["options"].index(want) + 1))
        elif task["value"] != typed(want):
            page.keyboard.press("Control+A")
            page.keyboard.insert_text(typed(want))  # as an IME commits it: one input event
        if i == len(tasks) - 1:
            with page.expect_navigation():
                page.keyboard.press("Enter")
        else:
            page.keyboard.press("Enter")
    return len(tasks)


def bench_app(store: Any, data_dir: Path, users: dict[str, str], on_reviewed: Callable[[str], None]) -> Flask:
    """A review app with the given users (name → password; names starting "sup" are supervisors)."""
    from workflows.review.app import create_app
    from workflows.review.auth import hash_password

    env = {"KAKITORI_REVIEW_SECRET_KEY": "bench-" + "k" * 32}
    cfg_users = []
    for name, password in users.items():
        var = f"KAKITORI_REVIEW_PW_{name.upper()}"
        env[var] = hash_password(password)
        cfg_users.append(ReviewUser(name=name, role="supervisor" if name.startswith("sup") else "reviewer",
                                    password_hash_env=var))
    cfg = ReviewConfig(users=cfg_users)
    return create_app(cfg, store, data_dir, [TEMPLATES], on_reviewed=on_reviewed, env=env)


def _timed_loads(page: Any, url: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        page.goto(url, wait_until="load")
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run_bench(*, documents: int, reviewed: int, echo: Callable[[str], None]) -> dict[str, Any]:
    """Seed ``documents`` waiting documents, measure page loads, let a script review ``reviewed`` of them."""
    from playwright.sync_api import sync_playwright

    from workflows.review.sample import seed_waiting
    from workflows.store import DocState, DocumentStore

    template = load_template(TEMPLATES / "juminido.yaml")
    with tempfile.TemporaryDirectory(prefix="kakitori-review-bench-") as tmp:
        data_dir = Path(tmp)
        store = DocumentStore(f"sqlite:///{data_dir / 'kakitori.db'}")
        t0 = time.perf_counter()
        seeded = seed_waiting(store, data_dir, template, documents, seed=4242, distinct_pages=20)
        echo(f"seeded {documents} documents waiting for review in {time.perf_counter() - t0:.1f} s")
        truth = {s.doc_id: s.truth for s in seeded}
        handed_on: list[str] = []
        app = bench_app(store, data_dir, {"clerk1": "bench-password-1"}, handed_on.append)
        with serving(app) as base, sync_playwright() as pw:
            browser = launch_chromium(pw)
            try:
                page = browser.new_context(viewport=VIEWPORT, locale="ja-JP").new_page()
                login(page, base, "clerk1", "bench-password-1")
                queue_s = _timed_loads(page, f"{base}/", 7)
                doc_s = _timed_loads(page, f"{base}/next", 7)
                echo(f"page load with {documents} waiting: queue {queue_s * 1000:.0f} ms, "
                     f"document {doc_s * 1000:.0f} ms (median of 7)")
                page.goto(f"{base}/next")
                fields = 0
                logger.disable("workflows")  # one INFO line per saved document would drown the figures
                t0 = time.perf_counter()
                try:
                    for _ in range(reviewed):
                        doc_id = page.url.rsplit("/", 1)[-1]
                        fields += review_document(page, truth[doc_id])
                    elapsed = time.perf_counter() - t0
                finally:
                    logger.enable("workflows")
            finally:
                browser.close()
        per_field = elapsed / max(1, fields)
        corrections = store.corrections()
        waiting = store.count_by_state()[DocState.NEEDS_REVIEW]
        echo(f"scripted clerk: {reviewed} documents, {fields} fields in {elapsed:.1f} s = "
             f"{per_field:.3f} s per reviewed field ({sum(c.changed for c in corrections)} corrected, "
             f"{len(handed_on)} documents handed on to key-in, {waiting} still waiting)")
        store.close()
    return {"documents_waiting": documents, "queue_page_load_ms": round(queue_s * 1000, 1),
            "document_page_load_ms": round(doc_s * 1000, 1), "reviewed_documents": reviewed,
            "reviewed_fields": fields, "seconds_per_reviewed_field": round(per_field, 3),
            "corrected_fields": sum(c.changed for c in corrections), "handed_on": len(handed_on)}


def capture_screenshots(folder: Path, echo: Callable[[str], None]) -> list[Path]:
    """Screenshots of the main screens (login, queue, document, whole page, mismatch, rates) for the docs."""
    from playwright.sync_api import sync_playwright

    from workflows.review.auth import Role, User
    from workflows.review.checks import Desk, Templates
    from workflows.review.sample import seed_waiting
    from workflows.review.values import check_digit
    from workflows.store import DocumentStore

    template = load_template(TEMPLATES / "juminido.yaml")
    folder.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="kakitori-review-shots-") as tmp:
        data_dir = Path(tmp)
        store = DocumentStore(f"sqlite:///{data_dir / 'kakitori.db'}")
        seeded = seed_waiting(store, data_dir, template, 14, seed=2024, open_fields=(3, 5), wrong_rate=0.5)
        desk = Desk(store, Templates([TEMPLATES]))
        alice, bob = User("suzuki", Role.REVIEWER, ""), User("tanaka", Role.REVIEWER, "")
        for s in seeded[8:]:  # some history for the rates page
            for user in (alice, bob):  # bob completes the double checks alice started
                tasks = desk.tasks(store.get(s.doc_id), user)
                desk.submit(s.doc_id, user, {t.field.name: s.truth[t.field.name] for t in tasks})
            desk.finish_if_done(s.doc_id, bob)
        [mismatch] = seed_waiting(store, data_dir, template, 1, seed=2025, open_fields=(2, 2),
                                  always_open=("individual_number",))
        number = mismatch.truth["individual_number"]
        desk.store.add_review_entry(mismatch.doc_id, "individual_number", alice.name, number)
        misread = number[:6] + str((int(number[6]) + 5) % 10) + number[7:11]
        desk.store.add_review_entry(mismatch.doc_id, "individual_number", bob.name, misread + str(check_digit(misread)))
        users = {"clerk1": "shot-password-1", "supervisor1": "shot-password-2"}
        app = bench_app(store, data_dir, users, lambda doc_id: None)

        def shot(page: Any, name: str) -> None:
            path = folder / f"review-{name}.png"
            page.screenshot(path=str(path))
            shots.append(path)
            echo(f"wrote {path}")

        with serving(app) as base, sync_playwright() as pw:
            browser = launch_chromium(pw)
            try:
                page = browser.new_context(viewport=VIEWPORT, locale="ja-JP").new_page()
                page.goto(f"{base}/login")
                page.fill("input[name=username]", "supervisor1")
                shot(page, "login")
                page.fill("input[name=password]", "shot-password-2")
                with page.expect_navigation():
                    page.keyboard.press("Enter")
                shot(page, "queue")
                page.goto(f"{base}/doc/{seeded[0].doc_id}")
                page.keyboard.press("Enter")
                shot(page, "document")
                page.keyboard.press("Alt+p")
                page.wait_for_function("() => document.querySelector('#page-view img').naturalWidth > 0")
                shot(page, "page")
                page.keyboard.press("Escape")
                page.goto(f"{base}/doc/{mismatch.doc_id}")
                page.locator("li.task.kind-conflict .js-entry").focus()
                shot(page, "conflict")
                page.goto(f"{base}/stats")
                shot(page, "stats")
            finally:
                browser.close()
        store.close()
    return shots
