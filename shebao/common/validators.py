"""Input validators shared by forms and the JSON API.

Every validator takes the raw user input, canonicalises it once and returns the
canonical value, or raises :class:`django.core.exceptions.ValidationError` with a
clear Chinese message and a ``code``. Store and compare only the returned value.

Rules (docs: shared/reference/security.md §5):

* Surrounding whitespace is stripped; nothing inside is silently changed, except
  the documented canonicalisations (upper-case ASCII letters in document
  numbers, so a trailing ``x`` becomes ``X``; the middle dot variants in names).
* Full-width and other non-ASCII digits are rejected with a message asking for
  half-width digits. Python's ``\\d`` and ``int()`` accept them, so every pattern
  here uses ``[0-9]`` with ``re.ASCII`` and ``\\A…\\Z`` (``$`` also matches before a
  trailing newline).
* A check character proves only that the number was not mistyped, not that it
  belongs to the person: real-name verification goes through the authority.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache

import phonenumbers
from django.core.exceptions import ValidationError

# ------------------------------------------------------------------ ID types
# The codes of ``shebao.reference.models.IdType`` (mirrored here so this module does
# not import models; tests/common/test_validators.py keeps the two in step).
RESIDENT_ID = "201"  # 居民身份证
HK_MO_RESIDENCE = "237"  # 港澳居民居住证
TW_RESIDENCE = "238"  # 台湾居民居住证
HK_MO_PERMIT = "233"  # 港澳居民来往内地通行证
TW_PERMIT = "210"  # 台湾居民来往大陆通行证
FOREIGN_PR = "208"  # 外国人永久居留身份证
PASSPORT = "227"  # 外国护照
ID_TYPES = frozenset({RESIDENT_ID, HK_MO_RESIDENCE, TW_RESIDENCE, HK_MO_PERMIT, TW_PERMIT, FOREIGN_PR, PASSPORT})

# GB 11643 province prefixes of mainland resident ID numbers.
RESIDENT_PROVINCES = frozenset(
    f"{n}"
    for n in (
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
    )
)
HK_MO_CODES = frozenset({"810000", "820000"})
TW_CODE = "830000"
MIN_BIRTH_DATE = dt.date(1900, 1, 1)

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"

_ID18_RE = re.compile(r"\A[0-9]{17}[0-9X]\Z", re.ASCII)
_ID15_RE = re.compile(r"\A[0-9]{15}\Z", re.ASCII)
_FOREIGN_PR_2023_RE = re.compile(r"\A9[0-9]{16}[0-9X]\Z", re.ASCII)
_FOREIGN_PR_2017_RE = re.compile(r"\A[A-Z]{3}[0-9]{12}\Z", re.ASCII)
_HK_MO_PERMIT_RE = re.compile(r"\A[HM](?:[0-9]{8}|[0-9]{10})\Z", re.ASCII)
_TW_PERMIT_RE = re.compile(r"\A[0-9]{8}\Z", re.ASCII)
_PASSPORT_RE = re.compile(r"\A[A-Z0-9]{5,17}\Z", re.ASCII)
_HAS_DIGIT_RE = re.compile(r"[0-9]", re.ASCII)
_MOBILE_SHAPE_RE = re.compile(r"\A\+?[0-9]+(?:[ -][0-9]+)*\Z", re.ASCII)
_MOBILE_RE = re.compile(r"\A1[3-9][0-9]{9}\Z", re.ASCII)
_SMS_CODE_RE = re.compile(r"\A[0-9]{6}\Z", re.ASCII)

# ------------------------------------------------------------------ messages
MSG_HALF_WIDTH_DIGITS = "请使用半角数字（不要使用全角）"
MSG_HALF_WIDTH_CHARS = "请使用半角数字和字母（不要使用全角）"


def _invalid(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def _as_text(value: str | None) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError(f"expected str, got {type(value).__name__}")
    return value


def _is_non_ascii_digit(ch: str) -> bool:
    return not ch.isascii() and (ch.isdigit() or ch.isnumeric() or unicodedata.decimal(ch, None) is not None)


def _is_full_width_form(ch: str) -> bool:
    # U+FF01..U+FF5E are the full-width forms of ASCII '!'..'~' (Ｘ, ０, －, ＋ ...).
    return "\uff01" <= ch <= "\uff5e"


def _reject_non_ascii_digits(value: str) -> None:
    """Full-width / other-script digits (and full-width letters) get their own message."""
    if any(_is_non_ascii_digit(ch) for ch in value):
        raise _invalid(MSG_HALF_WIDTH_DIGITS, "full_width")
    if any(_is_full_width_form(ch) for ch in value):
        raise _invalid(MSG_HALF_WIDTH_CHARS, "full_width")


# ------------------------------------------------------------------ 18-digit numbers
def id18_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of a GB 11643 number's first 17 digits."""
    if not re.fullmatch(r"[0-9]{17}", first17, re.ASCII):
        raise ValueError("first17 must be 17 ASCII digits")
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def _birth_date(canonical: str) -> dt.date | None:
    try:
        return dt.date(int(canonical[6:10]), int(canonical[10:12]), int(canonical[12:14]))
    except ValueError:
        return None


def _check_birth_date(canonical: str, today: dt.date) -> None:
    birth = _birth_date(canonical)
    if birth is None or birth < MIN_BIRTH_DATE or birth > today:
        raise _invalid("证件号码中的出生日期不正确，请核对", "birth_date")


def _check_check_char(canonical: str, message: str) -> None:
    if id18_check_char(canonical[:17]) != canonical[17]:
        raise _invalid(message, "checksum")


@lru_cache(maxsize=4096)
def _division_code_listed(code: str) -> bool:
    """Whether python-stdnum's GB/T 2260 history lists ``code`` in any period."""
    from stdnum import numdb

    props: dict[str, str] = {}
    for _part, part_props in numdb.get("cn/loc").info(code):
        props.update(part_props)
    return "county" in props


def _address_code_ok(canonical: str) -> bool:
    """Check the 6-digit address code with ``stdnum.cn.ric``, leniently.

    ``stdnum.cn.ric.get_birth_place`` accepts a code only if it existed in the
    *birth* year, but the code on the card is the one in force when the number
    was *issued*: a person born in 1970 in 南宁市兴宁区 carries 450102 (a code
    from 1983). It also raises ``KeyError`` for a code whose province is known
    but whose county is not. So when it refuses, accept a code that the
    division-code history lists in any period, or whose prefecture (first four
    digits + ``00``) it lists; reject only codes under an unknown prefecture.
    """
    from stdnum.cn import ric
    from stdnum.exceptions import ValidationError as StdnumError

    try:
        ric.get_birth_place(canonical)
        return True
    except (StdnumError, KeyError, ValueError):
        pass
    code = canonical[:6]
    return _division_code_listed(code) or _division_code_listed(code[:4] + "00")


def _canonical_document_number(value: str) -> str:
    value = _as_text(value).strip()
    if not value:
        raise _invalid("请输入证件号码", "required")
    _reject_non_ascii_digits(value)
    if any(ch.isspace() for ch in value):
        raise _invalid("证件号码中不能有空格，请连续输入", "format")
    if not value.isascii():
        raise _invalid("证件号码只能包含数字和字母，请核对", "format")
    return value.upper()


def _validate_id18_shape(canonical: str) -> None:
    if len(canonical) != 18:
        raise _invalid("证件号码应为18位，请核对", "length")
    if not _ID18_RE.match(canonical):
        raise _invalid("证件号码应为18位数字，最后一位可以是字母X，请核对", "format")


def _validate_resident_id(v: str, today: dt.date) -> str:
    if _ID15_RE.match(v):
        raise _invalid("您输入的是15位旧版身份证号码，请输入18位居民身份证号码", "legacy_15")
    _validate_id18_shape(v)
    if v[:2] not in RESIDENT_PROVINCES:
        # A valid number of another 18-digit document chosen under the wrong type.
        # (A PR number is 9 + the province of the office that accepted it.)
        for other, label in _OTHER_ID18_TYPES:
            if other == FOREIGN_PR and v[1:3] not in RESIDENT_PROVINCES:
                continue
            try:
                validate_id_number(other, v, today=today)
            except ValidationError:
                continue
            raise _invalid(f"这是{label}号码，请将证件类型选为“{label}”", "wrong_type")
        raise _invalid("身份证号码前两位（省份代码）不正确，请核对", "province")
    _check_birth_date(v, today)
    _check_check_char(v, "身份证号码校验位不正确，请核对后重新输入")
    if not _address_code_ok(v):
        raise _invalid("身份证号码前6位（地址码）不正确，请核对", "address_code")
    return v


_OTHER_ID18_TYPES = ((HK_MO_RESIDENCE, "港澳居民居住证"), (TW_RESIDENCE, "台湾居民居住证"), (FOREIGN_PR, "外国人永久居留身份证"))


def _validate_residence_permit(v: str, today: dt.date, *, allowed: frozenset[str], message: str) -> str:
    _validate_id18_shape(v)
    if v[:6] not in allowed:
        raise _invalid(message, "address_code")
    _check_birth_date(v, today)
    _check_check_char(v, "证件号码校验位不正确，请核对后重新输入")
    return v


def _validate_foreign_pr(v: str, today: dt.date) -> str:
    if len(v) == 15:
        if not _FOREIGN_PR_2017_RE.match(v):
            raise _invalid("2017年版外国人永久居留身份证号码应为3位英文字母加12位数字，请核对", "format")
        return v
    if len(v) != 18:
        raise _invalid("外国人永久居留身份证号码应为18位（2023年版）或15位（2017年版），请核对", "length")
    if v[0] != "9":
        raise _invalid("2023年版外国人永久居留身份证号码以数字9开头，请核对", "format")
    if not _FOREIGN_PR_2023_RE.match(v):
        raise _invalid("证件号码应为18位数字，最后一位可以是字母X，请核对", "format")
    _check_birth_date(v, today)
    _check_check_char(v, "证件号码校验位不正确，请核对后重新输入")
    return v


def validate_id_number(id_type: str, value: str, *, today: dt.date) -> str:
    """Validate a document number of type ``id_type`` (an ``IdType`` code).

    Returns the canonical number (stripped, ASCII letters upper-cased). ``today``
    bounds the birth date (pass ``shebao.common.clock.today()``)."""
    id_type = "" if id_type is None else str(id_type)
    if id_type not in ID_TYPES:
        raise _invalid("请选择证件类型", "id_type")
    v = _canonical_document_number(value)
    if id_type == RESIDENT_ID:
        return _validate_resident_id(v, today)
    if id_type == HK_MO_RESIDENCE:
        return _validate_residence_permit(
            v, today, allowed=HK_MO_CODES, message="港澳居民居住证号码应以810000（香港）或820000（澳门）开头，请核对"
        )
    if id_type == TW_RESIDENCE:
        return _validate_residence_permit(
            v, today, allowed=frozenset({TW_CODE}), message="台湾居民居住证号码应以830000开头，请核对"
        )
    if id_type == FOREIGN_PR:
        return _validate_foreign_pr(v, today)
    if id_type == HK_MO_PERMIT:
        if not _HK_MO_PERMIT_RE.match(v):
            raise _invalid("港澳居民来往内地通行证号码应为字母H或M加8位或10位数字，请核对", "format")
        return v
    if id_type == TW_PERMIT:
        if not _TW_PERMIT_RE.match(v):
            raise _invalid("台湾居民来往大陆通行证号码应为8位数字，请核对", "format")
        return v
    # PASSPORT
    if not _PASSPORT_RE.match(v):
        raise _invalid("护照号码应为5至17位英文字母或数字，请核对", "format")
    if not _HAS_DIGIT_RE.search(v):
        raise _invalid("护照号码中应含有数字，请核对", "format")
    return v


def birth_date_from_id(id_type: str, canonical: str) -> dt.date | None:
    """Birth date carried by an 18-character number (resident ID, residence
    permits, 2023 PR card); ``None`` for other documents or a malformed number."""
    id_type = "" if id_type is None else str(id_type)
    canonical = canonical or ""
    if id_type in (RESIDENT_ID, HK_MO_RESIDENCE, TW_RESIDENCE) and _ID18_RE.match(canonical):
        return _birth_date(canonical)
    if id_type == FOREIGN_PR and _FOREIGN_PR_2023_RE.match(canonical):
        return _birth_date(canonical)
    return None


# ------------------------------------------------------------------ mobile
MSG_MOBILE = "手机号码格式不正确，请输入11位手机号码"
_MOBILE_TYPES = frozenset({phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE})


def validate_mobile(value: str) -> str:
    """Mainland mobile number; returns the bare 11 digits.

    Accepts a leading ``+86`` / ``86`` / ``0086`` and single spaces or hyphens
    between digit groups. ``phonenumbers`` decides that it is a valid CN mobile
    number; our own rule (``1[3-9]`` + 9 ASCII digits) is then applied to its
    national number."""
    value = _as_text(value).strip()
    if not value:
        raise _invalid("请输入手机号码", "required")
    _reject_non_ascii_digits(value)
    # phonenumbers itself accepts full-width digits, letters (vanity numbers),
    # brackets and extensions: only a plain shape reaches it.
    if len(value) > 20 or not _MOBILE_SHAPE_RE.match(value):
        raise _invalid(MSG_MOBILE, "format")
    try:
        parsed = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException as exc:
        raise _invalid(MSG_MOBILE, "format") from exc
    if (
        parsed.country_code != 86
        or parsed.extension
        or not phonenumbers.is_valid_number(parsed)
        or phonenumbers.number_type(parsed) not in _MOBILE_TYPES
    ):
        raise _invalid(MSG_MOBILE, "format")
    national = phonenumbers.national_significant_number(parsed)
    if not _MOBILE_RE.match(national):
        raise _invalid(MSG_MOBILE, "format")
    return national


# ------------------------------------------------------------------ names
MIDDLE_DOT = "\u00b7"
# Middle-dot look-alikes that input methods produce: katakana middle dot,
# bullet, full-width full stop, hyphenation point, Greek ano teleia, half-width
# katakana middle dot.
_DOT_VARIANTS = str.maketrans(dict.fromkeys("\u30fb\u2022\uff0e\u2027\u0387\uff65", MIDDLE_DOT))
_CJK_RANGES = (
    (0x3400, 0x4DBF),  # Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0x20000, 0x2A6DF),  # Extension B
    (0x2A700, 0x2B73F),  # Extension C
    (0x2B740, 0x2B81F),  # Extension D
    (0x2B820, 0x2CEAF),  # Extension E
    (0x2CEB0, 0x2EBEF),  # Extension F
    (0x2EBF0, 0x2EE5F),  # Extension I
    (0x30000, 0x3134F),  # Extension G
    (0x31350, 0x323AF),  # Extension H
)
MSG_NAME_CHARS = "姓名只能包含汉字、“〇”、字母、间隔号“·”、连字符“-”和撇号“'”"
NAME_MAX = 60  # the longest name the form and the validator take
LING = "\u3007"  # 〇 IDEOGRAPHIC NUMBER ZERO, written in names (e.g. 李〇) but outside the CJK blocks
# ASCII joiners of Latin (and transliterated) names: O'Brien, Jean-Pierre, Ahmad-Ali
_NAME_JOINERS = "-'"


def _is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


def _is_latin(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def validate_person_name(value: str) -> str:
    """A person's name as on the document: 2-60 characters (NAME_MAX) of CJK
    ideographs (including Extension A and the supplementary-plane extensions)
    and 〇 (U+3007), ASCII Latin letters, single spaces between Latin words, the
    middle dot ``·`` (look-alike dots are canonicalised to U+00B7), and the ASCII
    hyphen-minus ``-`` and apostrophe ``'`` (Jean-Pierre, O'Brien, 阿依古丽-买买提).
    A dot, hyphen or apostrophe joins two parts: never first or last, never two
    joiners in a row, never next to a space."""
    value = _as_text(value).strip()
    if not value:
        raise _invalid("姓名不能为空", "required")
    value = value.translate(_DOT_VARIANTS)
    if not 2 <= len(value) <= NAME_MAX:
        raise _invalid(f"姓名长度应为2至{NAME_MAX}个字", "length")
    for ch in value:
        if not (_is_cjk(ch) or ch == LING or _is_latin(ch) or ch == MIDDLE_DOT or ch == " " or ch in _NAME_JOINERS):
            raise _invalid(MSG_NAME_CHARS, "chars")
    if value[0] == MIDDLE_DOT or value[-1] == MIDDLE_DOT or MIDDLE_DOT * 2 in value:
        raise _invalid("间隔号“·”不能在姓名的开头或结尾，也不能连续使用", "dot")
    joiners = _NAME_JOINERS + MIDDLE_DOT
    for i, ch in enumerate(value):
        if ch in _NAME_JOINERS and (i in (0, len(value) - 1) or value[i - 1] in joiners + " " or value[i + 1] in joiners + " "):
            raise _invalid("连字符“-”和撇号“'”只能用在姓名中间，不能在开头或结尾，也不能连续使用", "joiner")
    for i, ch in enumerate(value):
        if ch == " " and not (_is_latin(value[i - 1]) and _is_latin(value[i + 1])):
            # strip() guarantees 0 < i < len - 1
            raise _invalid("姓名中的空格只能用于分隔外文姓名的单词，且不能连续使用", "space")
    return value


# ------------------------------------------------------------------ passwords
_PASSWORD_SYMBOLS = frozenset(chr(c) for c in range(0x21, 0x7F) if not chr(c).isalnum())


def validate_password(value: str, *, id_number: str = "", mobile: str = "") -> str:
    """A citizen's login password; returned unchanged (never stripped).

    8-32 printable ASCII characters without whitespace, at least two of letters,
    digits and symbols; it may not contain the ID number, be a trailing run of 6
    or more of its characters, or contain the mobile number."""
    value = _as_text(value)
    if not value:
        raise _invalid("请输入密码", "required")
    if any(ch.isspace() for ch in value):
        raise _invalid("密码不能包含空格", "whitespace")
    if not all(0x21 <= ord(ch) <= 0x7E for ch in value):
        raise _invalid("密码只能使用半角字母、数字和符号（不要使用全角或汉字）", "chars")
    if not 8 <= len(value) <= 32:
        raise _invalid("密码长度应为8至32位", "length")
    upper = value.upper()
    id_number = (id_number or "").strip().upper()
    if id_number and (id_number in upper or (len(upper) >= 6 and id_number.endswith(upper))):
        raise _invalid("密码不能与证件号码相同或包含证件号码", "contains_id")
    mobile = (mobile or "").strip()
    if mobile and mobile in value:
        raise _invalid("密码不能与手机号码相同或包含手机号码", "contains_mobile")
    kinds = (
        any(ch.isascii() and ch.isalpha() for ch in value)
        + any(ch.isascii() and ch.isdigit() for ch in value)
        + any(ch in _PASSWORD_SYMBOLS for ch in value)
    )
    if kinds < 2:
        raise _invalid("密码须包含字母、数字、符号中的至少两种", "too_simple")
    return value


# ------------------------------------------------------------------ SMS code, address
def validate_sms_code(value: str) -> str:
    """Exactly 6 ASCII digits."""
    value = _as_text(value).strip()
    _reject_non_ascii_digits(value)
    if not _SMS_CODE_RE.match(value):
        raise _invalid("请输入6位数字验证码", "format")
    return value


_ADDRESS_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def validate_address(value: str) -> str:
    """Contact address: 5-120 printable characters, no control or format
    characters (line breaks, zero-width and bidi controls), no ``<`` or ``>``."""
    value = _as_text(value).strip()
    if not 5 <= len(value) <= 120:
        raise _invalid("联系地址应为5至120个字", "length")
    if any(unicodedata.category(ch) in _ADDRESS_BAD_CATEGORIES for ch in value):
        raise _invalid("联系地址中有无法识别的字符（如换行），请删除后重新输入", "chars")
    if "<" in value or ">" in value:
        raise _invalid("联系地址中不能包含“<”或“>”", "chars")
    return value
