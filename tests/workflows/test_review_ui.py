"""The review station driven in real Chromium (Debian's, via Playwright) against the app served in a thread:
login, keyboard-only correction, double check with a supervisor, CSRF refusal, the page image, and documents
flowing on to key-in (embedded queue with the fake bot; real Redis for the enqueued job)."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest

from kakitori.config import QueueConfig, ReviewConfig, ReviewUser, Settings, StoreConfig
from ocr.record import FieldStatus, Value
from ocr.template import load_template
from workflows import jobs
from workflows.queue import Queue, connect
from workflows.review.app import create_app
from workflows.review.auth import hash_password
from workflows.review.bench import VIEWPORT, launch_chromium, login, review_document, serving
from workflows.review.sample import seed_waiting
from workflows.review.values import check_digit
from workflows.store import DocState, DocumentStore

from .fakes import FakeParts, creates

pytestmark = pytest.mark.integration
PASSWORDS = {"alice": "alice-password", "bob": "bob-password", "sue": "sue-password"}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = launch_chromium(pw)
        yield b
        b.close()


@pytest.fixture(scope="module")
def hashes() -> dict[str, str]:
    return {f"PW_{name.upper()}": hash_password(pw) for name, pw in PASSWORDS.items()}


def make_station(tmp_path: Path, template_dir: Path, hashes: dict[str, str], redis_url: str = "embedded"):
    """Store, workflow runtime (fake key-in bot) and the review app, as `kakitori review serve` wires them."""
    data = tmp_path / "data"
    settings = Settings(data_dir=data, queue=QueueConfig(redis_url=redis_url),
                        store=StoreConfig(url=f"sqlite:///{data / 'kakitori.db'}"))
    store = DocumentStore(settings.store_url)
    if redis_url == "embedded":
        connect(settings.queue).flushall()
    rt = jobs.use(settings, store=store, parts=FakeParts(settings))
    cfg = ReviewConfig(secret_key_env="SK", users=[
        ReviewUser(name="alice", password_hash_env="PW_ALICE"), ReviewUser(name="bob", password_hash_env="PW_BOB"),
        ReviewUser(name="sue", role="supervisor", password_hash_env="PW_SUE")])
    app = create_app(cfg, store, data, [template_dir], env={"SK": "k" * 40, **hashes})
    return app, store, rt


@pytest.fixture
def station(tmp_path, template_dir, hashes):
    app, store, rt = make_station(tmp_path, template_dir, hashes)
    with serving(app) as base:
        yield base, store, rt, load_template(template_dir / "juminido.yaml")
    store.close()


def reopen(store, doc_id: str, reads: dict[str, Value]) -> None:
    """Make exactly these fields open, read as given (every other field accepted as truly written)."""
    doc = store.get(doc_id)
    fields = {n: replace(f, value=reads[n], status=FieldStatus.NEEDS_REVIEW,
                      reason="low confidence (0.512); second reader disagrees") if n in reads
              else replace(f, status=FieldStatus.ACCEPTED, reason="") for n, f in doc.record.fields.items()}
    store.transition(doc_id, DocState.NEEDS_REVIEW, DocState.NEEDS_REVIEW, record=replace(doc.record, fields=fields))


def page_for(browser, base: str, user: str):
    page = browser.new_context(viewport=VIEWPORT, locale="ja-JP").new_page()
    login(page, base, user, PASSWORDS[user])
    return page


def wait_for_state(store, doc_id: str, state: DocState, timeout_s: float = 15) -> None:
    deadline = time.monotonic() + timeout_s
    while store.get(doc_id).state is not state:
        assert time.monotonic() < deadline, f"{doc_id} stayed {store.get(doc_id).state.value}, expected {state.value}"
        time.sleep(0.05)


def other_number(number: str) -> str:
    first = number[:5] + str((int(number[5]) + 3) % 10) + number[6:11]
    return first + str(check_digit(first))


def test_clerk_logs_in_and_sees_the_waiting_documents(station, browser):
    base, store, rt, template = station
    seed_waiting(store, rt.settings.data_dir, template, 3, seed=11)
    page = browser.new_context(viewport=VIEWPORT, locale="ja-JP").new_page()
    page.goto(f"{base}/")
    assert "/login" in page.url
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "not-her-password")
    page.keyboard.press("Enter")
    page.wait_for_selector(".login-form .error")
    assert "パスワードが違います" in page.inner_text(".login-form .error")
    page.fill("input[name=password]", PASSWORDS["alice"])
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.inner_text("#waiting") == "3"
    assert page.locator("table.list tbody tr").count() == 3
    assert page.inner_text("header .who").startswith("alice")


def test_clerk_corrects_fields_with_the_keyboard_and_the_document_is_keyed(station, browser):
    base, store, rt, template = station
    [doc] = seed_waiting(store, rt.settings.data_dir, template, 1, seed=12, wrong_rate=0)
    t = doc.truth
    wrong_reason = next(o.value for o in template.field("reason").options if o.value != t["reason"])
    reads = {"name": t["name"][:-1] + "木", "reason": wrong_reason, "national_health": not t["national_health"],
             "birth_date": t["birth_date"], "postal_code": t["postal_code"]}
    reopen(store, doc.doc_id, reads)
    page = page_for(browser, base, "alice")
    with page.expect_navigation():
        page.keyboard.press("Enter")                       # 確認を始める
    assert page.url.endswith(f"/doc/{doc.doc_id}")
    assert page.locator("li.task").count() == 5
    assert page.locator("li.task[data-field=name] output").inner_text() == reads["name"]
    assert page.locator("li.task[data-field=name] .reason").inner_text() == "読取の信頼度が低い・2つの読取方式の結果が違う"
    widths = page.locator("li.task .crop img").evaluate_all("imgs => imgs.map(i => i.complete && i.naturalWidth)")
    assert len(widths) == 5 and all(w and w > 20 for w in widths)
    first_field = page.locator("li.task").first.get_attribute("data-field")
    assert page.evaluate("document.activeElement.closest('li.task').dataset.field") == first_field
    review_document(page, t, check_focus=True)             # Enter per field; the last Enter saves
    wait_for_state(store, doc.doc_id, DocState.KEYED)      # reviewed → key-in job (embedded queue) → keyed
    stored = store.get(doc.doc_id)
    assert {n: stored.record.fields[n].value for n in reads} == {n: t[n] for n in reads}
    audit = {c.field: c for c in store.corrections(doc_id=doc.doc_id)}
    assert {n for n, c in audit.items() if c.changed} == {"name", "reason", "national_health"}
    assert (audit["name"].user, audit["name"].old_value, audit["name"].new_value) == ("alice", reads["name"], t["name"])
    assert audit["national_health"].new_value is t["national_health"]
    assert not audit["birth_date"].changed                  # confirmed as read: audited, not a correction
    assert stored.reviewed_by == "alice"
    assert creates(rt.settings) == {f"sample-legacy:{doc.doc_id}": 1}
    assert [s.to_state for s in store.transitions(doc_id=doc.doc_id)][-3:] == [
        DocState.REVIEWED, DocState.KEYING, DocState.KEYED]


def test_double_check_mismatch_goes_to_a_supervisor_who_decides(station, browser):
    base, store, rt, template = station
    [doc] = seed_waiting(store, rt.settings.data_dir, template, 1, seed=13, wrong_rate=0)
    right = doc.truth["individual_number"]
    wrong = other_number(right)
    reopen(store, doc.doc_id, {"individual_number": right})

    alice = page_for(browser, base, "alice")
    alice.goto(f"{base}/next")
    task = alice.locator("li.task[data-field=individual_number]")
    assert task.get_attribute("data-kind") == "double"
    assert task.locator("input.js-entry").input_value() == ""     # blind: no read value offered
    assert right not in alice.content()
    alice.keyboard.insert_text(right)
    with alice.expect_navigation():
        alice.keyboard.press("Enter")
    assert store.get(doc.doc_id).state is DocState.NEEDS_REVIEW  # one entry is not enough

    bob = page_for(browser, base, "bob")
    bob.goto(f"{base}/next")
    assert bob.url.endswith(f"/doc/{doc.doc_id}") and right not in bob.content()
    bob.keyboard.insert_text(wrong)
    with bob.expect_navigation():
        bob.keyboard.press("Enter")
    assert "監督者の判断に回しました" in bob.inner_text("main")
    assert store.get(doc.doc_id).state is DocState.NEEDS_REVIEW
    assert store.corrections(doc_id=doc.doc_id) == []

    sue = page_for(browser, base, "sue")
    row = sue.locator("section", has_text="入力不一致").locator(f"a[href='/doc/{doc.doc_id}']")
    with sue.expect_navigation():
        row.click()
    task = sue.locator("li.task[data-field=individual_number]")
    assert task.get_attribute("data-kind") == "conflict"
    picks = task.locator("button.pick").all_inner_texts()
    assert any("alice" in p and right in p for p in picks) and any("bob" in p and wrong in p for p in picks)
    sue.keyboard.press("Shift+Tab")
    sue.keyboard.press("Shift+Tab")                               # alice's entry
    sue.keyboard.press("Enter")                                   # take it
    assert task.locator("input.js-entry").input_value() == right
    with sue.expect_navigation():
        sue.keyboard.press("Enter")
    wait_for_state(store, doc.doc_id, DocState.KEYED)
    [audit] = store.corrections(doc_id=doc.doc_id)
    assert (audit.user, audit.role, audit.new_value) == ("sue", "supervisor", right)
    assert {(e.reviewer, e.value) for e in store.review_entries(doc.doc_id)} == {("alice", right), ("bob", wrong)}


def test_a_form_sent_without_its_csrf_token_is_refused(station, browser):
    base, store, rt, template = station
    [doc] = seed_waiting(store, rt.settings.data_dir, template, 1, seed=14)
    page = page_for(browser, base, "alice")
    page.goto(f"{base}/doc/{doc.doc_id}")
    page.evaluate("document.querySelector('#review-form input[name=csrf_token]').remove()")
    with page.expect_navigation() as nav:
        page.keyboard.press("Control+Enter")
    assert nav.value.status == 400 and "不正な送信" in page.inner_text("main")
    status = page.evaluate(
        "async (url) => (await fetch(url, {method: 'POST', body: new URLSearchParams({fields: ''})})).status",
        f"{base}/doc/{doc.doc_id}")
    assert status == 400
    assert store.corrections() == [] and store.get(doc.doc_id).state is DocState.NEEDS_REVIEW


def test_whole_page_opens_on_demand_and_skip_goes_to_the_next_document(station, browser):
    base, store, rt, template = station
    first, second = seed_waiting(store, rt.settings.data_dir, template, 2, seed=15)
    page = page_for(browser, base, "alice")
    page_requests = []
    page.on("request", lambda r: page_requests.append(r.url) if "/page/" in r.url else None)
    page.goto(f"{base}/next")
    assert page.url.endswith(first.doc_id) and page_requests == []  # not loaded until asked for
    page.keyboard.insert_text("書き換え")
    page.keyboard.press("Escape")                                   # back to the read value
    focused = page.evaluate("document.activeElement.closest('li.task').dataset.field")
    assert page.locator(f"li.task[data-field={focused}] .js-entry").evaluate(
        "el => (el.value ?? el.dataset.original) === el.dataset.original")
    page.keyboard.press("Alt+p")
    page.wait_for_function("() => { const i = document.querySelector('#page-view img'); return i.complete "
                           "&& !document.getElementById('page-view').hidden && i.naturalWidth > 1000; }")
    assert len(page_requests) == 1
    page.keyboard.press("Escape")
    assert page.locator("#page-view").is_hidden()
    with page.expect_navigation():
        page.keyboard.press("Alt+n")
    page.wait_for_url(f"**/doc/{second.doc_id}")
    assert store.corrections() == []                                # skipping saves nothing


def test_reviewed_document_is_enqueued_for_keyin_on_real_redis(tmp_path, template_dir, hashes, browser, private_redis):
    app, store, rt = make_station(tmp_path, template_dir, hashes, redis_url=private_redis.url)
    template = load_template(template_dir / "juminido.yaml")
    [doc] = seed_waiting(store, rt.settings.data_dir, template, 1, seed=16, wrong_rate=0)
    reopen(store, doc.doc_id, {"phone": doc.truth["phone"]})
    with serving(app) as base:
        page = page_for(browser, base, "alice")
        page.goto(f"{base}/next")
        review_document(page, doc.truth)
    wait_for_state(store, doc.doc_id, DocState.REVIEWED)
    queue = Queue(rt.settings.queue)
    deadline = time.monotonic() + 10
    while not queue.pending(jobs.job_id("keyin", doc.doc_id)):
        assert time.monotonic() < deadline, "no key-in job was enqueued"
        time.sleep(0.05)
    [job] = queue.queue("keyin").get_jobs()
    assert job.func_name == "workflows.jobs.keyin_document" and list(job.args) == [doc.doc_id]
    store.close()
