from __future__ import annotations

import json

import pytest
from loguru import logger

from kakitori.config import LoggingConfig
from kakitori.logs import is_personal_key, mask_text, setup_logging

RECORD = {
    "document_id": "doc-0007",
    "template": "juminido",
    "fields": {
        "name": {"value": "山田 太郎", "confidence": 0.99},
        "name_kana": {"value": "ヤマダ タロウ"},
        "address": {"value": "福岡県柳川市本町87番地1"},
        "birth_date": {"value": "1985-04-12"},
        "individual_number": {"value": "123456789018"},
        "phone": {"value": "0944-73-8111"},
        "reason_in": {"value": True},
    },
}
SENSITIVE = ["山田", "太郎", "ヤマダ", "柳川市本町87", "1985-04-12", "123456789018", "0944-73-8111", "8111"]


@pytest.fixture
def sinks(tmp_path, capsys):
    path = setup_logging(LoggingConfig(level="DEBUG"), tmp_path / "logs")
    yield path, capsys
    logger.remove()


def test_record_payload_is_masked_in_both_sinks(sinks):
    path, capsys = sinks
    log = logger.bind(record=RECORD, doc="doc-0007")
    log.info("record read: {}", RECORD)
    log.info("keyed {} for {}", "doc-0007", "tel 0944-73-8111, 個人番号 1234 5678 9018")
    logger.info("search name={} birth_date={}", "山田太郎", "1985-04-12")
    logger.info(json.dumps(RECORD, ensure_ascii=False))
    stderr = capsys.readouterr().err
    file_text = path.read_text(encoding="utf-8")
    assert "record read" in stderr and "record read" in file_text
    assert "doc-0007" in file_text  # non-personal context survives
    assert "juminido" in stderr and "0.99" in stderr  # only personal values go
    for value in SENSITIVE:
        assert value not in stderr, value
        assert value not in file_text, value


def test_exception_messages_are_masked(sinks):
    path, capsys = sinks
    try:
        raise ValueError("bad record {'address': '福岡県柳川市本町87番地1', 'phone': '0944-73-8111'}")
    except ValueError:
        logger.exception("failed")
    out = capsys.readouterr().err + path.read_text(encoding="utf-8")
    assert "柳川市本町87" not in out and "0944-73-8111" not in out
    assert "failed" in out


def test_json_file_sink_is_one_object_per_line(sinks):
    path, _ = sinks
    logger.bind(job_id="j1").info("one")
    lines = path.read_text(encoding="utf-8").splitlines()
    obj = json.loads(lines[-1])
    assert obj["record"]["message"] == "one"
    assert obj["record"]["extra"]["job_id"] == "j1"
    # only the parts named in kakitori.logs reach the disk: loguru 0.8 added the unformatted message
    # ("template"), which holds a pre-formatted message's values in clear
    assert set(obj["record"]) == {"time", "level", "name", "function", "line", "message", "extra", "process",
                                  "thread"}


@pytest.mark.parametrize("text, hidden", [
    ("個人番号 123456789018", "123456789018"),
    ("番号 1234-5678-9018", "1234-5678-9018"),
    ("電話 0944-73-8111", "0944-73-8111"),
    ("携帯 09012345678", "09012345678"),
    ("電話 ０９４４－７３－８１１１", "８１１１"),
    ("{'name': '佐藤 花子'}", "佐藤"),
    ('{"address": "東京都千代田区1-1"}', "千代田"),
])
def test_mask_text_hides(text, hidden):
    assert hidden not in mask_text(text)


def test_mask_text_keeps_ordinary_words_and_ids():
    text = "job 3f2a done in 1200 ms, template=juminido, 2024-05-01, page 2 of 3"
    assert mask_text(text) == text


def test_personal_keys():
    assert is_personal_key("name") and is_personal_key("name_kana") and is_personal_key("applicant_address")
    assert not is_personal_key("template_name") and not is_personal_key("document_id")
