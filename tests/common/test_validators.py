"""Input validators: canonical output and exact Chinese messages (no database)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from shebao.common import validators as v
from shebao.common.idgen import make_resident_id
from shebao.reference.models import IdType
from tests.strategies import REFERENCE_TODAY, birth_dates, division_codes, resident_id_bodies, valid_resident_ids

TODAY = REFERENCE_TODAY  # 2025-12-31
PROPERTY = settings(deadline=None, database=None, max_examples=200)

HALF_WIDTH = "请使用半角数字（不要使用全角）"
HALF_WIDTH_CHARS = "请使用半角数字和字母（不要使用全角）"
LENGTH_18 = "证件号码应为18位，请核对"
FORMAT_18 = "证件号码应为18位数字，最后一位可以是字母X，请核对"
BIRTH = "证件号码中的出生日期不正确，请核对"
RESIDENT_CHECKSUM = "身份证号码校验位不正确，请核对后重新输入"
OTHER_CHECKSUM = "证件号码校验位不正确，请核对后重新输入"


def _error(func, *args, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        func(*args, **kwargs)
    return info.value


def _id(id_type: str, value: str) -> str:
    return v.validate_id_number(id_type, value, today=TODAY)


# ---------------------------------------------------------------- fixtures' own sanity
def test_id_types_mirror_the_model_choices():
    assert v.ID_TYPES == set(IdType.values)
    assert (v.RESIDENT_ID, v.HK_MO_RESIDENCE, v.TW_RESIDENCE, v.HK_MO_PERMIT, v.TW_PERMIT, v.FOREIGN_PR, v.PASSPORT) == (
        IdType.RESIDENT_ID,
        IdType.HK_MO_RESIDENCE,
        IdType.TW_RESIDENCE,
        IdType.HK_MO_PERMIT,
        IdType.TW_PERMIT,
        IdType.FOREIGN_PR,
        IdType.PASSPORT,
    )


@pytest.mark.parametrize(
    "first17,expected",
    [
        ("11010519491231002", "X"),  # GB 11643 example
        ("45010219850601123", "2"),
        ("45010220260101123", "X"),
        ("81000019900701456", "3"),
        ("94515619800101123", "7"),
        ("45010219850230123", "2"),
    ])
def test_check_char_matches_gb11643_and_stdnum(first17, expected):
    assert v.id18_check_char(first17) == expected
    assert ric.calc_check_digit(first17 + "0") == expected  # independent implementation


@pytest.mark.parametrize("bad", ["1101051949123100", "110105194912310021", "1101051949123100Ａ", "११०१०५१९४९१२३१००२"])
def test_check_char_refuses_anything_but_17_ascii_digits(bad):
    with pytest.raises(ValueError):
        v.id18_check_char(bad)


def test_make_resident_id_defaults_and_arguments():
    assert make_resident_id() == "450102198506011232"
    assert make_resident_id(division_code="110105", birth=dt.date(1949, 12, 31), seq=2) == "11010519491231002X"
    assert make_resident_id(division_code="810000", birth=dt.date(1990, 7, 1), seq=456) == "810000199007014563"


@pytest.mark.parametrize(
    "kwargs",
    [{"division_code": "45010"}, {"division_code": "4501０2"}, {"seq": -1}, {"seq": 1000}, {"birth": dt.date(999, 1, 1)}])
def test_make_resident_id_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        make_resident_id(**kwargs)


# ---------------------------------------------------------------- 201 居民身份证
@pytest.mark.parametrize(
    "raw,canonical",
    [
        ("11010519491231002X", "11010519491231002X"),
        ("11010519491231002x", "11010519491231002X"),  # lower-case x upper-cased
        ("11010519491231002X\n", "11010519491231002X"),  # trailing newline stripped
        ("  11010519491231002x\t", "11010519491231002X"),
        ("\u300011010519491231002X\u3000", "11010519491231002X"),  # ideographic spaces around
        ("450102198506011232", "450102198506011232"),
        ("45010219850601007x", "45010219850601007X"),
        ("450102190001010019", "450102190001010019"),  # born 1900-01-01, the floor
        ("450102202512310027", "450102202512310027"),  # born today
        ("450102200002290880", "450102200002290880"),  # 29 February of a leap year
        # Address codes that did not exist in the birth year (the code is the one at
        # issue time): python-stdnum's get_birth_place refuses these, we accept them.
        ("450102197001011232", "450102197001011232"),  # 兴宁区 code from 1983, born 1970
        ("110112198001012314", "110112198001012314"),  # 通州区 code from 1997, born 1980
        ("440524196005050128", "440524196005050128"),  # 潮阳县, code abolished in 1993
        ("450171198506011235", "450171198506011235"),  # county not listed, prefecture 450100 is
    ])
def test_resident_id_valid(raw, canonical):
    assert _id("201", raw) == canonical
    assert _id(IdType.RESIDENT_ID, raw) == canonical  # the enum member works too


def test_stdnum_alone_would_refuse_valid_historic_numbers():
    """Why the address-code check falls back: stdnum checks the code against the birth year."""
    assert ric.is_valid("450102198506011232")
    assert not ric.is_valid("450102197001011232")
    assert not ric.is_valid("110112198001012314")


@pytest.mark.parametrize(
    "raw,message,code",
    [
        ("", "请输入证件号码", "required"),
        ("   \n", "请输入证件号码", "required"),
        ("4501０２198506011232", HALF_WIDTH, "full_width"),
        ("１１０１０５１９４９１２３１００２Ｘ", HALF_WIDTH, "full_width"),
        ("1１０１０５１９４９１２３１００２X", HALF_WIDTH, "full_width"),  # passes \d and the checksum!
        ("45010219850601123٢", HALF_WIDTH, "full_width"),  # Arabic-Indic digit
        ("11010519491231002Ｘ", HALF_WIDTH_CHARS, "full_width"),
        ("110105 19491231002X", "证件号码中不能有空格，请连续输入", "format"),
        ("11010519491231002\nX", "证件号码中不能有空格，请连续输入", "format"),
        ("11010519491231002X号", "证件号码只能包含数字和字母，请核对", "format"),
        ("110105491231002", "您输入的是15位旧版身份证号码，请输入18位居民身份证号码", "legacy_15"),
        ("11010519491231002", LENGTH_18, "length"),
        ("11010519491231002X1", LENGTH_18, "length"),
        ("11010519491231002Y", FORMAT_18, "format"),
        ("1101051949123100X2", FORMAT_18, "format"),
        ("110105-19491231-02", FORMAT_18, "format"),
        ("110105194912310021", RESIDENT_CHECKSUM, "checksum"),  # wrong check digit
        ("11010519491231020X", RESIDENT_CHECKSUM, "checksum"),  # adjacent digits swapped
        ("45010220260101123X", BIRTH, "birth_date"),  # born 2026-01-01, after today
        ("450102189912311236", BIRTH, "birth_date"),  # born 1899
        ("440524188001010014", BIRTH, "birth_date"),  # the textbook 1880 example
        ("450102198502301232", BIRTH, "birth_date"),  # 30 February
        ("450102198513011230", BIRTH, "birth_date"),  # month 13
        ("450102198500001236", BIRTH, "birth_date"),  # month 00
        ("990102198506011238", "身份证号码前两位（省份代码）不正确，请核对", "province"),
        ("100102198506011232", "身份证号码前两位（省份代码）不正确，请核对", "province"),
        ("710000198506011238", "身份证号码前两位（省份代码）不正确，请核对", "province"),
        ("459999198506011233", "身份证号码前6位（地址码）不正确，请核对", "address_code"),
        ("145156198001011238", "身份证号码前6位（地址码）不正确，请核对", "address_code"),
        # a valid number of another document chosen under the wrong type
        ("810000199007014563", "这是港澳居民居住证号码，请将证件类型选为“港澳居民居住证”", "wrong_type"),
        ("820000199912200085", "这是港澳居民居住证号码，请将证件类型选为“港澳居民居住证”", "wrong_type"),
        ("830000198803037773", "这是台湾居民居住证号码，请将证件类型选为“台湾居民居住证”", "wrong_type"),
        ("945156198001011237", "这是外国人永久居留身份证号码，请将证件类型选为“外国人永久居留身份证”", "wrong_type"),
        ("810000202603011232", "身份证号码前两位（省份代码）不正确，请核对", "province"),  # not a valid permit either
    ])
def test_resident_id_invalid(raw, message, code):
    err = _error(_id, "201", raw)
    assert err.messages == [message]
    assert err.code == code


def test_full_width_number_with_valid_checksum_is_refused_not_converted():
    raw = "1１０１０５１９４９１２３１００２X"
    assert int(raw[:17]) == 11010519491231002  # what int() and \d would let through
    assert _error(_id, "201", raw).messages == [HALF_WIDTH]


def test_birth_date_bounds_follow_today():
    number = make_resident_id(birth=dt.date(2026, 1, 1))
    assert _error(v.validate_id_number, "201", number, today=dt.date(2025, 12, 31)).code == "birth_date"
    assert v.validate_id_number("201", number, today=dt.date(2026, 1, 1)) == number


def test_today_is_required():
    with pytest.raises(TypeError):
        v.validate_id_number("201", "11010519491231002X")  # type: ignore[call-arg]


@pytest.mark.parametrize("id_type", ["", "999", "resident_id", None, "2O1"])
def test_unknown_id_type(id_type):
    err = _error(_id, id_type, "11010519491231002X")
    assert err.messages == ["请选择证件类型"]
    assert err.code == "id_type"


# ---------------------------------------------------------------- 237 / 238 居住证
@pytest.mark.parametrize(
    "id_type,raw,canonical",
    [
        ("237", "810000199007014563", "810000199007014563"),  # Hong Kong
        ("237", "820000199912200085\n", "820000199912200085"),  # Macau
        ("237", "81000019900701001x", "81000019900701001X"),
        ("238", "830000198803037773", "830000198803037773"),  # Taiwan
    ])
def test_residence_permit_valid(id_type, raw, canonical):
    assert _id(id_type, raw) == canonical


@pytest.mark.parametrize(
    "id_type,raw,message,code",
    [
        ("237", "830000198803037773", "港澳居民居住证号码应以810000（香港）或820000（澳门）开头，请核对", "address_code"),
        ("237", "450102198506011232", "港澳居民居住证号码应以810000（香港）或820000（澳门）开头，请核对", "address_code"),
        ("238", "810000199007014563", "台湾居民居住证号码应以830000开头，请核对", "address_code"),
        ("238", "710000198506011238", "台湾居民居住证号码应以830000开头，请核对", "address_code"),
        ("237", "810000199007014564", OTHER_CHECKSUM, "checksum"),
        ("237", "810000202603011232", BIRTH, "birth_date"),  # future
        ("237", "810000199002304561", BIRTH, "birth_date"),  # 30 February
        ("237", "810000900701456", LENGTH_18, "length"),  # 15 digits: no legacy form for permits
        ("238", "83000019880303777", LENGTH_18, "length"),
        ("238", "8300001988030377７3", HALF_WIDTH, "full_width"),
        ("238", "83000019880303777Z", FORMAT_18, "format"),
    ])
def test_residence_permit_invalid(id_type, raw, message, code):
    err = _error(_id, id_type, raw)
    assert err.messages == [message]
    assert err.code == code


# ---------------------------------------------------------------- 208 外国人永久居留身份证
@pytest.mark.parametrize(
    "raw,canonical",
    [
        ("945156198001011237", "945156198001011237"),  # 2023 edition
        ("91184019750808042x", "91184019750808042X"),
        ("94515619800101004X", "94515619800101004X"),
        ("USA123456789012", "USA123456789012"),  # 2017 edition
        ("can123456789012", "CAN123456789012"),
    ])
def test_foreign_pr_valid(raw, canonical):
    assert _id("208", raw) == canonical


@pytest.mark.parametrize(
    "raw,message,code",
    [
        ("145156198001011238", "2023年版外国人永久居留身份证号码以数字9开头，请核对", "format"),
        ("450102198506011232", "2023年版外国人永久居留身份证号码以数字9开头，请核对", "format"),
        ("945156198001011238", OTHER_CHECKSUM, "checksum"),
        ("945156202603011233", BIRTH, "birth_date"),
        ("9451561980010112X7", FORMAT_18, "format"),
        ("US1234567890123", "2017年版外国人永久居留身份证号码应为3位英文字母加12位数字，请核对", "format"),
        ("USA12345678901X", "2017年版外国人永久居留身份证号码应为3位英文字母加12位数字，请核对", "format"),
        ("USA1234567890", "外国人永久居留身份证号码应为18位（2023年版）或15位（2017年版），请核对", "length"),
        ("9451561980010112371", "外国人永久居留身份证号码应为18位（2023年版）或15位（2017年版），请核对", "length"),
        ("ＵＳＡ123456789012", HALF_WIDTH_CHARS, "full_width"),
    ])
def test_foreign_pr_invalid(raw, message, code):
    err = _error(_id, "208", raw)
    assert err.messages == [message]
    assert err.code == code


# ---------------------------------------------------------------- 233 / 210 / 227
@pytest.mark.parametrize(
    "id_type,raw,canonical",
    [
        ("233", "H12345678", "H12345678"),
        ("233", "M1234567890", "M1234567890"),  # newer 10-digit form
        ("233", " h12345678\n", "H12345678"),
        ("210", "12345678", "12345678"),
        ("210", "01234567\n", "01234567"),
        ("227", "E12345678", "E12345678"),
        ("227", "g1234567", "G1234567"),
        ("227", "123456789", "123456789"),
        ("227", "AB123", "AB123"),
        ("227", "A1234567890123456", "A1234567890123456"),  # 17
    ])
def test_other_documents_valid(id_type, raw, canonical):
    assert _id(id_type, raw) == canonical


HK_MO_PERMIT_FORMAT = "港澳居民来往内地通行证号码应为字母H或M加8位或10位数字，请核对"
TW_PERMIT_FORMAT = "台湾居民来往大陆通行证号码应为8位数字，请核对"
PASSPORT_FORMAT = "护照号码应为5至17位英文字母或数字，请核对"


@pytest.mark.parametrize(
    "id_type,raw,message",
    [
        ("233", "H1234567", HK_MO_PERMIT_FORMAT),
        ("233", "H123456789", HK_MO_PERMIT_FORMAT),  # 9 digits
        ("233", "H12345678901", HK_MO_PERMIT_FORMAT),
        ("233", "A12345678", HK_MO_PERMIT_FORMAT),
        ("233", "12345678", HK_MO_PERMIT_FORMAT),
        ("233", "H1234567８", HALF_WIDTH),
        ("210", "1234567", TW_PERMIT_FORMAT),
        ("210", "123456789", TW_PERMIT_FORMAT),
        ("210", "1234567A", TW_PERMIT_FORMAT),
        ("210", "12345678(1)", TW_PERMIT_FORMAT),
        ("227", "AB12", PASSPORT_FORMAT),
        ("227", "A12345678901234567", PASSPORT_FORMAT),  # 18
        ("227", "E1234-5678", PASSPORT_FORMAT),
        ("227", "ABCDEFG", "护照号码中应含有数字，请核对"),
        ("227", "", "请输入证件号码"),
    ])
def test_other_documents_invalid(id_type, raw, message):
    assert _error(_id, id_type, raw).messages == [message]


# ---------------------------------------------------------------- birth_date_from_id
@pytest.mark.parametrize(
    "id_type,canonical,expected",
    [
        ("201", "11010519491231002X", dt.date(1949, 12, 31)),
        ("237", "810000199007014563", dt.date(1990, 7, 1)),
        ("238", "830000198803037773", dt.date(1988, 3, 3)),
        ("208", "945156198001011237", dt.date(1980, 1, 1)),
        (IdType.RESIDENT_ID, "450102200002290880", dt.date(2000, 2, 29)),
        ("208", "USA123456789012", None),
        ("233", "H12345678", None),
        ("227", "E12345678", None),
        ("201", "450102198502301232", None),  # 30 February
        ("201", "110105491231002", None),
        ("201", "１１０１０５１９４９１２３１００２X", None),
        ("201", "", None),
    ])
def test_birth_date_from_id(id_type, canonical, expected):
    assert v.birth_date_from_id(id_type, canonical) == expected


# ---------------------------------------------------------------- properties of 18-digit numbers
@PROPERTY
@given(body=resident_id_bodies())
def test_exactly_one_check_char_makes_a_valid_number(body):
    accepted = []
    for ch in "0123456789X":
        try:
            accepted.append(_id("201", body + ch)[-1])
        except ValidationError as exc:
            assert exc.code == "checksum"
    assert accepted == [ric.calc_check_digit(body + "0")]


@PROPERTY
@given(number=valid_resident_ids())
def test_any_single_substitution_is_detected(number):
    assert _id("201", number) == number
    for i in range(18):
        for ch in "0123456789X":
            if ch == number[i]:
                continue
            changed = number[:i] + ch + number[i + 1 :]
            with pytest.raises(ValidationError):
                _id("201", changed)


@PROPERTY
@given(number=valid_resident_ids())
def test_any_adjacent_transposition_is_detected(number):
    for i in range(17):
        if number[i] == number[i + 1]:
            continue
        swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
        with pytest.raises(ValidationError):
            _id("201", swapped)


@PROPERTY
@given(code=division_codes(), birth=birth_dates(), seq=st.integers(0, 999))
def test_make_resident_id_always_validates(code, birth, seq):
    number = make_resident_id(division_code=code, birth=birth, seq=seq)
    assert _id("201", number) == number
    assert _id("201", f" {number.lower()}\n") == number
    assert v.birth_date_from_id("201", number) == birth


@PROPERTY
@given(number=valid_resident_ids(), data=st.data())
def test_any_non_ascii_digit_is_refused(number, data):
    i = data.draw(st.integers(0, 16))
    zero = data.draw(st.sampled_from([0xFF10, 0x0660, 0x06F0, 0x0966, 0x1D7CE]))  # full-width, Arabic, Persian, Devanagari, math
    changed = number[:i] + chr(zero + int(number[i])) + number[i + 1 :]
    assert _error(_id, "201", changed).messages == [HALF_WIDTH]


@PROPERTY
@given(id_type=st.sampled_from(sorted(v.ID_TYPES)), raw=st.text(max_size=40))
def test_id_number_never_crashes_and_output_is_canonical_ascii(id_type, raw):
    try:
        out = _id(id_type, raw)
    except ValidationError as exc:
        assert exc.code
        return
    assert out == out.strip() and out.isascii() and out == out.upper() and out.isalnum()


# ---------------------------------------------------------------- mobile
MOBILE = "手机号码格式不正确，请输入11位手机号码"


@pytest.mark.parametrize(
    "raw,canonical",
    [
        ("13812345678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("0086 138 1234 5678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        (" 13812345678\n", "13812345678"),
        ("19912345678", "19912345678"),
        ("17012345678", "17012345678"),  # virtual operator range, MOBILE per phonenumbers
    ])
def test_mobile_valid(raw, canonical):
    assert v.validate_mobile(raw) == canonical


@pytest.mark.parametrize(
    "raw,message",
    [
        ("", "请输入手机号码"),
        ("12345678901", MOBILE),
        ("10012345678", MOBILE),
        ("1381234567", MOBILE),
        ("138123456789", MOBILE),
        ("１３８１２３４５６７８", HALF_WIDTH),  # phonenumbers alone would accept this
        ("138１2345678", HALF_WIDTH),
        ("+852 9123 4567", MOBILE),  # Hong Kong mobile
        ("+1 202 555 0123", MOBILE),
        ("+13812345678", MOBILE),
        ("010-12345678", MOBILE),  # Beijing fixed line
        ("138--1234-5678", MOBILE),
        ("138 1234 5678 ext 1", MOBILE),
        ("(+86)13812345678", MOBILE),
        ("1381234567８", HALF_WIDTH),
        ("138-CALL-ME", MOBILE),
    ])
def test_mobile_invalid(raw, message):
    err = _error(v.validate_mobile, raw)
    assert err.messages == [message]


@PROPERTY
@given(raw=st.text(alphabet="0123456789 +-８", max_size=20))
def test_mobile_output_is_always_11_ascii_digits(raw):
    try:
        out = v.validate_mobile(raw)
    except ValidationError:
        return
    assert len(out) == 11 and out.isascii() and out.isdigit() and out[0] == "1" and out[1] in "3456789"


# ---------------------------------------------------------------- names
@pytest.mark.parametrize(
    "raw,canonical",
    [
        ("张三", "张三"),
        (" 李四\n", "李四"),
        ("欧阳娜娜", "欧阳娜娜"),
        ("阿卜杜·热合曼", "阿卜杜·热合曼"),
        ("爱新觉罗・溥仪", "爱新觉罗·溥仪"),  # U+30FB canonicalised to U+00B7
        ("买买提•艾力", "买买提·艾力"),  # U+2022
        ("买买提．艾力", "买买提·艾力"),  # U+FF0E
        ("买买提‧艾力", "买买提·艾力"),  # U+2027
        ("买买提\u0387艾力", "买买提·艾力"),  # Greek ano teleia
        ("𠮷田", "𠮷田"),  # Extension B (supplementary plane)
        ("刘䶮", "刘䶮"),  # Extension A
        ("王\U00030000", "王\U00030000"),  # Extension G
        ("JOHN SMITH", "JOHN SMITH"),
        ("Maria Garcia Lopez", "Maria Garcia Lopez"),
        ("约翰·SMITH", "约翰·SMITH"),
        ("A" * 30, "A" * 30),
        # issue 8 "legitimate names are refused": longer than 30, -, ', 〇
        ("A" * 60, "A" * 60),
        ("阿卜杜热合曼·买买提艾力·阿不都克里木·吐尔逊江·艾合买提江·努尔麦麦提·阿布都热西提·热合曼", None),
        ("李〇", "李〇"),
        ("〇〇华", "〇〇华"),
        ("Jean-Pierre Martin", "Jean-Pierre Martin"),
        ("O'Brien", "O'Brien"),
        ("阿依古丽-买买提", "阿依古丽-买买提"),
        ("Mary-Ann O'Neil", "Mary-Ann O'Neil"),
    ])
def test_person_name_valid(raw, canonical):
    assert v.validate_person_name(raw) == (raw if canonical is None else canonical)


NAME_CHARS = "姓名只能包含汉字、“〇”、字母、间隔号“·”、连字符“-”和撇号“'”"
NAME_JOINER = "连字符“-”和撇号“'”只能用在姓名中间，不能在开头或结尾，也不能连续使用"
NAME_DOT = "间隔号“·”不能在姓名的开头或结尾，也不能连续使用"
NAME_SPACE = "姓名中的空格只能用于分隔外文姓名的单词，且不能连续使用"


@pytest.mark.parametrize(
    "raw,message,code",
    [
        ("", "姓名不能为空", "required"),
        (" \u3000\n", "姓名不能为空", "required"),
        ("张", "姓名长度应为2至60个字", "length"),
        ("A" * 61, "姓名长度应为2至60个字", "length"),
        ("-张三", NAME_JOINER, "joiner"),
        ("张三-", NAME_JOINER, "joiner"),
        ("'Brien", NAME_JOINER, "joiner"),
        ("OBrien'", NAME_JOINER, "joiner"),
        ("Jean--Pierre", NAME_JOINER, "joiner"),
        ("O''Brien", NAME_JOINER, "joiner"),
        ("O'-Brien", NAME_JOINER, "joiner"),
        ("约翰·-SMITH", NAME_JOINER, "joiner"),
        ("JOHN -SMITH", NAME_JOINER, "joiner"),
        ("张三‐李", NAME_CHARS, "chars"),  # Unicode hyphen: only the ASCII one
        ("O’Brien", NAME_CHARS, "chars"),  # curly apostrophe: only the ASCII one
        ("张3", NAME_CHARS, "chars"),
        ("张３", NAME_CHARS, "chars"),
        ("张三!", NAME_CHARS, "chars"),
        ("张_三", NAME_CHARS, "chars"),
        ("张三<script>", NAME_CHARS, "chars"),
        ("张三\n李四", NAME_CHARS, "chars"),
        ("张\u200b三", NAME_CHARS, "chars"),  # zero-width space
        ("Zoë Li", NAME_CHARS, "chars"),  # only ASCII Latin letters
        ("阿卜杜.热合曼", NAME_CHARS, "chars"),  # ASCII full stop is not a middle dot
        ("·张三", NAME_DOT, "dot"),
        ("张三·", NAME_DOT, "dot"),
        ("・张三", NAME_DOT, "dot"),
        ("阿卜杜··热合曼", NAME_DOT, "dot"),
        ("阿卜杜・·热合曼", NAME_DOT, "dot"),
        ("张 三", NAME_SPACE, "space"),
        ("JOHN  SMITH", NAME_SPACE, "space"),
        ("JOHN ·SMITH", NAME_SPACE, "space"),
    ])
def test_person_name_invalid(raw, message, code):
    err = _error(v.validate_person_name, raw)
    assert err.messages == [message]
    assert err.code == code


@PROPERTY
@given(raw=st.text(max_size=70))
def test_person_name_output_has_no_look_alike_dots_or_edges(raw):
    try:
        out = v.validate_person_name(raw)
    except ValidationError:
        return
    assert 2 <= len(out) <= 60
    assert not set(out) & set("\u30fb\u2022\uff0e\u2027\u0387\uff65")
    assert out[0] not in "· -'" and out[-1] not in "· -'"


# ---------------------------------------------------------------- passwords
ID = "11010519491231002X"
PHONE = "13812345678"


@pytest.mark.parametrize(
    "raw",
    ["abc12345", "Abcdefg!", "12345678!", "!@#$%^&a", "A1" * 16, "p@ssw0rd-for-shebao", "1102X-abc"])
def test_password_valid_is_returned_unchanged(raw):
    assert v.validate_password(raw, id_number=ID, mobile=PHONE) == raw


@pytest.mark.parametrize(
    "raw,message,code",
    [
        ("", "请输入密码", "required"),
        ("abc 12345", "密码不能包含空格", "whitespace"),
        (" abc12345", "密码不能包含空格", "whitespace"),
        ("abc12345\n", "密码不能包含空格", "whitespace"),
        ("密码abc12345", "密码只能使用半角字母、数字和符号（不要使用全角或汉字）", "chars"),
        ("ａｂｃ12345", "密码只能使用半角字母、数字和符号（不要使用全角或汉字）", "chars"),
        ("abc1234", "密码长度应为8至32位", "length"),
        ("A1" * 16 + "x", "密码长度应为8至32位", "length"),
        ("abcdefgh", "密码须包含字母、数字、符号中的至少两种", "too_simple"),
        ("87654321", "密码须包含字母、数字、符号中的至少两种", "too_simple"),
        ("!!!!!!!!", "密码须包含字母、数字、符号中的至少两种", "too_simple"),
        (ID, "密码不能与证件号码相同或包含证件号码", "contains_id"),
        ("11010519491231002x", "密码不能与证件号码相同或包含证件号码", "contains_id"),
        ("ab11010519491231002X!", "密码不能与证件号码相同或包含证件号码", "contains_id"),
        ("1231002X", "密码不能与证件号码相同或包含证件号码", "contains_id"),  # last 8 of the ID
        ("491231002x", "密码不能与证件号码相同或包含证件号码", "contains_id"),  # last 10
        (PHONE, "密码不能与手机号码相同或包含手机号码", "contains_mobile"),
        ("a13812345678", "密码不能与手机号码相同或包含手机号码", "contains_mobile"),
    ])
def test_password_invalid(raw, message, code):
    err = _error(v.validate_password, raw, id_number=ID, mobile=PHONE)
    assert err.messages == [message]
    assert err.code == code


def test_password_identity_rules_apply_only_when_given():
    assert v.validate_password(ID) == ID
    assert v.validate_password("a13812345678") == "a13812345678"


# ---------------------------------------------------------------- SMS code
@pytest.mark.parametrize("raw,canonical", [("123456", "123456"), (" 012345 ", "012345"), ("000000\n", "000000")])
def test_sms_code_valid(raw, canonical):
    assert v.validate_sms_code(raw) == canonical


@pytest.mark.parametrize(
    "raw,message",
    [
        ("", "请输入6位数字验证码"),
        ("12345", "请输入6位数字验证码"),
        ("1234567", "请输入6位数字验证码"),
        ("12345a", "请输入6位数字验证码"),
        ("12 3456", "请输入6位数字验证码"),
        ("123456\n7", "请输入6位数字验证码"),
        ("１２３４５６", HALF_WIDTH),
        ("١٢٣٤٥٦", HALF_WIDTH),
    ])
def test_sms_code_invalid(raw, message):
    assert _error(v.validate_sms_code, raw).messages == [message]


# ---------------------------------------------------------------- address
@pytest.mark.parametrize(
    "raw,canonical",
    [
        ("南宁市青秀区民族大道100号", "南宁市青秀区民族大道100号"),
        ("  南宁市青秀区民族大道１００号 2栋\n", "南宁市青秀区民族大道１００号 2栋"),  # free text: full-width kept
        ("南宁市兴宁", "南宁市兴宁"),  # 5
        ("路" * 120, "路" * 120),
        ("Room 3-101, 88 Minzu Ave", "Room 3-101, 88 Minzu Ave"),
    ])
def test_address_valid(raw, canonical):
    assert v.validate_address(raw) == canonical


ADDRESS_CHARS = "联系地址中有无法识别的字符（如换行），请删除后重新输入"


@pytest.mark.parametrize(
    "raw,message",
    [
        ("", "联系地址应为5至120个字"),
        ("南宁市", "联系地址应为5至120个字"),
        ("  南宁市  ", "联系地址应为5至120个字"),
        ("路" * 121, "联系地址应为5至120个字"),
        ("南宁市青秀区\n民族大道", ADDRESS_CHARS),
        ("南宁市青秀区\t民族大道", ADDRESS_CHARS),
        ("南宁市\u202e青秀区民族大道", ADDRESS_CHARS),  # right-to-left override
        ("南宁市\u200b青秀区民族大道", ADDRESS_CHARS),  # zero-width space
        ("南宁市\u2028青秀区民族大道", ADDRESS_CHARS),  # line separator
        ("<script>alert(1)</script>", "联系地址中不能包含“<”或“>”"),
        ("南宁市青秀区>民族大道", "联系地址中不能包含“<”或“>”"),
    ])
def test_address_invalid(raw, message):
    assert _error(v.validate_address, raw).messages == [message]


# ---------------------------------------------------------------- every validator: total on any text
@PROPERTY
@given(raw=st.text(max_size=130))
def test_validators_only_ever_raise_validation_error(raw):
    for func in (v.validate_mobile, v.validate_person_name, v.validate_password, v.validate_sms_code, v.validate_address):
        try:
            out = func(raw)
        except ValidationError as exc:
            assert exc.code and exc.messages
        else:
            assert out == func(out)  # canonical output is a fixed point


def test_none_is_treated_as_empty():
    assert _error(v.validate_sms_code, None).messages == ["请输入6位数字验证码"]
    assert _error(v.validate_person_name, None).messages == ["姓名不能为空"]
