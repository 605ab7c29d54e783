"""The personal-data scanner and redactor that stands between a case and anything published
(zfcommon.redaction): each kind of personal data, the office's marks, the complainant's own
identity, and the two properties the publish check relies on — redacting twice changes nothing, and
nothing is found in a redacted text."""
from __future__ import annotations

import random

import pytest

from zfcommon.redaction import (MASKS, Identity, MarkNotFound, Marks, id_card_valid, masked, redact, remaining,
                                     scan)


def with_check_digit(first17: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights)) % 11]


ID_X = "11010519491231002X"                   # GB 11643's own example, check digit X
ID_DIGIT = with_check_digit("43052219900307715")
ID_WRONG = ID_DIGIT[:-1] + str((int(ID_DIGIT[-1]) + 1) % 10) if ID_DIGIT[-1] != "X" else ID_DIGIT[:-1] + "0"


def kinds(text: str, who: Identity | None = None) -> list[tuple[str, str]]:
    return [(f.kind, f.value) for f in scan(text, who)]


def text_of(text: str, who: Identity | None = None, marks: Marks = Marks()) -> str:
    return redact({"text": text}, who, marks).fields["text"]


# --- phone numbers -------------------------------------------------------------------------------

@pytest.mark.parametrize("written", ["13807391234", "138 0739 1234", "138-0739-1234", "+86 138 0739 1234",
                                     "+8613807391234", "86-13807391234", "１３８０７３９１２３４", "１３８－０７３９－１２３４"])
def test_a_mobile_number_is_found_however_it_is_written(written):
    assert kinds(f"电话{written}。") == [("mobile", written)]
    assert "〔电话已隐去〕" in text_of(f"电话{written}。") and not any(c.isdigit() for c in text_of(f"电话{written}"))


@pytest.mark.parametrize("written", ["0739-5221234", "(0739)5221234", "（0739）5221234", "010 65123456", "07395221234"])
def test_a_landline_with_its_area_code_is_found(written):
    assert kinds(f"座机{written}") == [("landline", written)]


@pytest.mark.parametrize("text", ["12345热线", "2026年11月23日", "2026-11-23", "3号窗口", "第12期", "拨打12345",
                                  "金额12800元", "10:30", "工单SY12345-20261123-000317", "1234567890"])
def test_numbers_that_are_not_personal_stay(text):
    assert scan(text) == [] and text_of(text) == text


def test_a_number_inside_a_longer_number_is_not_a_phone():
    assert kinds("编号213807391234X") == []


@pytest.mark.parametrize("uuid", ["19970cdb-a8c3-4eb1-b19a-a18342147367", "0e9b2f4c-1d2e-4f3a-8b7c-138073912345",
                                  "19970CDB-A8C3-4EB1-B19A-A18342147367"])
def test_an_id_written_into_a_text_keeps_its_digits(uuid):
    """A case's id in a note (并入案件 …) holds runs a phone or card pattern would take; masking them would
    break the reference, and a phone written next to it is still found."""
    text = f"已并入案件{uuid}办理，联系人电话13807391234"
    assert kinds(text) == [("mobile", "13807391234")]
    assert uuid in text_of(text)


# --- ID card numbers and other long numbers ------------------------------------------------------

def test_id_card_check_digit():
    assert id_card_valid(ID_X) and id_card_valid(ID_X.lower()) and id_card_valid(ID_DIGIT)
    assert not id_card_valid(ID_WRONG) and not id_card_valid(ID_X[:-1]) and not id_card_valid("1" * 19)


@pytest.mark.parametrize("number", [ID_X, ID_X.lower(), ID_DIGIT, ID_X[:6] + " " + ID_X[6:14] + " " + ID_X[14:]])
def test_an_id_card_number_is_found(number):
    assert kinds(f"身份证号{number}，") == [("id_card", number)]
    assert text_of(f"身份证{number}") == "身份证〔身份证号已隐去〕"


@pytest.mark.parametrize("number", [ID_WRONG, "430522900307715", "6222 0212 3456 7890 123", "6222021234567890"])
def test_any_other_long_number_is_removed_too(number):
    """An ID number with a typo, an old 15-digit one or a bank card identify a person all the same."""
    assert kinds(f"号码{number}。") == [("long_number", number)]
    assert text_of(f"号码{number}。") == "号码〔号码已隐去〕。"


# --- e-mail, accounts, dwellings, home addresses -------------------------------------------------

@pytest.mark.parametrize("email", ["li.mou@example.com", "LI_MOU+zf@mail.example.gov.cn", "ｌｉ＠ｅｘａｍｐｌｅ．ｃｏｍ"])
def test_an_email_address_is_found(email):
    assert kinds(f"邮箱{email}，") == [("email", email)]


def test_wechat_and_qq_accounts_after_their_label():
    assert kinds("微信号：wx_li2026，QQ 12345678") == [("im_account", "wx_li2026"), ("im_account", "12345678")]
    assert text_of("微信号：wx_li2026") == "微信号：〔账号已隐去〕"
    assert scan("在微信群里说") == []


def test_room_numbers_and_home_addresses_are_cut_to_the_street():
    assert text_of("家住建设路18号3栋2单元501室，") == "家住建设路〔详细地址已隐去〕，"
    assert text_of("住址：塘渡口镇建设村3组15号。") == "住址：塘渡口镇建设村〔详细地址已隐去〕。"
    assert text_of("在2栋501室门口") == "在〔门牌已隐去〕门口"
    assert text_of("3号窗口的工作人员") == "3号窗口的工作人员"


# --- names ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,name", [
    ("投诉人张三反映窗口推诿", "张三"), ("举报人王小明称多次前往", "王小明"), ("来电人：李先生，电话", "李先生"),
    ("本人李某，电话", "李某"), ("市民王女士反映", "王女士"), ("投诉人于某反映", "于某"), ("举报人向红梅说", "向红梅"),
    ("信访人欧阳小明来信", "欧阳小"), ("姓名：赵四", "赵四"), ("我叫孙悟空，", "孙悟空"),
])
def test_a_name_after_the_words_that_introduce_the_author(text, name):
    found = scan(text)
    assert [f.kind for f in found] == ["name"] and found[0].value.startswith(name[:2])
    assert name[:2] not in text_of(text) and "某某" in text_of(text)


@pytest.mark.parametrize("text", ["投诉人反映窗口推诿", "举报人称", "本人多次前往", "本人于2026年11月来电",
                                  "市民服务中心态度冷漠", "群众反映强烈", "被举报人王某某收受红包", "被投诉人李科长",
                                  "投诉人某某反映", "居民身份证", "本人在窗口排队"])
def test_words_after_a_label_that_are_no_name_stay(text):
    assert scan(text) == [] and text_of(text) == text


# --- the complainant's identity from intake ------------------------------------------------------

def test_the_complainants_own_name_phone_email_and_address_are_found_anywhere():
    who = Identity(name="李建国", phone="+86 138-0739-1234", email="Li.JG@Example.com", address="建设路18号")
    text = "李 建国多次来电（1380739 1234），邮件li.jg@example.com，在建设路18号门口。"
    assert [f.kind for f in scan(text, who)] == ["complainant_name", "complainant_phone", "complainant_email",
                                                 "complainant_address"]
    out = text_of(text, who)
    assert out == "某某多次来电（〔电话已隐去〕），邮件〔邮箱已隐去〕，在〔地址已隐去〕门口。"


def test_an_identity_from_a_contact_record():
    assert Identity.of({"name": " 李某 ", "phone": "13807391234", "email": None, "confidential": True}) == \
        Identity(name="李某", phone="13807391234")
    assert Identity.of(None) == Identity()


OUYANG = Identity(name="欧阳明远", phone="13907395678", id_number=ID_DIGIT)


@pytest.mark.parametrize("text", ["来信人欧阳明远反映", "欧阳 明远", "欧阳先生多次来电", "明远说窗口推诿", "欧 阳 明 远"])
def test_the_complainants_name_is_found_in_parts_too(text):
    out = text_of(text, OUYANG)
    assert "欧阳" not in out and "明远" not in out and "某某" in out


def test_a_one_character_surname_alone_is_masked_only_before_a_form_of_address():
    who = Identity(name="李建国")
    assert text_of("李先生说，李女士、李某也来过；李子树下", who) == "某某先生说，某某女士、某某某也来过；李子树下"
    assert text_of("建国多次来访", who) == "某某多次来访"


def test_a_latin_name_is_found_word_by_word():
    assert text_of("John Smith and Mr. smith", Identity(name="John Smith")) == "某某 and Mr. 某某"


@pytest.mark.parametrize("written", [ID_DIGIT, ID_DIGIT[:6] + " " + ID_DIGIT[6:14] + " " + ID_DIGIT[14:],
                                     "-".join(ID_DIGIT[i:i + 6] for i in range(0, 18, 6))])
def test_the_complainants_id_number_is_found_however_it_is_spaced(written):
    assert kinds(f"身份证{written}。", OUYANG) == [("complainant_id", written)]
    assert text_of(f"身份证{written}。", OUYANG) == "身份证〔身份证号已隐去〕。"


def test_the_complainants_id_number_is_found_even_with_a_wrong_check_digit():
    assert kinds(f"证件{ID_WRONG}", Identity(id_number=ID_WRONG)) == [("complainant_id", ID_WRONG)]


def test_an_id_number_from_a_contact_record():
    assert Identity.of({"name": "欧阳明远", "id_number": f" {ID_X} "}).id_number == ID_X


def test_a_bare_name_is_found_only_from_the_identity():
    assert scan("李建国多次到窗口办理") == []
    assert kinds("李建国多次到窗口办理", Identity(name="李建国")) == [("complainant_name", "李建国")]


# --- the office's marks --------------------------------------------------------------------------

def test_marked_phrases_spans_and_addresses_are_removed_in_every_field():
    fields = {"title": "城关镇张家湾村村干部吃拿卡要", "text": "城关镇张家湾村的老刘家门口，邵阳县塘渡口镇建设路18号门面。",
              "lesson": None}
    marks = Marks(phrases=("张家湾村",), spans=((10, 11),), addresses=("邵阳县塘渡口镇建设路18号",))
    out = redact(fields, marks=marks)
    assert out.fields == {"title": "城关镇〔已隐去〕村干部吃拿卡要",
                          "text": "城关镇〔已隐去〕的老刘〔已隐去〕门口，邵阳县塘渡口镇建设路〔详细地址已隐去〕门面。",
                          "lesson": None}
    assert {(r["field"], r["kind"]) for r in out.removed} == {("title", "marked"), ("text", "marked"),
                                                              ("text", "address_detail")}


def test_a_mark_that_is_not_in_the_text_is_refused_by_name():
    with pytest.raises(MarkNotFound) as exc:
        redact({"text": "窗口推诿"}, marks=Marks(phrases=("窗口", "张家湾")))
    assert (exc.value.what, exc.value.index) == ("remove", 1)
    with pytest.raises(MarkNotFound) as exc:
        redact({"text": "窗口推诿"}, marks=Marks(spans=((2, 9),)))
    assert exc.value.what == "spans"
    with pytest.raises(MarkNotFound):
        redact({"text": "窗口推诿"}, marks=Marks(addresses=("",)))


def test_what_was_removed_is_counted_never_kept():
    out = redact({"text": "本人李某，电话13807391234，13907391234"})
    assert out.removed == [{"field": "text", "kind": "mobile", "count": 2},
                           {"field": "text", "kind": "name", "count": 1}]
    assert "1380739" not in repr(out.removed) and "李某" not in repr(out.removed)


# --- the properties the publish check relies on -------------------------------------------------

def test_masks_hold_nothing_a_scan_would_find():
    for mask in MASKS.values():
        assert not any(c.isdigit() for c in mask)
        assert scan(f"投诉人{mask}反映，电话{mask}，家住{mask}") == []


PIECES = ["投诉人", "本人", "市民", "举报人：", "被举报人", "李某", "王小明", "张三", "某某", "欧阳", "明远", "先生", "反映", "称", "，", "。",
          "电话", "138", "0739", "1234", "-", " ", "+86", "@", "li", ".com", "example", "X", ID_X, "微信号", "QQ",
          "wx_2026", "家住", "建设路", "18号", "3栋", "501室", "１", "２", "〔已隐去〕", "窗口", "（", "）", "0"]


@pytest.mark.parametrize("seed", range(300))
def test_redacting_twice_changes_nothing_and_leaves_nothing_to_find(seed):
    rng = random.Random(seed)
    text = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 30)))
    who = Identity(name=rng.choice([None, "李某", "王小明", "欧阳明远"]), phone=rng.choice([None, "13807391234", "0739-1234"]),
                   id_number=rng.choice([None, ID_X]))
    once = redact({"text": text}, who).fields["text"]
    assert redact({"text": once}, who).fields["text"] == once
    assert scan(once, who) == [], (text, once)
    assert remaining({"text": once, "title": None}, who) == []


def test_remaining_names_the_field_and_the_masked_value():
    found = remaining({"title": "曝光", "text": "电话13807391234", "lesson": "本人李某"})
    assert [(f.field, f.kind, f.masked) for f in found] == [("text", "mobile", "138＊＊＊＊＊＊34"),
                                                           ("lesson", "name", "李＊")]


def test_masked_shows_too_little_to_read():
    assert masked("13807391234") == "138＊＊＊＊＊＊34" and masked("李小明") == "李＊＊" and masked("李") == "李"


IDENTITY_PIECES = PIECES + ["李", "小明", "Li", "Ming", "LI MING", "li ming", "Zhang", "欧阳明远", "明 远", "城关镇", "人民路",
                            "人民 路", "12号", "１２号", "8６", "+86 ", "138 0739 1234", "13807391234", "0739", "Li@Example.COM",
                            "li@example.com", "x", "女士", " 先生", "姓", "\u3000", "\t", "\n", "1", "2", "3", "4", "7", "8", "9"]


@pytest.mark.parametrize("seed", range(400))
def test_a_complainants_patterns_find_what_they_found_before_they_were_spared_compiling(seed, monkeypatch):
    """A pattern of the complainant's made from a value without cased letters is compiled only when
    the value can be in the text, and without ignoring case (redaction._identity_findings). The
    findings are the same as with every pattern compiled and ignoring case, the earlier way."""
    import re

    from zfcommon import redaction

    rng = random.Random(seed)
    text = "".join(rng.choice(IDENTITY_PIECES) for _ in range(rng.randint(1, 40)))
    who = Identity(name=rng.choice([None, "李某", "王小明", "李小明", "欧阳明远", "Li Ming", "li  ming"]),
                   phone=rng.choice([None, "13807391234", "+86 138-0739-1234", "0739-1234", "１３８０７３９１２３４"]),
                   email=rng.choice([None, "li@example.com", "LI@EXAMPLE.COM"]),
                   address=rng.choice([None, "城关镇人民路12号", "人民路 １２号", "Room 3, Renmin Rd"]),
                   id_number=rng.choice([None, ID_X, ID_X.lower(), "430102199003070011"]))
    spared = scan(text, who)
    with monkeypatch.context() as m:
        m.setattr(redaction, "_case", lambda value: re.IGNORECASE)    # every pattern compiled, ignoring case
        assert scan(text, who) == spared, text


@pytest.mark.parametrize("address, written", [("城关镇人民路１２号", "家在城关镇人民路12号旁边"),
                                              ("城关镇人民路12号", "家在城关镇人民路１２号旁边"),
                                              ("城关镇人民路１２号", "家在城关镇人民路 １２ 号旁边")])
def test_a_complainants_address_is_found_with_full_width_digits_on_either_side(address, written):
    found = scan(written, Identity(address=address))
    assert [f.kind for f in found] == ["complainant_address"] and "旁边" not in found[0].value


def test_a_complainants_latin_name_in_full_width_letters_is_found():
    assert [f.kind for f in scan("来信人ＬＩ　ＭＩＮＧ称", Identity(name="Li Ming"))] == ["complainant_name"]
    assert [f.kind for f in scan("来信人Li Ming称", Identity(name="ＬＩ ＭＩＮＧ"))] == ["complainant_name"]
