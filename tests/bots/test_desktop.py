"""The desktop bot against the real sample Tk app under a real Xvfb: keying with read-back, idempotency,
a value the app rejects, a dry run, and no app window at all."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from bots.keyin import KeyInJob, record_values
from bots.ledger import Ledger, LedgerState, idempotency_key, ledger_url
from bots.mapping import compare, load_mapping
from kakitori.config import BotsConfig, TargetConfig
from kakitori.errors import ApplicationError, BusinessError
from kakitori.paths import DataDir
from samples.desktop_app.cli import PASSWORD_ENV
from samples.desktop_app.store import ResidentStore
from samples.desktop_app.xvfb import running_app, virtual_display
from samples.legacy_app.records import synthetic_records

pytestmark = pytest.mark.integration
TARGET = "sample-desktop"
PASSWORD = "desk-pass-41c9"


@pytest.fixture(scope="module")
def xvfb() -> Iterator[str]:
    """A private Xvfb display for this module (pyautogui binds to the display it first sees)."""
    with pytest.MonkeyPatch.context() as mp, virtual_display() as display:
        mp.setenv(PASSWORD_ENV, PASSWORD)
        yield display


@dataclass
class RunningApp:
    db: Path

    def saved(self) -> list[dict]:
        return [r.to_dict() for r in ResidentStore(self.db).all()]


@pytest.fixture
def desktop_app(xvfb: str, tmp_path: Path) -> Iterator[RunningApp]:
    """The sample desktop app in its own process on the test display, with a fresh database."""
    db = tmp_path / "app" / "desktop-app.db"
    db.parent.mkdir()
    with running_app(db, PASSWORD_ENV):
        yield RunningApp(db)


def bots_config(retries: int = 1) -> BotsConfig:
    target = TargetConfig(kind="desktop", username="clerk01", password_env=PASSWORD_ENV, mapping=TARGET)
    return BotsConfig(retries=retries, targets={TARGET: target})


@pytest.fixture
def data_dir(tmp_path: Path) -> DataDir:
    return DataDir(tmp_path / "data").ensure()


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return synthetic_records(3, seed=1107, prefix="desk")


def test_desktop_bot_keys_a_record_and_reads_it_back(desktop_app, data_dir, records):
    with KeyInJob(TARGET, bots_config(), data_dir, "job-desk") as job:
        receipt = job.key(records[0])
    expected = load_mapping(TARGET).apply(record_values(records[0]), receipt.idempotency_key)
    saved = desktop_app.saved()
    assert receipt.status == "keyed" and [row["resident_no"] for row in saved] == [receipt.entry_id]
    assert compare(expected, saved[0]) == {}          # what the app stored is what the record said
    assert compare(expected, receipt.saved) == {}     # and what the bot read back from the screen
    assert saved[0]["name"] == expected["name"] and "\u3000" in saved[0]["name"]   # zenkaku, pasted
    assert not list(data_dir.screenshots("job-desk").glob("*.png"))


def test_keying_the_same_record_twice_creates_one_entry(desktop_app, data_dir, records, tmp_path):
    cfg = bots_config()
    with KeyInJob(TARGET, cfg, data_dir, "job-1") as job:
        first = job.key(records[1])
        again = job.key(records[1])                   # the ledger says: done
    with KeyInJob(TARGET, cfg, data_dir, "job-2", ledger=ledger_url(tmp_path / "lost")) as job:
        searched = job.key(records[1])                # ledger lost: the app is searched before creating
    assert (first.status, again.status, searched.status) == ("keyed", "already_keyed", "already_keyed")
    assert first.entry_id == again.entry_id == searched.entry_id
    assert len(desktop_app.saved()) == 1


def test_a_crash_after_registering_is_verified_not_rekeyed(desktop_app, data_dir, records):
    from bots.desktop import open_desktop_target

    @contextmanager
    def crashing_opener(*args):
        with open_desktop_target(*args) as target:
            real_create = target.create

            def create_then_die(key, values):
                real_create(key, values)
                raise KeyboardInterrupt("killed after the app saved, before the ledger knew")

            target.create = create_then_die
            yield target

    with KeyInJob(TARGET, bots_config(), data_dir, "job-crash", opener=crashing_opener) as job, \
            pytest.raises(KeyboardInterrupt):
        job.key(records[2])
    key = idempotency_key(records[2]["document_id"], "juminido", record_values(records[2]))
    assert Ledger(ledger_url(data_dir.ledger)).get(key, TARGET).state == LedgerState.STARTED
    with KeyInJob(TARGET, bots_config(), data_dir, "job-retry") as job:
        retried = job.key(records[2])
    assert retried.status == "already_keyed" and len(desktop_app.saved()) == 1


def test_a_value_the_app_rejects_surfaces_the_dialogs_message(desktop_app, data_dir, records):
    record = {**records[0], "document_id": "desk-bad-kana",
              "fields": {**records[0]["fields"], "name_kana": {**records[0]["fields"]["name_kana"],
                                                               "value": "Yamada Taro"}}}
    with KeyInJob(TARGET, bots_config(), data_dir, "job-bad") as job:
        with pytest.raises(BusinessError) as caught:
            job.key(record)
        next_one = job.key(records[1])                # the dialog and the form are left behind cleanly
    error = caught.value
    assert error.message == "フリガナは全角カタカナで入力してください。"
    assert error.context["field"] == "name_kana" and error.context["screen"] == "異動届入力"
    assert Path(error.context["screenshot"]).is_file()
    assert Path(error.context["screenshot"]).parent == data_dir.screenshots("job-bad")
    assert [row["application_ref"] for row in desktop_app.saved()] == [next_one.idempotency_key]
    key = idempotency_key("desk-bad-kana", "juminido", record_values(record))
    assert Ledger(ledger_url(data_dir.ledger)).get(key, TARGET).state == LedgerState.FAILED


def test_a_form_left_half_filled_by_a_crashed_run_is_abandoned_not_saved(desktop_app, data_dir, records):
    from bots.desktop import make_desktop_target

    crashed = make_desktop_target(bots_config().targets[TARGET], data_dir, "job-crashed")
    crashed.pages.open_entry_form()
    crashed.pages.fill_entry({"application_ref": "KK-HALF", "reason": "転入", "name": "途中"})
    with KeyInJob(TARGET, bots_config(), data_dir, "job-next") as job:
        receipt = job.key(records[0])
    assert receipt.status == "keyed"
    assert [row["application_ref"] for row in desktop_app.saved()] == [receipt.idempotency_key]


def test_dry_run_fills_the_form_and_saves_nothing(desktop_app, data_dir, records):
    with KeyInJob(TARGET, bots_config(), data_dir, "job-dry", dry_run=True) as job:
        receipt = job.key(records[0])
    assert receipt.status == "dry_run" and len(receipt.screenshots) == 1
    assert Path(receipt.screenshots[0]).is_file() and desktop_app.saved() == []


def test_no_app_window_is_a_clear_application_error(xvfb, data_dir):
    from bots.desktop import make_desktop_target

    target = make_desktop_target(bots_config().targets[TARGET], data_dir, "job-none", timeout_s=1.0)
    started = time.monotonic()
    with pytest.raises(ApplicationError, match="app's window is not on screen"):
        target.find("KK-NOTHING")
    assert time.monotonic() - started < 5
    assert os.environ["DISPLAY"] == xvfb


def test_the_shipped_reference_images_match_the_app_as_it_renders_here(xvfb, tmp_path):
    import cv2
    import numpy as np
    from PIL import Image

    from bots.desktop.screen import IMAGES
    from samples.desktop_app.capture import capture

    fresh = {path.name: path for path in capture(tmp_path)}
    shipped = sorted(IMAGES.glob("*.png"))
    assert sorted(fresh) == [path.name for path in shipped]
    for path in shipped:
        want = np.asarray(Image.open(path).convert("L"))
        got = np.asarray(Image.open(fresh[path.name]).convert("L"))
        assert want.shape == got.shape, f"{path.name}: re-cut with `kakitori desktop-app capture-images`"
        score = float(cv2.matchTemplate(got, want, cv2.TM_CCOEFF_NORMED).max())
        assert score >= 0.95, f"{path.name} differs (score {score:.3f}): re-cut the images"
