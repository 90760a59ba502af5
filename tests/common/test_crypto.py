"""The crypto module: GB/T vectors, tamper detection, suite switching (no database)."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from gmalg import SM2

from shebao.common import crypto, sm2_openssl
from shebao.common.crypto import DecryptionError

# GM/T 0003.5 example private key: fixed so signatures can be made deterministic.
TEST_SM2_KEY = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8"
RECEIPT = b"receipt 2025-000123"
# Nonces for RECEIPT under TEST_SM2_KEY: k=1 gives 32-byte r and s; k=200 gives a
# 31-byte s (gmalg returns r and s as minimal-length big-endian bytes).
K_FULL_LENGTH = 1
K_SHORT_S = 200
# The published example signature for TEST_SM2_KEY (message "message digest", ID 1234567812345678, this k).
KAT_MESSAGE = b"message digest"
KAT_K = 0x59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21
KAT_SIGNATURE = (
    "sm2:f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3"
    "b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa"
)


@pytest.fixture(params=["sm", "intl"])
def suite(request, settings):
    settings.SHEBAO_CRYPTO_SUITE = request.param
    settings.SHEBAO_SM2_PRIVATE_KEY = TEST_SM2_KEY
    return request.param


@pytest.fixture
def sm(settings):
    settings.SHEBAO_CRYPTO_SUITE = "sm"
    settings.SHEBAO_SM2_PRIVATE_KEY = TEST_SM2_KEY
    return settings


def _use_sm2_backend(monkeypatch, backend: str) -> None:
    if backend == "gmalg":
        monkeypatch.setattr(sm2_openssl, "available", lambda: False)
    elif not sm2_openssl.available():
        pytest.skip("no OpenSSL 3 libcrypto with SM2 here (tests/common/test_sm2_openssl.py says why)")
    assert crypto.sm2_backend() == backend


@pytest.fixture(params=["openssl", "gmalg"])
def sm2_backend(request, monkeypatch):
    """Run the test with crypto on each SM2 backend."""
    _use_sm2_backend(monkeypatch, request.param)
    return request.param


@pytest.fixture(params=["sm/openssl", "sm/gmalg", "intl"])
def sig_suite(request, settings, monkeypatch):
    """Signature tests: suite sm on each SM2 backend, and suite intl."""
    suite, _, backend = request.param.partition("/")
    settings.SHEBAO_CRYPTO_SUITE = suite
    settings.SHEBAO_SM2_PRIVATE_KEY = TEST_SM2_KEY
    if backend:
        _use_sm2_backend(monkeypatch, backend)
    return suite


@pytest.fixture
def pin_sm2_nonce(settings, monkeypatch):
    """A deterministic SM2 signer for TEST_SM2_KEY: gmalg with its random k fixed (OpenSSL's k
    cannot be). Only the signing is forced onto gmalg; verification in the test uses whichever
    backend the test selected."""
    settings.SHEBAO_SM2_PRIVATE_KEY = TEST_SM2_KEY

    def sign(k: int, data: bytes = RECEIPT) -> str:
        with monkeypatch.context() as patch:
            patch.setattr(sm2_openssl, "available", lambda: False)
            patch.setattr(crypto._sm2(TEST_SM2_KEY)._core, "_rnd_fn", lambda bits: k)
            return crypto.sign(data)

    return sign


def _flip(token: str, index: int) -> str:
    header, _, b64 = token.rpartition(":")
    raw = bytearray(base64.b64decode(b64))
    raw[index] ^= 0x01
    return f"{header}:{base64.b64encode(bytes(raw)).decode()}"


# ---------------------------------------------------------------- standard vectors
def test_sm3_vector_gbt_32905():
    assert crypto.digest(b"abc", suite="sm") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert crypto.digest_algorithm("sm") == "SM3"


def test_sha256_vector_for_intl_suite():
    assert crypto.digest(b"abc", suite="intl") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert crypto.digest_algorithm("intl") == "SHA256"


def test_digest_follows_the_setting(settings):
    settings.SHEBAO_CRYPTO_SUITE = "sm"
    assert crypto.digest(b"abc") == crypto.digest(b"abc", suite="sm")
    settings.SHEBAO_CRYPTO_SUITE = "intl"
    assert crypto.digest(b"abc") == hashlib.sha256(b"abc").hexdigest()


def test_sm4_block_vector_gbt_32907():
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    enc = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    assert (enc.update(key) + enc.finalize()).hex() == "681edf34d206965e86b3e94f536e4246"


# ---------------------------------------------------------------- field encryption
@pytest.mark.parametrize("plaintext", ["", "450102198506011232", "南宁市青秀区民族大道100号", "𠮷田·X\n"])
def test_round_trip(suite, plaintext):
    token = crypto.encrypt(plaintext, aad="account|id_number|42|1")
    assert token.startswith({"sm": "v2:k0:sm4gcm:", "intl": "v2:k0:aesgcm:"}[suite])
    assert crypto.decrypt(token, aad="account|id_number|42|1") == plaintext


def test_nonce_is_fresh(suite):
    assert crypto.encrypt("13812345678", aad="a") != crypto.encrypt("13812345678", aad="a")


def test_sm_ciphertext_is_sm4_gcm_with_the_aad(sm):
    token = crypto.encrypt("13812345678", aad="account|mobile|7|1")
    raw = base64.b64decode(token.removeprefix("v2:k0:sm4gcm:"))
    nonce, ct, tag = raw[:12], raw[12:-16], raw[-16:]
    assert len(ct) == len("13812345678")
    dec = Cipher(algorithms.SM4(bytes.fromhex(sm.SHEBAO_PII_KEY)[:16]), modes.GCM(nonce, tag)).decryptor()
    dec.authenticate_additional_data(b"v2|k0|sm4gcm|account|mobile|7|1")  # the header is authenticated too
    assert dec.update(ct) + dec.finalize() == b"13812345678"


def test_wrong_aad_fails(suite):
    token = crypto.encrypt("450102198506011232", aad="account|id_number|42|1")
    with pytest.raises(DecryptionError):
        crypto.decrypt(token, aad="account|id_number|43|1")  # another row


@pytest.mark.parametrize("index", [0, 11, 12, 20, -16, -1], ids=["nonce0", "nonce11", "ct0", "ct8", "tag0", "tag15"])
def test_flipped_byte_fails(suite, index):
    token = crypto.encrypt("450102198506011232", aad="aad")
    with pytest.raises(DecryptionError):
        crypto.decrypt(_flip(token, index), aad="aad")


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t.rpartition(":")[0] + ":",  # empty body
        lambda t: t[:36],  # truncated: body shorter than a tag
        lambda t: t + "!",  # not base64
        lambda t: "v2:k0:des:" + t.rpartition(":")[2],  # unknown algorithm
        lambda t: "v2:k0:" + t.rpartition(":")[2],  # no algorithm tag
        lambda t: t.replace(":sm4gcm:", ":aesgcm:") if ":sm4gcm:" in t else t.replace(":aesgcm:", ":sm4gcm:"),  # wrong algorithm tag
        lambda t: t.rpartition(":")[2],  # no header at all
        lambda t: "v2:" + t.rpartition(":")[2],  # truncated header
        lambda t: t.replace("v2:k0:", "v2:k9:"),  # a kid not in the keyring
        lambda t: t.replace("v2:k0:", "v2:k/0:"),  # not a kid
    ],
    ids=["empty", "truncated", "not-base64", "unknown-tag", "no-tag", "swapped-tag", "no-header", "short-header", "unknown-kid", "bad-kid"])
def test_malformed_token_fails(suite, mangle):
    token = crypto.encrypt("450102198506011232", aad="aad")
    with pytest.raises(DecryptionError):
        crypto.decrypt(mangle(token), aad="aad")


def test_other_key_fails(suite, settings):
    token = crypto.encrypt("450102198506011232", aad="aad")
    settings.SHEBAO_PII_KEY = "00" * 32
    with pytest.raises(DecryptionError):
        crypto.decrypt(token, aad="aad")


@pytest.mark.parametrize("first,then", [("sm", "intl"), ("intl", "sm")])
def test_ciphertext_stays_readable_after_a_suite_switch(settings, first, then):
    settings.SHEBAO_CRYPTO_SUITE = first
    token = crypto.encrypt("450102198506011232", aad="account|id_number|42|1")
    settings.SHEBAO_CRYPTO_SUITE = then
    assert crypto.decrypt(token, aad="account|id_number|42|1") == "450102198506011232"
    assert crypto.encrypt("x", aad="a").split(":")[2] == {"sm": "sm4gcm", "intl": "aesgcm"}[then]


# ---------------------------------------------------------------- blind index
def test_blind_index_deterministic_and_separated_by_purpose(suite):
    a = crypto.blind_index("450102198506011232", purpose="id_number")
    assert re.fullmatch(r"k0:[0-9a-f]{64}", a)
    assert crypto.blind_index("450102198506011232", purpose="id_number") == a
    assert crypto.blind_index("450102198506011232", purpose="mobile") != a
    assert crypto.blind_index("450102198506011233", purpose="id_number") != a


def test_blind_index_purpose_cannot_be_shifted_into_the_value(suite):
    assert crypto.blind_index("b", purpose="a") != crypto.blind_index("", purpose="ab")


def test_blind_index_depends_on_the_key(suite, settings):
    a = crypto.blind_index("13812345678", purpose="mobile")
    settings.SHEBAO_INDEX_KEY = "11" * 32
    assert crypto.blind_index("13812345678", purpose="mobile") != a


def test_blind_index_sm_is_hmac_sm3(sm):
    from cryptography.hazmat.primitives import hmac as crypto_hmac

    h = crypto_hmac.HMAC(bytes.fromhex(sm.SHEBAO_INDEX_KEY), hashes.SM3())
    h.update(b"mobile\x0013812345678")
    assert crypto.blind_index("13812345678", purpose="mobile") == "k0:" + h.finalize().hex()


# ---------------------------------------------------------------- signatures
def _sign_pinned(pin, data: bytes = RECEIPT) -> str:
    return pin(K_FULL_LENGTH, data)


def test_ecdsa_round_trip(settings):
    settings.SHEBAO_CRYPTO_SUITE = "intl"
    signature = crypto.sign(RECEIPT)
    assert signature.startswith("ecdsa:")
    assert crypto.verify(RECEIPT, signature) is True


def test_sm2_pinned_signature_is_the_published_vector(sm, pin_sm2_nonce, sm2_backend):
    """gmalg with the example's k gives exactly the published r||s, and each backend verifies it."""
    assert pin_sm2_nonce(KAT_K, KAT_MESSAGE) == KAT_SIGNATURE
    assert crypto.verify(KAT_MESSAGE, KAT_SIGNATURE) is True
    assert crypto.verify(KAT_MESSAGE + b" ", KAT_SIGNATURE) is False


def test_sm2_round_trip(sm, sm2_backend):
    signature = crypto.sign(RECEIPT)
    assert re.fullmatch(r"sm2:[0-9a-f]{128}", signature)
    assert crypto.verify(RECEIPT, signature) is True


def test_sm2_pinned_round_trip(sm, pin_sm2_nonce, sm2_backend):
    signature = _sign_pinned(pin_sm2_nonce)
    assert signature == _sign_pinned(pin_sm2_nonce)  # the pin holds: the same k, the same signature
    assert re.fullmatch(r"sm2:[0-9a-f]{128}", signature)
    assert crypto.verify(RECEIPT, signature) is True


def test_sm2_signatures_use_a_fresh_nonce(sm, sm2_backend):
    assert crypto.sign(RECEIPT) != crypto.sign(RECEIPT)


def test_sm2_signature_with_a_short_s_still_verifies(sm, pin_sm2_nonce, sm2_backend):
    signature = pin_sm2_nonce(K_SHORT_S)
    assert len(signature) == len("sm2:") + 128
    assert signature[4 + 64 : 4 + 66] == "00"  # s really is short, left-padded to 32 bytes
    assert crypto.verify(RECEIPT, signature) is True


def _signature(suite: str, pin) -> str:
    return _sign_pinned(pin) if suite == "sm" else crypto.sign(RECEIPT)


@pytest.mark.parametrize("index", [0, 5, -1])
def test_flipped_byte_in_data_fails(sig_suite, pin_sm2_nonce, index):
    signature = _signature(sig_suite, pin_sm2_nonce)
    data = bytearray(RECEIPT)
    data[index] ^= 0x01
    assert crypto.verify(RECEIPT, signature) is True
    assert crypto.verify(bytes(data), signature) is False


@pytest.mark.parametrize("index", [0, 31, 32, -1], ids=["first", "mid-1", "mid", "last"])
def test_flipped_byte_in_signature_fails(sig_suite, pin_sm2_nonce, index):
    tag, _, hexsig = _signature(sig_suite, pin_sm2_nonce).partition(":")
    sig = bytearray(bytes.fromhex(hexsig))
    sig[index] ^= 0x01
    assert crypto.verify(RECEIPT, f"{tag}:{sig.hex()}") is False


@pytest.mark.parametrize(
    "signature", ["", "sm2:", "sm2:zz", "sm2:" + "00" * 64, "ecdsa:", "ecdsa:3006", "rsa:00", "sm2:" + "ff" * 64]
)
def test_malformed_signature_is_false(sig_suite, signature):
    assert crypto.verify(RECEIPT, signature) is False


def test_sm2_signature_of_another_length_is_false(sm, pin_sm2_nonce, sm2_backend):
    hexsig = _sign_pinned(pin_sm2_nonce).removeprefix("sm2:")
    assert crypto.verify(RECEIPT, f"sm2:{hexsig}") is True
    for mangled in (hexsig[:-2], hexsig + "00", "00" + hexsig, hexsig[2:]):
        assert crypto.verify(RECEIPT, f"sm2:{mangled}") is False


def test_signature_stays_verifiable_after_a_suite_switch(sm, pin_sm2_nonce, settings, sm2_backend):
    sm2_signature = _sign_pinned(pin_sm2_nonce)
    settings.SHEBAO_CRYPTO_SUITE = "intl"
    ecdsa_signature = crypto.sign(RECEIPT)
    assert crypto.verify(RECEIPT, sm2_signature) is True
    settings.SHEBAO_CRYPTO_SUITE = "sm"
    assert crypto.verify(RECEIPT, ecdsa_signature) is True


def test_sm2_signature_verifies_with_gmalg_directly(sm, sm2_backend):
    signature = crypto.sign(RECEIPT)
    sig = bytes.fromhex(signature.removeprefix("sm2:"))
    public = bytes.fromhex(crypto.public_key_hex())
    assert public[0] == 0x04 and len(public) == 65
    verifier = SM2(pk=public, uid=b"1234567812345678")
    assert verifier.verify(RECEIPT, sig[:32], sig[32:]) is True
    assert SM2(pk=public, uid=b"another uid").verify(RECEIPT, sig[:32], sig[32:]) is False


def test_sm2_public_key_matches_the_private_key(sm, sm2_backend):
    assert crypto.public_key_hex() == SM2().generate_pk(bytes.fromhex(TEST_SM2_KEY)).hex()


def test_ecdsa_signature_verifies_with_cryptography_directly(settings):
    settings.SHEBAO_CRYPTO_SUITE = "intl"
    settings.SHEBAO_SM2_PRIVATE_KEY = TEST_SM2_KEY
    signature = crypto.sign(RECEIPT)
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), bytes.fromhex(crypto.public_key_hex()))
    public.verify(bytes.fromhex(signature.removeprefix("ecdsa:")), RECEIPT, ec.ECDSA(hashes.SHA256()))  # raises if bad


def test_verify_with_another_public_key_fails(sm, pin_sm2_nonce, sm2_backend):
    signature = _sign_pinned(pin_sm2_nonce)
    other = SM2().generate_pk(bytes.fromhex("11" * 32)).hex()
    assert crypto.verify(RECEIPT, signature, public_key=crypto.public_key_hex()) is True
    assert crypto.verify(RECEIPT, signature, public_key=other) is False


# ---------------------------------------------------------------- short secrets
def test_hash_secret_round_trip():
    stored = crypto.hash_secret("123456")
    assert re.fullmatch(r"[0-9a-f]{32}\$[0-9a-f]{64}", stored)
    assert crypto.check_secret("123456", stored) is True
    assert crypto.check_secret("123457", stored) is False
    assert crypto.check_secret("", stored) is False


def test_hash_secret_is_salted():
    assert crypto.hash_secret("123456") != crypto.hash_secret("123456")
    salt = bytes(range(16))
    assert crypto.hash_secret("123456", salt=salt) == crypto.hash_secret("123456", salt=salt)
    assert crypto.hash_secret("123456", salt=salt).startswith(salt.hex() + "$")


def test_hash_secret_is_keyed(settings):
    salt = bytes(16)
    stored = crypto.hash_secret("123456", salt=salt)
    settings.SHEBAO_INDEX_KEY = "22" * 32
    assert crypto.check_secret("123456", stored) is False


def test_tampered_stored_secret_fails():
    stored = crypto.hash_secret("123456")
    salt, mac = stored.split("$")
    assert crypto.check_secret("123456", f"{salt}${mac[:-1]}{'0' if mac[-1] != '0' else '1'}") is False
    assert crypto.check_secret("123456", f"{'0' * 32}${mac}") is False


def test_random_token():
    token = crypto.random_token()
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", token)
    assert crypto.random_token() != token


# ---------------------------------------------------------------- keyrings and key ids
@pytest.fixture
def ring(settings):
    """Keyrings only (no first-version single keys)."""

    def use(pii: dict[str, str], index: dict[str, str] | None = None, *, current: str = "", legacy: bool = False) -> None:
        settings.SHEBAO_PII_KEY = "ee" * 16 if legacy else ""
        settings.SHEBAO_INDEX_KEY = "ff" * 32 if legacy else ""
        settings.SHEBAO_PII_KEYS, settings.SHEBAO_INDEX_KEYS = pii, index or {"i1": "11" * 32}
        settings.SHEBAO_PII_CURRENT_KID, settings.SHEBAO_INDEX_CURRENT_KID = current, ""

    return use


def test_the_first_listed_kid_is_current_unless_one_is_named(ring):
    ring({"new": "22" * 16, "old": "33" * 16})
    assert crypto.encrypt("x", aad="a").startswith("v2:new:")
    ring({"new": "22" * 16, "old": "33" * 16}, current="old")
    assert crypto.encrypt("x", aad="a").startswith("v2:old:")


def test_old_and_new_kids_both_decrypt_during_a_rotation(suite, ring):
    ring({"old": "33" * 16})
    old_token = crypto.encrypt("450102198506011232", aad="row")
    ring({"new": "22" * 16, "old": "33" * 16})
    new_token = crypto.encrypt("450102198506011232", aad="row")
    assert crypto.ciphertext_kid(old_token) == "old" and crypto.ciphertext_kid(new_token) == "new"
    assert crypto.decrypt(old_token, aad="row") == crypto.decrypt(new_token, aad="row") == "450102198506011232"
    ring({"new": "22" * 16})
    assert crypto.decrypt(new_token, aad="row") == "450102198506011232"
    with pytest.raises(DecryptionError, match="密钥 old 不可用"):
        crypto.decrypt(old_token, aad="row")


def test_the_kid_is_authenticated(ring):
    """Two kids holding the same key: relabelling a token with the other kid still fails."""
    ring({"a": "22" * 16, "b": "22" * 16})
    token = crypto.encrypt("x", aad="row")
    with pytest.raises(DecryptionError):
        crypto.decrypt(token.replace("v2:a:", "v2:b:"), aad="row")


def test_first_version_token_is_read_with_the_legacy_key_and_its_own_aad(sm, ring, settings):
    ring({"new": "22" * 16}, legacy=True)
    nonce = bytes(12)
    enc = Cipher(algorithms.SM4(bytes.fromhex("ee" * 16)), modes.GCM(nonce)).encryptor()
    enc.authenticate_additional_data(b"accounts.account.name")
    legacy = "sm4gcm:" + base64.b64encode(nonce + enc.update("张伟".encode()) + enc.finalize() + enc.tag).decode()
    assert crypto.ciphertext_kid(legacy) is None
    assert crypto.decrypt(legacy, aad="accounts.account.name|row1", legacy_aad="accounts.account.name") == "张伟"
    with pytest.raises(DecryptionError):
        crypto.decrypt(legacy, aad="accounts.account.name|row1", legacy_aad="accounts.account.mobile")
    settings.SHEBAO_CRYPTO_LEGACY_READABLE = False
    with pytest.raises(DecryptionError, match="旧格式"):
        crypto.decrypt(legacy, aad="accounts.account.name|row1", legacy_aad="accounts.account.name")


def test_blind_index_carries_its_kid_and_every_readable_form(ring, settings):
    ring({"p": "22" * 16}, {"inew": "44" * 32, "iold": "55" * 32}, legacy=True)
    index = crypto.blind_index("13812345678", purpose="mobile")
    assert index.startswith("inew:") and crypto.blind_index_kid(index) == "inew"
    kids = [crypto.blind_index_kid(f) for f in index.forms]
    assert index.forms[0] == index and len(kids) == 4
    assert set(kids) == {"inew", "iold", "k0", None}  # None: the bare first-version hex
    settings.SHEBAO_CRYPTO_LEGACY_READABLE = False
    assert {crypto.blind_index_kid(f) for f in crypto.blind_index("13812345678", purpose="mobile").forms} == {"inew", "iold", "k0"}


def test_short_secrets_check_against_every_index_key(ring):
    ring({"p": "22" * 16}, {"iold": "55" * 32})
    stored = crypto.hash_secret("123456")
    ring({"p": "22" * 16}, {"inew": "44" * 32, "iold": "55" * 32})
    assert crypto.check_secret("123456", stored) is True
    ring({"p": "22" * 16}, {"inew": "44" * 32})
    assert crypto.check_secret("123456", stored) is False


@pytest.mark.parametrize(
    "pii,current,message",
    [
        ({}, "", "未配置密钥"),
        ({"a": "22" * 16}, "b", "当前密钥编号 b 不在密钥环中"),
        ({"a": "zz" * 16}, "", "不是十六进制"),
        ({"a": "22" * 8}, "", "不足 16 字节"),
        ({"a/b": "22" * 16}, "", "密钥编号"),
    ],
    ids=["empty", "unknown-current", "not-hex", "short", "bad-kid"])
def test_bad_keyring_is_refused(ring, pii, current, message):
    from django.core.exceptions import ImproperlyConfigured

    ring(pii, current=current)
    with pytest.raises(ImproperlyConfigured, match=message):
        crypto.encrypt("x", aad="a")


def test_parse_keyring():
    from config.secrets import parse_keyring

    assert parse_keyring("", name="K") == {}
    assert list(parse_keyring(" new:22 , old:33 ", name="K").items()) == [("new", "22"), ("old", "33")]
    for bad in ("new", "new:", ":22", "a:22,a:33"):
        with pytest.raises(ValueError, match="kid:十六进制密钥"):
            parse_keyring(bad, name="K")


def test_random_code_uses_only_letters_and_digits_a_person_can_read():
    codes = [crypto.random_code(10) for _ in range(2000)]  # 20,000 characters: every symbol of 32 shows up
    assert all(len(code) == 10 and set(code) <= set(crypto.CODE_ALPHABET) for code in codes)
    assert set("".join(codes)) == set(crypto.CODE_ALPHABET)
    assert not set(crypto.CODE_ALPHABET) & set("-_01OI")
    assert len(set(codes)) == len(codes)
