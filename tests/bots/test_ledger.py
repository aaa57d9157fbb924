"""The key-in ledger: stable keys, durable states, any SQLAlchemy database."""

from __future__ import annotations

import pytest

from bots.ledger import Ledger, LedgerState, idempotency_key, ledger_url


def test_idempotency_key_is_stable_and_depends_on_content():
    values = {"name": "山田 太郎", "birth_date": "1985-01-07"}
    key = idempotency_key("doc-1", "juminido", values)
    assert key == idempotency_key("doc-1", "juminido", dict(reversed(list(values.items()))))
    assert key == idempotency_key("doc-1", "juminido", {**values, "name": "山田　太郎"})  # NFKC: same text
    assert key != idempotency_key("doc-1", "juminido", {**values, "birth_date": "1985-01-08"})
    assert key != idempotency_key("doc-2", "juminido", values)
    assert key.isascii() and "山田" not in key and len(key) <= 40


def test_ledger_moves_started_created_verified_and_survives_reopening(tmp_path):
    url = ledger_url(tmp_path / "ledger")
    ledger = Ledger(url)
    ledger.start("K1", "t", "doc-1", "job-1")
    ledger.created("K1", "t", "2026-000001")
    ledger.close()
    again = Ledger(url)
    entry = again.start("K1", "t", "doc-1", "job-2")
    assert entry.state == LedgerState.CREATED and entry.entry_id == "2026-000001" and entry.attempts == 2
    again.verified("K1", "t", "2026-000001")
    assert again.get("K1", "t").state == LedgerState.VERIFIED
    assert again.get("K1", "other-target") is None


@pytest.mark.integration
def test_ledger_works_on_postgresql():
    psycopg = pytest.importorskip("psycopg")
    try:
        psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is not reachable: {exc}")
    ledger = Ledger("postgresql+psycopg://postgres@127.0.0.1:5432/test")
    import uuid

    key = f"KK-TEST-{uuid.uuid4().hex[:8]}"
    ledger.start(key, "t", "doc-1", "job-1")
    ledger.failed(key, "t", "HTTP 500")
    entry = ledger.get(key, "t")
    assert entry.state == LedgerState.FAILED and entry.error == "HTTP 500"
