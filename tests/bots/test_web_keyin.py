"""The web bot against the real sample legacy app with real Chromium: keying, read-back, idempotency,
session expiry, validation errors, changed screens, Shift_JIS pages, dry run and fault mode."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from bots.keyin import KeyInJob, key_in, record_values
from bots.ledger import Ledger, LedgerState, idempotency_key, ledger_url
from bots.mapping import compare, load_mapping
from bots.pages.base import ScreenChanged
from bots.pages.sample_legacy import SearchScreen
from kakitori.errors import BusinessError, ConfigError, KakitoriError
from samples.legacy_app.faults import FaultConfig
from tests.bots.conftest import bots_config

pytestmark = pytest.mark.integration
TARGET = "sample-legacy"


def key_of(record: dict) -> str:
    return idempotency_key(record["document_id"], record["template"], record_values(record))


def test_keys_records_once_and_the_app_saved_exactly_what_was_read_back(legacy_app, data_dir, records):
    app = legacy_app()
    with KeyInJob(TARGET, bots_config(app.url), data_dir, "job-ok") as job:
        receipts = [job.key(r) for r in records[:3]]
    again = key_in(records[0], TARGET, bots_config(app.url), data_dir, "job-again")  # keyed twice: one entry
    assert again.status == "already_keyed" and again.entry_id == receipts[0].entry_id
    saved = {row["memo"]: row for row in app.store.export()}
    mapping = load_mapping("sample-legacy")
    assert len(saved) == 3
    for record, receipt in zip(records, receipts):
        assert receipt.status == "keyed" and receipt.entry_id == saved[receipt.idempotency_key]["receipt_no"]
        expected = mapping.apply(record_values(record), receipt.idempotency_key)
        assert compare(expected, saved[receipt.idempotency_key]) == {}
        assert compare(expected, receipt.saved) == {}
    assert not list(data_dir.screenshots("job-ok").glob("*.png")) and not data_dir.trace("job-ok").exists()


CRASHING_WORKER = """
import json, os, sys
from pathlib import Path
from contextlib import contextmanager
from bots.keyin import KeyInJob, open_target
from kakitori.config import BotsConfig
from kakitori.paths import DataDir

@contextmanager
def opener(*args):
    with open_target(*args) as target:
        real_create = target.create
        def create_then_die(key, values):
            real_create(key, values)
            os._exit(9)  # killed after the system saved, before the ledger knew
        target.create = create_then_die
        yield target

cfg = BotsConfig.model_validate_json(sys.argv[1])
record = json.loads(sys.argv[3])
with KeyInJob("sample-legacy", cfg, DataDir(Path(sys.argv[2])), "job-crash", opener=opener) as job:
    job.key(record)
"""


def test_process_killed_between_create_and_confirm_is_finished_on_retry(legacy_app, data_dir, records, tmp_path):
    app = legacy_app()
    cfg = bots_config(app.url)
    worker = subprocess.run([sys.executable, "-c", CRASHING_WORKER, cfg.model_dump_json(), str(data_dir.root),
                             json.dumps(records[0], ensure_ascii=False)], capture_output=True, text=True, timeout=120)
    assert worker.returncode == 9, worker.stderr[-2000:]
    assert len(list(app.store.export())) == 1  # the system saved it
    ledger = Ledger(ledger_url(data_dir.ledger))
    assert ledger.get(key_of(records[0]), TARGET).state == LedgerState.STARTED
    retried = key_in(records[0], TARGET, cfg, data_dir, "job-retry")  # no entry id known: the search finds it
    assert retried.status == "already_keyed"
    assert ledger.get(key_of(records[0]), TARGET).state == LedgerState.VERIFIED
    with KeyInJob(TARGET, cfg, data_dir, "job-lost-ledger", ledger=ledger_url(tmp_path / "lost")) as job:
        again = job.key(records[0])  # even with the ledger lost, the system is searched before creating
    assert again.status == "already_keyed" and again.entry_id == retried.entry_id
    assert len(list(app.store.export())) == 1


def test_session_expiry_logs_in_again(legacy_app, data_dir, records):
    app = legacy_app(idle_timeout_s=1.0)
    with KeyInJob(TARGET, bots_config(app.url, retries=0), data_dir, "job-idle") as job:
        job.key(records[0])
        time.sleep(1.3)
        receipt = job.key(records[1])  # no retries allowed: the re-login happens inside the verb
        assert job.target.logins == 2
    assert receipt.status == "keyed" and len(list(app.store.export())) == 2


def test_server_validation_error_is_a_business_error_with_the_screen_message(legacy_app, data_dir, records):
    app = legacy_app()
    record = records[0]
    record["fields"]["name_kana"]["value"] = "ヤマダ TARO"  # latin letters: the system wants katakana
    with pytest.raises(BusinessError) as caught:
        key_in(record, TARGET, bots_config(app.url), data_dir, "job-bad")
    err = caught.value
    assert "名（カナ）は全角カタカナで入力してください。" in err.message
    assert err.context["screen"] == "転入届 入力(2/3) 本人"
    assert Path(err.context["screenshot"]).exists()
    assert data_dir.trace("job-bad").exists()
    assert Ledger(ledger_url(data_dir.ledger)).get(key_of(record), TARGET).state == LedgerState.FAILED
    assert list(app.store.export()) == []


def test_renamed_element_is_an_error_naming_screen_and_selector(legacy_app, data_dir, records):
    app = legacy_app(FaultConfig(rate=1.0, kinds=("rename",), paths=("/entry/2",)))
    with pytest.raises(ScreenChanged) as caught:
        key_in(records[0], TARGET, bots_config(app.url, retries=1), data_dir, "job-renamed")
    err = caught.value
    assert err.context["screen"] == "転入届 入力(2/3) 本人"
    assert err.context["selector"] == "#TXT011" and "#TXT011" in str(err)
    assert list(app.store.export()) == []


def test_shift_jis_pages_are_decoded_both_ways(legacy_app, data_dir, records):
    app = legacy_app()
    record = records[0]
    record["fields"]["name"]["value"] = "髙橋 﨑子"  # 髙 and 﨑 exist only in Windows-31J, not JIS X 0208
    record["fields"]["address"]["value"] = "東京都墨田区押上1-1-2 ﾊｲﾂ"
    with KeyInJob(TARGET, bots_config(app.url), data_dir, "job-sjis") as job:
        receipt = job.key(record)  # read back from the edit page, served in Shift_JIS
        assert (receipt.saved["family_name"], receipt.saved["given_name"]) == ("髙橋", "﨑子")
        assert receipt.saved["address"] == "東京都墨田区押上１－１－２　ハイツ"
        screen = job.target._open(SearchScreen, "/search")  # the search page posts its form in Shift_JIS
        hits = screen.search_resident(receipt.saved["family_kana"], receipt.saved["birth_era"],
                                      receipt.saved["birth_year"], receipt.saved["birth_month"],
                                      receipt.saved["birth_day"]).hits()
    assert [h["receipt_no"] for h in hits] == [receipt.entry_id]
    assert hits[0]["name"] == "髙橋\u3000﨑子"


def test_dry_run_fills_every_screen_saves_nothing_and_keeps_screenshots(legacy_app, data_dir, records):
    app = legacy_app()
    receipt = key_in(records[0], TARGET, bots_config(app.url), data_dir, "job-dry", dry_run=True)
    assert receipt.status == "dry_run" and receipt.entry_id == ""
    assert [Path(s).name.rsplit("-", 1)[1] for s in receipt.screenshots] == ["1.png", "2.png", "3.png", "confirm.png"]
    assert all(Path(s).stat().st_size > 5000 for s in receipt.screenshots)
    assert list(app.store.export()) == []
    assert Ledger(ledger_url(data_dir.ledger)).entries() == []


def test_wrong_password_is_a_config_error_and_is_not_retried(legacy_app, data_dir, records):
    app = legacy_app(password="another-password")
    with pytest.raises(ConfigError, match="login refused"):
        key_in(records[0], TARGET, bots_config(app.url, retries=3), data_dir, "job-pw")
    with sqlite3.connect(app.cfg.db) as db:
        assert db.execute("SELECT failures FROM accounts WHERE user_id = 'clerk01'").fetchone()[0] == 1


def test_fault_mode_never_duplicates_or_corrupts(legacy_app, data_dir):
    from samples.legacy_app.records import synthetic_records

    app = legacy_app(FaultConfig(rate=0.07, stall_s=2.0, seed=11))
    records = synthetic_records(5, seed=99)
    outcomes: Counter[str] = Counter()
    with KeyInJob(TARGET, bots_config(app.url, retries=4, timeout_ms=1500), data_dir, "job-faults",
                  backoff_s=0.05) as job:
        for record in records:
            try:
                job.key(record)
                outcomes["keyed"] += 1
            except KakitoriError as exc:
                assert exc.message  # failed with a reason
                outcomes["failed"] += 1
    saved = list(app.store.export())
    memos = Counter(row["memo"] for row in saved)
    assert all(n == 1 for n in memos.values()), "an application was keyed twice"
    mapping = load_mapping("sample-legacy")
    rows = {row["memo"]: row for row in saved}
    for record in records:
        if key_of(record) in rows:
            assert compare(mapping.apply(record_values(record), key_of(record)), rows[key_of(record)]) == {}
    assert outcomes["keyed"] + outcomes["failed"] == len(records) and outcomes["keyed"] >= len(records) // 2
    assert sum(app.fault_counts.values()) >= 3, "the fault mode injected too few faults to mean anything"
