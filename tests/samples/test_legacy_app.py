"""The sample legacy web system's own behaviour (Flask test client: fast, no browser): login and lockout,
CSRF tokens, session expiry, Shift_JIS pages, server-side validation, fault injection, export."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest

from samples.legacy_app.app import AppConfig, create_app
from samples.legacy_app.faults import FaultConfig
from samples.legacy_app.fields import mynumber_ok, to_iso

PASSWORD = "pw-for-tests"
STEP1 = {"SEL001": "5", "TXT001": "6", "TXT002": "4", "TXT003": "1", "SEL002": "1",
         "SEL003": "5", "TXT004": "6", "TXT005": "3", "TXT006": "20"}
STEP2 = {"TXT011": "髙橋", "TXT012": "花子", "TXT013": "タカハシ", "TXT014": "ハナコ", "SEL011": "3",
         "TXT015": "60", "TXT016": "1", "TXT017": "7", "RAD011": "2", "TXT018": "123456789018",
         "TXT019": "0944-73-8111"}
STEP3 = {"TXT021": "832", "TXT022": "8555", "TXT023": "福岡県柳川市本町８７－１", "TXT024": "", "TXT025": "",
         "SEL021": "01", "CHK021": "1", "TXT026": "KK-TEST-1"}


def make(tmp_path: Path, **kwargs):
    app = create_app(AppConfig(db=tmp_path / "legacy.db", password=PASSWORD, **kwargs))
    return app, app.test_client()


def token(resp) -> str:
    return re.search(rb'name="_TOKEN" value="([0-9a-f]+)"', resp.data).group(1).decode()


def login(client, password: str = PASSWORD):
    page = client.get("/login")
    return client.post("/login", data={"USR001": "clerk01", "PWD001": password, "_TOKEN": token(page)})


def post(client, path: str, form: dict, encoding: str = "utf-8"):
    page = client.get(path)  # each form carries a fresh token
    body = urlencode({**form, "_TOKEN": token(page)}, encoding=encoding)
    return client.post(path, data=body, content_type="application/x-www-form-urlencoded")


def enter_application(client) -> str:
    assert post(client, "/entry/1", STEP1).status_code == 303
    assert post(client, "/entry/2", STEP2).status_code == 303
    assert post(client, "/entry/3", STEP3).headers["Location"] == "/entry/confirm"
    confirm = client.get("/entry/confirm")
    assert "この内容で登録します" in confirm.data.decode()  # the JavaScript confirm dialog
    done = client.post("/entry/commit", data={"_TOKEN": token(confirm)})
    return done.headers["Location"].rsplit("/", 1)[1]


def test_login_locks_the_account_after_five_failures(tmp_path):
    _, client = make(tmp_path)
    for _ in range(4):
        assert "違います" in login(client, "wrong").data.decode()
    assert "ロック" in login(client, "wrong").data.decode()
    assert "ロック" in login(client).data.decode()  # even the right password, while locked


def test_the_right_password_opens_the_frameset(tmp_path):
    _, client = make(tmp_path)
    resp = login(client)
    assert resp.status_code == 303 and resp.headers["Location"] == "/main"
    frames = client.get("/main").data.decode()
    assert '<frame name="work" src="/menu">' in frames


def test_a_form_without_its_csrf_token_is_refused(tmp_path):
    _, client = make(tmp_path)
    login(client)
    client.get("/entry/1")
    resp = client.post("/entry/1", data=STEP1)
    assert resp.status_code == 403 and "不正な画面遷移" in resp.data.decode()


def test_session_expires_after_idle_time(tmp_path):
    _, client = make(tmp_path, idle_timeout_s=0.2)
    login(client)
    assert client.get("/menu").status_code == 200
    time.sleep(0.3)
    resp = client.get("/menu")
    assert resp.status_code == 303 and resp.headers["Location"] == "/login?expired=1"
    assert "有効期限" in client.get("/login?expired=1").data.decode()


def test_entry_saves_an_application_with_a_receipt_number(tmp_path):
    app, client = make(tmp_path)
    login(client)
    receipt = enter_application(client)
    done = client.get(f"/entry/done/{receipt}")
    assert done.headers["Content-Type"] == "text/html; charset=Shift_JIS"
    assert receipt in done.data.decode("cp932")
    (row,) = list(app.config["store"].export())
    assert (row["receipt_no"], row["family_name"], row["memo"]) == (receipt, "髙橋", "KK-TEST-1")
    assert row["national_health"] is True and row["keep_card"] is False


def test_full_width_fields_reject_half_width_with_the_server_message(tmp_path):
    _, client = make(tmp_path)
    login(client)
    post(client, "/entry/1", STEP1)
    resp = post(client, "/entry/2", {**STEP2, "TXT012": "ﾊﾅｺ", "TXT013": "たかはし", "TXT018": "123456789012"})
    text = resp.data.decode()
    assert resp.status_code == 200 and 'data-screen="JKB0102"' in text
    assert "名は全角で入力してください。" in text
    assert "氏（カナ）は全角カタカナで入力してください。" in text
    assert "個人番号が正しくありません。" in text


def test_search_and_edit_pages_speak_shift_jis(tmp_path):
    _, client = make(tmp_path)
    login(client)
    receipt = enter_application(client)
    page = client.get("/search")
    assert page.headers["Content-Type"] == "text/html; charset=Shift_JIS"
    assert "住民検索" in page.data.decode("cp932")
    form = {"TXT101": "タカハシ", "SEL101": "3", "TXT102": "60", "TXT103": "1", "TXT104": "7", "TXT105": ""}
    body = urlencode({**form, "_TOKEN": token(page)}, encoding="cp932")  # the browser posts in the page's charset
    found = client.post("/search", data=body, content_type="application/x-www-form-urlencoded").data.decode("cp932")
    assert f'/edit/{receipt}"' in found and "髙橋" in found
    edit = client.get(f"/edit/{receipt}").data.decode("cp932")
    assert 'value="髙橋"' in edit and 'id="LBL201" class="receipt">' + receipt in edit


@pytest.mark.parametrize("kind", ["error_before", "error_after"])
def test_injected_500s_happen_before_or_after_the_work(tmp_path, kind):
    app, client = make(tmp_path, faults=FaultConfig(rate=1.0, kinds=(kind,), paths=("/entry/commit",)))
    login(client)
    for path, form in (("/entry/1", STEP1), ("/entry/2", STEP2), ("/entry/3", STEP3)):
        post(client, path, form)
    resp = client.post("/entry/commit", data={"_TOKEN": token(client.get("/entry/confirm"))})
    assert resp.status_code == 500
    saved = len(list(app.config["store"].export()))
    assert saved == (1 if kind == "error_after" else 0)


def test_injected_rename_changes_element_ids_but_not_names(tmp_path):
    _, client = make(tmp_path, faults=FaultConfig(rate=1.0, kinds=("rename",), paths=("/entry/",)))
    login(client)
    text = client.get("/entry/1").data.decode()
    assert 'id="SEL001R" name="SEL001"' in text and 'id="SEL001"' not in text


def test_expired_session_fault_sends_the_clerk_to_login(tmp_path):
    _, client = make(tmp_path, faults=FaultConfig(rate=1.0, kinds=("expire",), paths=("/menu",)))
    login(client)
    assert client.get("/menu").headers["Location"] == "/login?expired=1"


def test_dates_and_individual_numbers_are_checked_like_the_real_rules():
    assert to_iso("4", "31", "4", "30") == "2019-04-30"
    assert to_iso("4", "31", "5", "1") is None  # 令和 had begun
    assert to_iso("3", "64", "1", "7") == "1989-01-07" and to_iso("3", "64", "1", "8") is None
    assert mynumber_ok("123456789018") and not mynumber_ok("123456789012")


def test_export_prints_json_lines(tmp_path):
    app, client = make(tmp_path)
    login(client)
    receipt = enter_application(client)
    cmd = [sys.executable, "-m", "kakitori", "legacy-app", "export", "--db", str(tmp_path / "legacy.db")]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=60).stdout
    (row,) = [json.loads(line) for line in out.splitlines()]
    assert row["receipt_no"] == receipt and row["given_name"] == "花子" and row["birth_era"] == "3"
