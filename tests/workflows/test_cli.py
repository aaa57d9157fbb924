"""The workflow commands: clear one-line errors with exit codes, failed-document listing, requeue."""

from __future__ import annotations

import json

from kakitori.cli import run


def test_run_with_a_malformed_workflow_names_file_and_key(config_file, tmp_path, capsys):
    bad = tmp_path / "broken.yaml"
    bad.write_text("name: broken\ninput:\n  folder: scans\n  recursive: true\n", encoding="utf-8")
    (tmp_path / "scans").mkdir()
    code = run(["--config", str(config_file()), "run", str(bad)])
    err = capsys.readouterr().err
    assert code == 3
    assert "key=input.recursive" in err and str(bad) in err and "unknown key" in err
    assert "Traceback" not in err


def test_run_with_a_missing_input_folder_names_it(config_file, tmp_path, capsys):
    wf = tmp_path / "wf.yaml"
    wf.write_text("name: wf\nsteps: [ocr, report]\n", encoding="utf-8")
    code = run(["--config", str(config_file()), "run", str(wf), "--input", str(tmp_path / "nope")])
    err = capsys.readouterr().err
    assert code == 3 and "input folder not found" in err and "key=--input" in err


def test_worker_refuses_the_embedded_queue_with_a_hint(config_file, capsys):
    code = run(["worker", "--config", str(config_file())])
    err = capsys.readouterr().err
    assert code == 3 and "queue.redis_url" in err and "embedded" in err


def test_jobs_failed_lists_failed_documents_with_their_reason(config_file, capsys):
    from kakitori.config import load_config
    from kakitori.errors import BusinessError
    from workflows.store import DocState, DocumentStore

    path = config_file()
    cfg = load_config(path, env={})
    store = DocumentStore.from_settings(cfg)
    run_ = store.create_run("tennyu", steps=["ocr", "report"])
    doc = store.add_document(run_.id, "/scans/0007.png", workflow="tennyu")
    error = {**BusinessError("no template matches the page", page=1).to_dict(), "stage": "ocr"}
    store.transition(doc.id, DocState.RECEIVED, DocState.FAILED, error=error)
    store.close()
    assert run(["jobs", "failed", "--config", str(path), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["documents"][0]["document"] == doc.id
    assert listed["documents"][0]["message"] == "no template matches the page"
    assert listed["documents"][0]["file"] == "0007.png" and "page=1" in listed["documents"][0]["context"]
    assert run(["jobs", "requeue", "--config", str(path)]) == 2   # neither an id nor --all
