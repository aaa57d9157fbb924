"""The three sample city-hall forms of the fictional 柿取市 (Kakitori City), laid out with ``Sheet``.

* ``juminido``: 住民異動届 (moving in / within / out); its field names are fixed by the shared forms spec.
* ``jidoteate``: 児童手当 認定請求書 (child allowance claim), with an income amount and a bank account.
* ``inkan``: 印鑑登録申請書 (seal registration), with the identity check and a guarantor.
"""

from __future__ import annotations

from typing import Callable

from ocr.template import FieldType as T
from samples.forms.sheet import LEFT_MM, RIGHT_MM, Check, Choice, Comb, Label, Note, Sheet, Write

CITY = "柿取市"
LW = 28.0  # label column width


def juminido() -> Sheet:
    s = Sheet("juminido", "住民異動届")
    _header(s, "住 民 異 動 届", "様式第1号（住民基本台帳法第22条〜第24条）", "KKT-JUMIN-01")
    s.begin_frame()
    s.row(14, Label("届出日", LW), Write("filing_date", "届出日", T.DATE, 62, required=True),
          Label("異動の種別", LW), Choice("reason", "異動の種別", (("tennyu", "転入"), ("tenkyo", "転居"),
                                                           ("tenshutsu", "転出")), required=True))
    s.row(14, Label("異動日", LW), Write("moved_on", "異動日", T.DATE, 62, required=True),
          Label("性別", LW), Choice("sex", "性別", (("male", "男"), ("female", "女")), required=True))
    s.row(11, Label("フリガナ", LW), Write("name_kana", "フリガナ", T.KATAKANA, required=True, person_name=True))
    s.row(17, Label("氏名", LW), Write("name", "氏名", T.TEXT, required=True, max_length=20, person_name=True))
    s.row(14, Label("生年月日", LW), Write("birth_date", "生年月日", T.DATE, 62, required=True),
          Label("電話番号", LW), Write("phone", "電話番号", T.PHONE))
    s.row(13, Label("郵便番号", LW), Comb("postal_code", "郵便番号", T.POSTAL, 7, groups=(3,), required=True),
          Note("※新住所の郵便番号を記入してください"))
    s.row(17, Label("住所\n(新住所)", LW), Write("address", "住所 (新住所)", T.TEXT, required=True, max_length=60))
    s.row(17, Label("前住所", LW), Write("prev_address", "前住所", T.TEXT, max_length=60))
    s.row(14, Label("世帯主", LW), Write("head_of_household", "世帯主", T.TEXT, 58, max_length=20, person_name=True),
          Label("続柄", 18), Choice("relationship", "続柄", (("self", "本人"), ("spouse", "配偶者"), ("child", "子"),
                                                         ("other", "その他"))))
    s.row(13, Label("個人番号", LW), Comb("individual_number", "個人番号", T.INDIVIDUAL_NUMBER, 12,
                                          groups=(4, 8), review="double"), Note())
    s.row(12, Label("関連手続", LW), Check("national_health", "国民健康保険に加入する", "国民健康保険に加入する", 66),
          Check("keep_card", "マイナンバーカードを継続利用する", "マイナンバーカードを継続利用する"))
    s.end_frame()
    s.rule("before", "birth_date", "filing_date", message="生年月日は届出日より前")
    s.rule("before", "moved_on", "filing_date", message="異動日は届出日以前")
    _notes(s, ("太枠内を黒のボールペンではっきりと記入してください。",
               "転入届・転居届は、住み始めた日から14日以内に届け出てください。",
               "個人番号は12桁の数字を1マスに1文字ずつ記入してください。",
               "異動の種別・続柄は該当するものを○で囲んでください。"))
    s.office_box(244.0)
    return s


def jidoteate() -> Sheet:
    s = Sheet("jidoteate", "児童手当 認定請求書")
    _header(s, "児童手当 認定請求書", "様式第1号（児童手当法施行規則第1条の4）", "KKT-JIDO-01")
    s.begin_frame()
    s.row(13, Label("請求日", LW), Write("filing_date", "請求日", T.DATE, 62, required=True),
          Label("性別", LW), Choice("sex", "性別", (("male", "男"), ("female", "女")), required=True))
    s.row(10, Label("フリガナ", LW), Write("claimant_kana", "フリガナ", T.KATAKANA, required=True, person_name=True))
    s.row(15, Label("請求者\n氏名", LW), Write("claimant_name", "請求者氏名", T.TEXT, 72, required=True, max_length=20,
                                                  person_name=True),
          Label("生年月日", 22), Write("birth_date", "生年月日", T.DATE, required=True))
    s.row(12, Label("郵便番号", LW), Comb("postal_code", "郵便番号", T.POSTAL, 7, groups=(3,), required=True),
          Label("電話番号", 22), Write("phone", "電話番号", T.PHONE))
    s.row(15, Label("住所", LW), Write("address", "住所", T.TEXT, required=True, max_length=60))
    s.row(12, Label("個人番号", LW), Comb("individual_number", "個人番号", T.INDIVIDUAL_NUMBER, 12,
                                          groups=(4, 8), required=True, review="double"), Note())
    pensions = (("kosei", "厚生年金"), ("kokumin", "国民年金"), ("kyosai", "共済組合"))
    s.row(12, Label("加入年金", LW), Choice("pension", "加入している年金", pensions, required=True))
    s.row(13, Label("前年の所得", LW), Write("annual_income", "前年の所得額", T.AMOUNT, 72, suffix="円"),
          Label("配偶者氏名", 22), Write("spouse_name", "配偶者氏名", T.TEXT, max_length=20, person_name=True))
    s.row(7, Note("支給対象となる児童（養育している18歳到達後最初の3月31日までの児童）", size=2.8))
    s.row(10, Label("児童フリガナ", LW), Write("child_kana", "児童フリガナ", T.KATAKANA, required=True, person_name=True))
    s.row(14, Label("児童氏名", LW), Write("child_name", "児童氏名", T.TEXT, 72, required=True, max_length=20,
                                                person_name=True),
          Label("生年月日", 22), Write("child_birth_date", "児童生年月日", T.DATE, required=True))
    s.row(12, Label("同居", LW), Check("child_lives_with", "児童と同居している", "請求者と同居している", 66),
          Check("child_supported", "監護・生計同一", "監護し生計を同じくしている"))
    s.row(7, Note("振込先口座（請求者名義）", size=2.8))
    s.row(13, Label("金融機関", LW), Write("bank_name", "金融機関名", T.TEXT, 60, max_length=20),
          Label("口座種別", 20), Choice("account_type", "口座種別", (("futsu", "普通"), ("toza", "当座"))))
    s.row(12, Label("口座番号", LW), Comb("account_number", "口座番号", T.DIGITS, 7, required=True),
          Note("※通帳の口座番号（7桁）を右詰めで記入"))
    s.end_frame()
    s.rule("before", "birth_date", "filing_date", message="生年月日は請求日より前")
    s.rule("before", "child_birth_date", "filing_date", message="児童の生年月日は請求日より前")
    _notes(s, ("太枠内を黒のボールペンで記入してください。所得額は前年1月〜12月の所得を記入してください。",
               "児童が2人以上いるときは、別紙に記入してください。",
               "加入年金・口座種別は該当するものを○で囲んでください。"))
    s.office_box(250.0, ("受付", "審査", "決定", "入力"))
    return s


def inkan() -> Sheet:
    s = Sheet("inkan", "印鑑登録申請書")
    _header(s, "印 鑑 登 録 申 請 書", "様式第1号（柿取市印鑑条例第3条）", "KKT-INKAN-01")
    s.begin_frame()
    s.row(13, Label("申請日", LW), Write("filing_date", "申請日", T.DATE, 62, required=True),
          Label("申請者", LW), Choice("applicant", "申請者", (("self", "本人"), ("agent", "代理人")), required=True))
    s.row(10, Label("フリガナ", LW), Write("name_kana", "フリガナ", T.KATAKANA, required=True, person_name=True))
    s.row(16, Label("登録者\n氏名", LW), Write("name", "登録者氏名", T.TEXT, 82, required=True, max_length=20, person_name=True),
          Label("性別", 16), Choice("sex", "性別", (("male", "男"), ("female", "女")), required=True))
    s.row(13, Label("生年月日", LW), Write("birth_date", "生年月日", T.DATE, 62, required=True),
          Label("電話番号", LW), Write("phone", "電話番号", T.PHONE))
    s.row(12, Label("郵便番号", LW), Comb("postal_code", "郵便番号", T.POSTAL, 7, groups=(3,), required=True),
          Note("※住民登録のある住所"))
    s.row(16, Label("住所", LW), Write("address", "住所", T.TEXT, required=True, max_length=60))
    s.row(13, Label("本人確認", LW), Choice("id_method", "本人確認の方法", (("card", "マイナンバーカード"),
                                                                  ("license", "運転免許証"), ("passport", "旅券"),
                                                                  ("guarantor", "保証書")), required=True))
    s.row(12, Label("免許証番号", LW), Comb("license_number", "運転免許証番号", T.DIGITS, 12, groups=(4, 8)), Note())
    s.row(7, Note("保証人（本市で印鑑登録をしている方）", size=2.8))
    s.row(14, Label("保証人氏名", LW), Write("guarantor_name", "保証人氏名", T.TEXT, 72, max_length=20, person_name=True),
          Label("登録番号", 22), Comb("guarantor_seal_number", "保証人の印鑑登録番号", T.DIGITS, 6))
    s.row(12, Label("代理人", LW), Write("agent_name", "代理人氏名", T.TEXT, 72, max_length=20, person_name=True),
          Label("委任状", 22), Check("power_of_attorney", "委任状あり", "添付あり"))
    s.row(12, Label("確認", LW),
          Check("sworn", "記載内容に相違ない", "上記のとおり申請します。記載内容に相違ありません。"))
    s.row(36, Label("登録する\n印鑑", LW), Note("（枠内に鮮明に押印してください）", 60), Note())
    s.end_frame()
    s.rule("before", "birth_date", "filing_date", message="生年月日は申請日より前")
    _notes(s, ("太枠内を黒のボールペンで記入してください。登録できる印鑑は1人1個です。",
               "本人確認・申請者は該当するものを○で囲んでください。",
               "運転免許証で確認するときは、その番号（12桁）を記入してください。"))
    s.office_box(250.0, ("受付", "確認", "登録", "交付"))
    return s


def _header(s: Sheet, title: str, kind: str, form_id: str) -> None:
    s.y = 17.0
    s.text(LEFT_MM + 2.0, kind, 2.6, dy=0)
    s.text(RIGHT_MM - 2.0, form_id, 2.6, "r", dy=6.0)
    s.text((LEFT_MM + RIGHT_MM) / 2, title, 7.5, "m", bold=True, dy=11.0)
    s.text(LEFT_MM + 2.0, f"（あて先）{CITY}長", 3.4, dy=0)
    s.text(RIGHT_MM - 2.0, "次のとおり届け出ます。", 3.0, "r", dy=7.0)


def _notes(s: Sheet, lines: tuple[str, ...]) -> None:
    s.gap(3.0)
    s.text(LEFT_MM + 1.0, "（記入上の注意）", 2.8)
    for line in lines:
        s.text(LEFT_MM + 3.0, f"※ {line}", 2.6)


DESIGNS: dict[str, Callable[[], Sheet]] = {"juminido": juminido, "jidoteate": jidoteate, "inkan": inkan}
