"""Review station without a browser: typed entries, accounts, single/double checks on the store, correction
rates, and the HTTP guards (CSRF, session timeout, safe images, roles) through Flask's test client."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
import yaml

from kakitori.config import ReviewConfig, ReviewUser
from kakitori.errors import ConfigError
from ocr.record import FieldStatus
from ocr.template import FieldSpec, FieldType, Option, load_template
from workflows.review.app import create_app
from workflows.review.auth import Accounts, Role, User, hash_password
from workflows.review.checks import Desk, TaskKind, Templates
from workflows.review.feedback import correction_rates
from workflows.review.sample import seed_waiting
from workflows.review.values import EntryError, check_digit, parse_entry
from workflows.store import DocState

ALICE = User("alice", Role.REVIEWER, "")
BOB = User("bob", Role.REVIEWER, "")
SUE = User("sue", Role.SUPERVISOR, "")


def spec(ftype: FieldType, **kw) -> FieldSpec:
    return FieldSpec(name="f", label="項目", type=ftype, box_mm=(0, 0, 10, 10), **kw)


@pytest.fixture(scope="module")
def template(template_dir):
    return load_template(template_dir / "juminido.yaml")


# typed entries


@pytest.mark.parametrize("typed, iso", [
    ("令和6年4月1日", "2024-04-01"), ("R6.4.1", "2024-04-01"), ("令和元年5月1日", "2019-05-01"),
    ("S37.11.19", "1962-11-19"), ("２０２４－０４－０１", "2024-04-01"), ("20240401", "2024-04-01"),
    ("平成31年4月30日", "2019-04-30"),
])
def test_dates_are_accepted_as_clerks_type_them(typed, iso):
    assert parse_entry(spec(FieldType.DATE), typed) == iso


@pytest.mark.parametrize("ftype, typed, message", [
    (FieldType.DATE, "令和6年2月30日", "存在しない日付"),
    (FieldType.DATE, "昨日", "日付は"),
    (FieldType.POSTAL, "83285", "7桁"),
    (FieldType.INDIVIDUAL_NUMBER, "123456789012", "検査用数字"),
    (FieldType.KATAKANA, "山田", "カタカナ"),
    (FieldType.PHONE, "12-3456", "電話番号"),
])
def test_impossible_entries_are_refused_with_a_japanese_reason(ftype, typed, message):
    with pytest.raises(EntryError, match=message):
        parse_entry(spec(ftype), typed)


def test_entries_are_normalised_like_the_ocr_record():
    assert parse_entry(spec(FieldType.POSTAL), "８３２８５５５") == "832-8555"
    assert parse_entry(spec(FieldType.KATAKANA), "やまだ たろう") == "ヤマダタロウ"
    assert parse_entry(spec(FieldType.AMOUNT), "3,500,000円") == "3500000"
    number = "12345678901" + str(check_digit("12345678901"))
    assert parse_entry(spec(FieldType.INDIVIDUAL_NUMBER), number[:4] + " " + number[4:]) == number
    assert parse_entry(spec(FieldType.CHECKBOX), "1") is True and parse_entry(spec(FieldType.CHECKBOX), "") is False
    choice = spec(FieldType.CHOICE, options=(Option("male", "男", (0, 0, 1, 1)), Option("female", "女", (0, 0, 1, 1))))
    assert parse_entry(choice, "female") == "female"
    with pytest.raises(EntryError):
        parse_entry(choice, "other")
    with pytest.raises(EntryError, match="必須"):
        parse_entry(spec(FieldType.TEXT, required=True), "  ")


@pytest.mark.parametrize("ftype, typed, value", [
    (FieldType.TEXT, "山田　太郎", "山田 太郎"),            # a full-width space becomes half-width
    (FieldType.TEXT, " 山田   太郎 ", "山田 太郎"),          # a run of spaces becomes one
    (FieldType.KATAKANA, "やまだ　たろう", "ヤマダ タロウ"),  # each part folded like a katakana field
])
def test_a_typed_person_name_keeps_one_space_between_family_and_given(ftype, typed, value):
    assert parse_entry(spec(ftype, person_name=True, max_length=20), typed) == value


@pytest.mark.parametrize("typed, message", [
    ("山田太郎", "氏と名の間に空白を入れてください"),
    ("山田 太 郎", "1つだけ"),
])
def test_a_typed_person_name_without_one_space_is_refused_in_japanese(typed, message):
    with pytest.raises(EntryError, match=message):
        parse_entry(spec(FieldType.TEXT, person_name=True), typed)
    assert parse_entry(spec(FieldType.TEXT), typed) == typed.replace(" ", "")  # not a name: no gap needed


def test_a_person_name_is_checked_like_its_type_and_length_without_its_space():
    with pytest.raises(EntryError, match="カタカナ"):
        parse_entry(spec(FieldType.KATAKANA, person_name=True), "山田 太郎")
    with pytest.raises(EntryError, match="4文字以内"):
        parse_entry(spec(FieldType.TEXT, person_name=True, max_length=4), "山田 太郎丸")
    assert parse_entry(spec(FieldType.TEXT, person_name=True, max_length=4), "山田 太郎") == "山田 太郎"
    with pytest.raises(EntryError, match="必須"):
        parse_entry(spec(FieldType.TEXT, person_name=True, required=True), "　")
    assert parse_entry(spec(FieldType.TEXT, person_name=True), "") == ""


def test_individual_number_check_digit_matches_the_published_algorithm():
    # weights 2..7 then 2..6 from the right; remainder ≤ 1 gives 0
    assert check_digit("12345678901") == 8
    assert check_digit("00000000000") == 0


# accounts


def test_accounts_authenticate_with_hashes_from_the_environment_and_lock_out_guessers():
    env = {"H_A": hash_password("correct horse")}
    accounts = Accounts.from_config(ReviewConfig(users=[ReviewUser(name="alice", password_hash_env="H_A")]), env)
    assert accounts.authenticate("alice", "correct horse").name == "alice"
    assert accounts.authenticate("alice", "wrong") is None
    assert accounts.authenticate("mallory", "correct horse") is None
    for _ in range(5):
        accounts.authenticate("alice", "wrong")
    assert accounts.authenticate("alice", "correct horse") is None  # locked out for a while


def test_a_user_without_a_password_hash_is_a_config_error_naming_the_variable():
    cfg = ReviewConfig(users=[ReviewUser(name="alice", password_hash_env="KAKITORI_REVIEW_PW_ALICE")])
    with pytest.raises(ConfigError, match="KAKITORI_REVIEW_PW_ALICE"):
        Accounts.from_config(cfg, {})
    with pytest.raises(ConfigError, match="does not hold a password hash"):
        Accounts.from_config(cfg, {"KAKITORI_REVIEW_PW_ALICE": "plain-text-password"})


def test_hash_password_command_prints_a_verifiable_hash(tmp_path, monkeypatch):
    from typer.testing import CliRunner
    from werkzeug.security import check_password_hash

    from kakitori.cli import app

    result = CliRunner().invoke(app, ["review", "hash-password", "--stdin"], input="s3cret-pass\n")
    assert result.exit_code == 0, result.output
    hashed = result.output.strip().splitlines()[-1]
    assert hashed.startswith("scrypt:") and check_password_hash(hashed, "s3cret-pass")
    assert CliRunner().invoke(app, ["review", "hash-password", "--stdin"], input="short\n").exit_code == 2


# single and double checks on the store (SQLite and PostgreSQL)


def only_open(store, doc_id: str, names: tuple[str, ...]) -> None:
    """Leave exactly ``names`` open in the stored record (seeded documents open a random few)."""
    doc = store.get(doc_id)
    fields = {n: replace(f, status=FieldStatus.NEEDS_REVIEW if n in names else FieldStatus.ACCEPTED)
              for n, f in doc.record.fields.items()}
    store.transition(doc_id, DocState.NEEDS_REVIEW, DocState.NEEDS_REVIEW, record=replace(doc.record, fields=fields))


def test_single_check_correction_is_audited_and_finishes_the_document(store, tmp_path, template, template_dir):
    [doc] = seed_waiting(store, tmp_path, template, 1, seed=1)
    only_open(store, doc.doc_id, ("name", "postal_code"))
    desk = Desk(store, Templates([template_dir]))
    tasks = desk.tasks(store.get(doc.doc_id), ALICE)
    assert [(t.field.name, t.kind) for t in tasks] == [("name", TaskKind.SINGLE), ("postal_code", TaskKind.SINGLE)]
    read_name = store.get(doc.doc_id).record.fields["name"].value
    desk.submit(doc.doc_id, ALICE, {"name": "訂正太郎"})
    assert desk.finish_if_done(doc.doc_id, ALICE) is False  # postal_code still open
    desk.submit(doc.doc_id, ALICE, {"postal_code": doc.truth["postal_code"]})
    assert desk.finish_if_done(doc.doc_id, ALICE) is True
    stored = store.get(doc.doc_id)
    assert stored.state is DocState.REVIEWED and stored.reviewed_by == "alice"
    assert stored.record.fields["name"].value == "訂正太郎"
    assert stored.record.fields["name"].status is FieldStatus.REVIEWED
    audit = {c.field: c for c in store.corrections(doc_id=doc.doc_id)}
    assert (audit["name"].user, audit["name"].old_value, audit["name"].new_value, audit["name"].changed) == \
        ("alice", read_name, "訂正太郎", read_name != "訂正太郎")
    assert audit["name"].at is not None


def test_double_check_entries_are_blind_and_a_match_resolves_the_field(store, tmp_path, template, template_dir):
    [doc] = seed_waiting(store, tmp_path, template, 1, seed=2)
    only_open(store, doc.doc_id, ("individual_number",))
    desk = Desk(store, Templates([template_dir]))
    number = doc.truth["individual_number"]
    [task] = desk.tasks(store.get(doc.doc_id), ALICE)
    assert task.kind is TaskKind.DOUBLE and task.entries == ()
    assert [o.result for o in desk.submit(doc.doc_id, ALICE, {"individual_number": number})] == ["entered"]
    assert desk.tasks(store.get(doc.doc_id), ALICE) == []          # not offered twice to the same person
    [second] = desk.tasks(store.get(doc.doc_id), BOB)
    assert second.entries == ()                                     # Bob does not see Alice's entry
    assert [o.result for o in desk.submit(doc.doc_id, BOB, {"individual_number": number})] == ["resolved"]
    assert desk.finish_if_done(doc.doc_id, BOB)
    assert store.get(doc.doc_id).record.fields["individual_number"].value == number


def test_double_check_mismatch_waits_for_a_supervisor(store, tmp_path, template, template_dir):
    [doc] = seed_waiting(store, tmp_path, template, 1, seed=3)
    only_open(store, doc.doc_id, ("individual_number",))
    desk = Desk(store, Templates([template_dir]))
    right = doc.truth["individual_number"]
    wrong = right[:3] + str((int(right[3]) + 1) % 10) + right[4:11]
    wrong += str(check_digit(wrong))
    desk.submit(doc.doc_id, ALICE, {"individual_number": right})
    assert [o.result for o in desk.submit(doc.doc_id, BOB, {"individual_number": wrong})] == ["conflict"]
    assert desk.finish_if_done(doc.doc_id, BOB) is False
    assert desk.tasks(store.get(doc.doc_id), User("carol", Role.REVIEWER, "")) == []  # no third blind entry
    [conflict] = desk.tasks(store.get(doc.doc_id), SUE)
    assert conflict.kind is TaskKind.CONFLICT
    assert {(e.reviewer, e.value) for e in conflict.entries} == {("alice", right), ("bob", wrong)}
    assert [(d.id, fields) for d, fields in desk.conflicts()] == [(doc.doc_id, ["individual_number"])]
    assert [e.reviewer for e in desk.entries_for([doc.doc_id, "no-such-doc"])[doc.doc_id]] == ["alice", "bob"]
    desk.submit(doc.doc_id, SUE, {"individual_number": right})
    assert desk.finish_if_done(doc.doc_id, SUE)
    [audit] = store.corrections(doc_id=doc.doc_id)
    assert (audit.user, audit.role, audit.new_value) == ("sue", "supervisor", right)
    assert desk.conflicts() == []


def test_correction_rates_per_field_and_template(store, tmp_path, template, template_dir):
    docs = seed_waiting(store, tmp_path, template, 4, seed=5)
    desk = Desk(store, Templates([template_dir]))
    for d in docs:
        only_open(store, d.doc_id, ("name", "phone"))
    for i, d in enumerate(docs):  # name corrected in 3 of 4 documents, phone never
        desk.submit(d.doc_id, ALICE, {"name": "訂正" if i < 3 else store.get(d.doc_id).record.fields["name"].value,
                                      "phone": store.get(d.doc_id).record.fields["phone"].value})
    rates = correction_rates(store)
    assert rates.field("juminido", "name").to_dict() == {"reviewed": 4, "corrected": 3, "rate": 0.75}
    assert rates.field("juminido", "phone").rate == 0.0
    assert rates.templates["juminido"].total.to_dict() == {"reviewed": 8, "corrected": 3, "rate": 0.375}
    assert next(iter(rates.templates["juminido"].fields)) == "name"   # the worst field first
    assert correction_rates(store, template="jidoteate").total.reviewed == 0
    assert correction_rates(store, run_id=store.get(docs[0].doc_id).run_id).total.reviewed == 8


# HTTP guards (Flask test client; the browser tests drive the same app in Chromium)


@pytest.fixture
def client_for(tmp_path, template_dir):
    from workflows.store import DocumentStore

    store = DocumentStore(f"sqlite:///{tmp_path / 'kakitori.db'}")
    env = {"SK": "s" * 40, "PW_A": hash_password("alice-pass"), "PW_S": hash_password("sue-pass")}
    cfg = ReviewConfig(secret_key_env="SK", session_timeout_min=30, users=[
        ReviewUser(name="alice", password_hash_env="PW_A"),
        ReviewUser(name="sue", role="supervisor", password_hash_env="PW_S")])
    app = create_app(cfg, store, tmp_path, [template_dir], on_reviewed=lambda doc_id: None, env=env)

    def login(user: str, password: str):
        client = app.test_client()
        token = csrf(client.get("/login").text)
        client.post("/login", data={"username": user, "password": password, "csrf_token": token})
        return client

    yield app, store, login
    store.close()


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_post_without_or_with_a_wrong_csrf_token_is_refused_and_changes_nothing(client_for, tmp_path, template):
    _app, store, login = client_for
    [doc] = seed_waiting(store, tmp_path, template, 1, seed=7)
    client = login("alice", "alice-pass")
    page = client.get(f"/doc/{doc.doc_id}")
    fields = re.search(r'name="fields" value="([^"]*)"', page.text).group(1)
    data = {"fields": fields, **{f"f.{n}": "x" for n in fields.split(",")}}
    assert client.post(f"/doc/{doc.doc_id}", data=data).status_code == 400
    assert client.post(f"/doc/{doc.doc_id}", data={**data, "csrf_token": "forged"}).status_code == 400
    assert client.post("/logout").status_code == 400
    assert store.corrections() == [] and store.get(doc.doc_id).state is DocState.NEEDS_REVIEW


def test_login_refuses_a_wrong_password_and_an_open_redirect(client_for):
    app, _store, _login = client_for
    client = app.test_client()
    token = csrf(client.get("/login").text)
    bad = client.post("/login", data={"username": "alice", "password": "nope", "csrf_token": token})
    assert bad.status_code == 401 and "パスワードが違います" in bad.text
    ok = client.post("/login", data={"username": "alice", "password": "alice-pass", "csrf_token": token,
                                     "next": "//evil.example/"})
    assert ok.status_code == 302 and ok.headers["Location"] == "/"


def test_session_ends_after_the_configured_idle_time_and_at_logout(client_for):
    app, _store, login = client_for
    station = app.extensions["kakitori_review"]
    now = [1000.0]
    station.clock = lambda: now[0]
    client = login("alice", "alice-pass")
    assert client.get("/").status_code == 200
    now[0] += 29 * 60
    assert client.get("/").status_code == 200              # activity resets the clock
    now[0] += 31 * 60
    r = client.get("/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    client = login("alice", "alice-pass")
    cookie = client.get_cookie("kakitori_review").value
    client.post("/logout", data={"csrf_token": csrf(client.get("/").text)})
    replay = app.test_client()
    replay.set_cookie("kakitori_review", cookie)            # a copied cookie is dead after logout
    assert replay.get("/").status_code == 302


def test_images_are_served_only_from_under_the_data_directory(client_for, tmp_path, template):
    _app, store, login = client_for
    [doc] = seed_waiting(store, tmp_path, template, 1, seed=8)
    client = login("alice", "alice-pass")
    ok = client.get(f"/crop/{doc.doc_id}/name")
    assert ok.status_code == 200 and ok.mimetype == "image/png" and ok.headers["Cache-Control"] == "no-store"
    assert client.get(f"/doc/{doc.doc_id}/page/1").mimetype == "image/png"
    outside = tmp_path.parent / "secret.png"
    outside.write_bytes(ok.data)
    record = store.get(doc.doc_id).record
    evil = record.with_field(replace(record.fields["name"], crop=str(outside)))
    evil = evil.with_field(replace(evil.fields["phone"], crop="../secret.png"))
    store.transition(doc.doc_id, DocState.NEEDS_REVIEW, DocState.NEEDS_REVIEW, record=evil)
    assert client.get(f"/crop/{doc.doc_id}/name").status_code == 404
    assert client.get(f"/crop/{doc.doc_id}/phone").status_code == 404
    assert client.get(f"/crop/{doc.doc_id}/no_such_field").status_code == 404
    assert client.get("/crop/unknown-doc/name").status_code == 404


def test_pages_are_not_cached_and_only_supervisors_see_correction_rates(client_for):
    _app, _store, login = client_for
    alice, sue = login("alice", "alice-pass"), login("sue", "sue-pass")
    r = alice.get("/")
    assert r.headers["Cache-Control"] == "no-store" and "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert alice.get("/stats").status_code == 403
    assert sue.get("/stats").status_code == 200


def test_an_invalid_entry_is_shown_beside_its_field_and_nothing_is_saved(client_for, tmp_path, template):
    _app, store, login = client_for
    [doc] = seed_waiting(store, tmp_path, template, 1, seed=9)
    only_open(store, doc.doc_id, ("birth_date", "name"))
    client = login("alice", "alice-pass")
    token = csrf(client.get(f"/doc/{doc.doc_id}").text)
    r = client.post(f"/doc/{doc.doc_id}", data={"csrf_token": token, "fields": "birth_date,name",
                                                "f.birth_date": "令和6年2月30日", "f.name": "山田"})
    assert r.status_code == 422 and "存在しない日付" in r.text and 'value="令和6年2月30日"' in r.text
    assert store.corrections() == []


def test_no_entered_or_read_value_reaches_the_log(client_for, tmp_path, template):
    from loguru import logger

    _app, store, login = client_for
    [doc] = seed_waiting(store, tmp_path, template, 1, seed=10, wrong_rate=0)
    only_open(store, doc.doc_id, ("name", "address", "phone"))
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(str(m) + repr(m.record["extra"])), level="DEBUG")
    try:
        client = login("alice", "alice-pass")
        token = csrf(client.get(f"/doc/{doc.doc_id}").text)
        typed = {"name": "新しい 氏名", "address": doc.truth["address"], "phone": doc.truth["phone"]}
        r = client.post(f"/doc/{doc.doc_id}", data={"csrf_token": token, "fields": "name,address,phone",
                                                    **{f"f.{k}": v for k, v in typed.items()}})
        assert r.status_code == 302
    finally:
        logger.remove(sink)
    text = "\n".join(lines)
    assert "review submitted" in text and doc.doc_id in text
    for value in [*typed.values(), doc.truth["name"], doc.truth["individual_number"]]:
        assert str(value) not in text


def test_ocr_reasons_are_shown_to_clerks_in_japanese():
    from workflows.review.app import reason_ja

    assert reason_ja("low confidence (0.512)") == "読取の信頼度が低い"
    assert reason_ja("postal code does not exist; 生年月日は届出日より前") == "存在しない郵便番号・生年月日は届出日より前"
    assert reason_ja("individual number check digit is wrong") == "個人番号の検査用数字が合わない"
    assert reason_ja("something new") == "something new" and reason_ja("") == ""


def test_a_template_can_double_check_all_its_fields(tmp_path, store, template_dir):
    raw = yaml.safe_load((template_dir / "juminido.yaml").read_text(encoding="utf-8"))
    for f in raw["fields"]:
        f.pop("review", None)
    raw["extra"]["review"] = "double"
    (tmp_path / "juminido.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    [doc] = seed_waiting(store, tmp_path / "data", load_template(tmp_path / "juminido.yaml"), 1, seed=4)
    tasks = Desk(store, Templates([tmp_path])).tasks(store.get(doc.doc_id), ALICE)
    assert tasks and {t.kind for t in tasks} == {TaskKind.DOUBLE}


def test_a_failed_hand_on_leaves_the_document_reviewed_for_the_sweeper(tmp_path, template_dir, template):
    from kakitori.errors import ApplicationError
    from workflows.store import DocumentStore

    def queue_down(doc_id: str) -> None:
        raise ApplicationError("Redis unreachable", document=doc_id)

    store = DocumentStore(f"sqlite:///{tmp_path / 'kakitori.db'}")
    env = {"SK": "s" * 40, "PW_A": hash_password("alice-pass")}
    cfg = ReviewConfig(secret_key_env="SK", users=[ReviewUser(name="alice", password_hash_env="PW_A")])
    app = create_app(cfg, store, tmp_path, [template_dir], on_reviewed=queue_down, env=env)
    [doc] = seed_waiting(store, tmp_path, template, 1, seed=17, wrong_rate=0)
    only_open(store, doc.doc_id, ("phone",))
    client = app.test_client()
    client.post("/login", data={"username": "alice", "password": "alice-pass",
                                "csrf_token": csrf(client.get("/login").text)})
    token = csrf(client.get(f"/doc/{doc.doc_id}").text)
    r = client.post(f"/doc/{doc.doc_id}", data={"csrf_token": token, "fields": "phone", "f.phone": doc.truth["phone"]})
    assert r.status_code == 302
    app.extensions["kakitori_review"]._handoff.shutdown(wait=True)  # let the hand-on thread finish
    assert store.get(doc.doc_id).state is DocState.REVIEWED
    store.close()


def test_two_clerks_get_different_documents_and_the_second_save_of_a_field_is_stale(client_for, tmp_path, template):
    _app, store, login = client_for
    first, second = seed_waiting(store, tmp_path, template, 2, seed=18, wrong_rate=0)
    for d in (first, second):
        only_open(store, d.doc_id, ("name",))
    alice, sue = login("alice", "alice-pass"), login("sue", "sue-pass")
    assert alice.get("/next").headers["Location"] == f"/doc/{first.doc_id}"
    alice_page = alice.get(f"/doc/{first.doc_id}").text                 # alice has it open: claimed
    assert sue.get("/next").headers["Location"] == f"/doc/{second.doc_id}"
    sue_page = sue.get(f"/doc/{first.doc_id}").text                     # sue opens it anyway, by its link
    sue.post(f"/doc/{first.doc_id}", data={"csrf_token": csrf(sue_page), "fields": "name", "f.name": "先 勝"})
    r = alice.post(f"/doc/{first.doc_id}", data={"csrf_token": csrf(alice_page), "fields": "name", "f.name": "後 負"},
                   follow_redirects=True)
    assert "他の確認者が先に確定していました" in r.text
    [audit] = store.corrections(doc_id=first.doc_id)
    assert (audit.user, audit.new_value) == ("sue", "先 勝")
