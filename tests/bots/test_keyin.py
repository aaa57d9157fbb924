"""The key-in loop over a fake target: fast checks of idempotency, retries and read-back (the real
Chromium + sample app versions are in test_web_keyin.py)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

import pytest

from bots.keyin import KeyInJob, ReadBackMismatch, load_records
from bots.ledger import Ledger, LedgerState, idempotency_key, ledger_url
from kakitori.config import BotsConfig
from kakitori.errors import ApplicationError, BusinessError
from kakitori.paths import DataDir


class FakeTarget:
    """An in-memory system: entries by id, with a memo field holding the key; failures on demand."""

    name = "sample-legacy"

    def __init__(self) -> None:
        self.entries: dict[str, dict[str, Any]] = {}
        self.fail_next: list[Exception] = []
        self.crash_after_create = False
        self.tamper: dict[str, Any] = {}
        self.calls: list[str] = []

    def _maybe_fail(self) -> None:
        if self.fail_next:
            raise self.fail_next.pop(0)

    def find(self, key: str) -> str | None:
        self.calls.append("find")
        self._maybe_fail()
        return next((eid for eid, v in self.entries.items() if v["memo"] == key), None)

    def create(self, key: str, values: dict[str, Any]) -> str:
        self.calls.append("create")
        self._maybe_fail()
        entry_id = f"E{len(self.entries) + 1}"
        self.entries[entry_id] = {**values, **self.tamper}
        if self.crash_after_create:
            self.crash_after_create = False
            raise SystemExit("killed between create and confirm")
        return entry_id

    def read(self, entry_id: str) -> dict[str, Any]:
        self.calls.append("read")
        self._maybe_fail()
        return dict(self.entries[entry_id])


def job(fake: FakeTarget, data_dir: DataDir, retries: int = 2) -> KeyInJob:
    @contextmanager
    def opener(*_: Any):
        yield fake

    return KeyInJob("sample-legacy", BotsConfig(retries=retries), data_dir, "job-1", backoff_s=0.0, opener=opener)


def test_keyin_creates_reads_back_and_verifies(records, data_dir):
    fake = FakeTarget()
    with job(fake, data_dir) as j:
        receipt = j.key(records[0])
    assert receipt.status == "keyed" and receipt.entry_id == "E1"
    assert fake.calls == ["find", "create", "read"]
    assert receipt.saved["memo"] == receipt.idempotency_key
    entry = Ledger(ledger_url(data_dir.ledger)).get(receipt.idempotency_key, "sample-legacy")
    assert entry.state == LedgerState.VERIFIED and entry.entry_id == "E1"


def test_keyin_twice_creates_one_entry(records, data_dir):
    fake = FakeTarget()
    with job(fake, data_dir) as j:
        first = j.key(records[0])
        again = j.key(records[0])
    assert len(fake.entries) == 1
    assert again.status == "already_keyed" and again.entry_id == first.entry_id


def test_crash_between_create_and_confirm_is_finished_not_rekeyed(records, data_dir):
    fake = FakeTarget()
    fake.crash_after_create = True
    with pytest.raises(SystemExit), job(fake, data_dir) as j:
        j.key(records[0])
    key = idempotency_key(records[0]["document_id"], "juminido",
                          {k: f["value"] for k, f in records[0]["fields"].items()})
    assert Ledger(ledger_url(data_dir.ledger)).get(key, "sample-legacy").state == LedgerState.STARTED
    with job(fake, data_dir) as j:
        receipt = j.key(records[0])
    assert len(fake.entries) == 1
    assert receipt.status == "already_keyed" and receipt.entry_id == "E1"


def test_application_errors_are_retried_then_succeed(records, data_dir):
    fake = FakeTarget()
    fake.fail_next = [ApplicationError("HTTP 500"), ApplicationError("timed out")]
    with job(fake, data_dir, retries=2) as j:
        receipt = j.key(records[0])
    assert receipt.status == "keyed" and len(fake.entries) == 1


def test_application_errors_past_the_retries_fail_with_the_reason_in_the_ledger(records, data_dir):
    fake = FakeTarget()
    fake.fail_next = [ApplicationError("HTTP 500")] * 3
    with pytest.raises(ApplicationError), job(fake, data_dir, retries=1) as j:
        j.key(records[0])
    (entry,) = Ledger(ledger_url(data_dir.ledger)).entries()
    assert entry.state == LedgerState.FAILED and "HTTP 500" in entry.error and entry.attempts == 1


def test_business_error_is_not_retried(records, data_dir):
    fake = FakeTarget()
    fake.fail_next = [BusinessError("名は全角で入力してください。", screen="entry 2")]
    with pytest.raises(BusinessError, match="全角"), job(fake, data_dir, retries=3) as j:
        j.key(records[0])
    assert fake.calls == ["find"]


def test_read_back_mismatch_fails_with_a_diff_naming_fields_only(records, data_dir):
    fake = FakeTarget()
    fake.tamper = {"given_name": "違う名"}
    with pytest.raises(ReadBackMismatch) as caught, job(fake, data_dir) as j:
        j.key(records[0])
    assert set(caught.value.diff) == {"given_name"}
    assert caught.value.diff["given_name"][1] == "違う名"
    assert "違う名" not in str(caught.value) and "given_name" in str(caught.value)


def test_a_record_of_another_form_is_a_business_error(records, data_dir):
    with pytest.raises(BusinessError, match="juminido"), job(FakeTarget(), data_dir) as j:
        j.key({**records[0], "template": "inkan"})


def test_load_records_names_the_bad_line(tmp_path):
    path = tmp_path / "records.jsonl"
    path.write_text('{"document_id": "a", "template": "juminido", "fields": {}}\nnot json\n', encoding="utf-8")
    with pytest.raises(BusinessError) as caught:
        load_records(path)
    assert caught.value.context["line"] == 2
