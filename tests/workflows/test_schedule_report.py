"""Overnight schedules fire once across schedulers; the run report holds the figures the catalog reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from kakitori.config import QueueConfig, Schedule, Settings, StoreConfig, WorkflowsConfig
from workflows import jobs
from workflows.definition import load_workflow
from workflows.queue import connect
from workflows.runner import follow_run, start_run
from workflows.schedule import Scheduler
from workflows.store import DocState

from .fakes import FakeParts

WORKFLOW = "name: nightly\ntemplates: [juminido]\ninput:\n  folder: inbox\nsteps: [ocr, validate, review, keyin, report]\ntarget: sample-legacy\n"


def _runtime(tmp_path, redis_url: str):
    wf_dir = tmp_path / "workflows"
    wf_dir.mkdir()
    (wf_dir / "nightly.yaml").write_text(WORKFLOW, encoding="utf-8")
    (wf_dir / "inbox").mkdir()
    settings = Settings(data_dir=tmp_path / "data",
                        queue=QueueConfig(redis_url=redis_url, redis_password_env=None, retry_intervals_s=[0]),
                        store=StoreConfig(url=f"sqlite:///{tmp_path / 'kakitori.db'}"),
                        workflows=WorkflowsConfig(dirs=[wf_dir], schedules=[Schedule(workflow="nightly",
                                                                                     cron="0 2 * * *")]))
    if redis_url == "embedded":
        connect(settings.queue).flushdb()
    return jobs.use(settings, parts=FakeParts(settings)), wf_dir / "inbox"


@pytest.fixture(params=["embedded", pytest.param("redis", marks=pytest.mark.integration)])
def sched_rt(request, tmp_path):
    url = "embedded" if request.param == "embedded" else request.getfixturevalue("private_redis").url
    rt, inbox = _runtime(tmp_path, url)
    yield rt, inbox
    rt.store.close()


def test_only_one_of_several_schedulers_fires_a_run(sched_rt):
    rt, inbox = sched_rt
    for i in range(3):
        (inbox / f"{i}.png").write_bytes(b"scan")
    before = datetime(2026, 11, 26, 1, 59, tzinfo=UTC)
    at_two = datetime(2026, 11, 26, 2, 0, 5, tzinfo=UTC)
    schedulers = [Scheduler(rt, now=before) for _ in range(3)]   # three machines, one Redis
    assert [s.fire_due(before) for s in schedulers] == [[], [], []]
    fired = [s.fire_due(at_two) for s in schedulers]
    assert sum(len(f) for f in fired) == 1
    run_id = next(f[0] for f in fired if f)
    assert rt.store.get_run(run_id).workflow == "nightly"
    assert not list(inbox.iterdir())                               # the watched folder was consumed
    assert len(rt.store.documents(run_id=run_id)) == 3
    assert all(s.fire_due(at_two + timedelta(minutes=1)) == [] for s in schedulers)  # not again until tomorrow


def test_scheduler_rejects_a_bad_cron_naming_the_key(tmp_path):
    rt, _ = _runtime(tmp_path, "embedded")
    rt.settings.workflows.schedules = [Schedule(workflow="nightly", cron="at two")]
    from kakitori.errors import ConfigError

    with pytest.raises(ConfigError, match="workflows.schedules.0.cron"):
        Scheduler(rt)


def test_report_json_has_the_catalog_keys_and_per_field_rates(tmp_path):
    rt, inbox = _runtime(tmp_path, "embedded")
    names = ["a.png", "b.png", "review-c.png", "review-d.png", "bad-e.png"]
    for name in names:
        (inbox / name).write_bytes(b"scan")
    wf = load_workflow(tmp_path / "workflows" / "nightly.yaml")
    run = start_run(rt, wf, wf.scans())
    follow_run(rt, run.id)
    waiting = rt.store.waiting_for_review().items
    assert len(waiting) == 2
    rt.store.correct_field(waiting[0].id, "name", "山田花子", user="r1")   # corrected
    rt.store.correct_field(waiting[1].id, "name", "山田太郎", user="r1")   # confirmed as read
    for doc in waiting:
        rt.store.mark_reviewed(doc.id, "r1")
        jobs.continue_after_review(doc.id)
    follow_run(rt, run.id)
    folder = rt.data.report(run.id)
    data = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    for key in ("run_id", "workflow", "template", "documents", "seconds_per_document", "review_rate",
                "failure_rate", "states", "fields"):
        assert key in data
    assert data["documents"] == 5 and data["states"]["keyed"] == 4 and data["states"]["failed"] == 1
    assert data["failure_rate"] == 0.2
    assert data["review_rate"] == 0.5                              # 2 of the 4 read documents
    assert data["fields"]["name"] == {"review_rate": 0.5, "correction_rate": 0.25}
    assert data["fields"]["postal_code"] == {"review_rate": 0.0, "correction_rate": 0.0}
    assert data["failures"][0]["kind"] == "business" and data["failures"][0]["file"] == "bad-e.png"
    assert data["clerk_hours_saved"] > 0 and set(data["stage_seconds"]) >= {"ocr", "keyin"}
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "処理結果レポート" in html and "入力完了" in html and "bad-e.png" in html
    assert "郵便番号" in html and data["field_labels"]["name"] == "氏名"   # the form's labels, for clerks
    assert "山田" not in html and "山田" not in json.dumps(data, ensure_ascii=False)  # no personal values
    assert rt.store.get_run(run.id).finished_at is not None
    assert rt.store.count_by_state(run.id)[DocState.KEYED] == 4
