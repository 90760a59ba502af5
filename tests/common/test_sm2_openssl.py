"""The native SM2 backend (system libcrypto through ctypes) against gmalg, and crypto's fallback to gmalg."""

from __future__ import annotations

import ctypes
import os
import random
import threading

import gmalg
import pytest
from gmalg import SM2

from shebao.common import crypto, sm2_openssl
from shebao.common.sm2_openssl import N, SM2Error

UID = b"1234567812345678"
# Published example (GM/T 0003.5 key, message "message digest", ID 1234567812345678).
KAT_KEY = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8"
KAT_PUBLIC = bytes.fromhex(
    "0409f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020"
    "ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13"
)
KAT_MESSAGE = b"message digest"
KAT_SIGNATURE = bytes.fromhex(
    "f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3"
    "b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa"
)
OTHER_KEY = "11" * 32


def _has_openssl3() -> bool:
    try:
        lib = ctypes.CDLL("libcrypto.so.3")
    except OSError:
        return False
    lib.OpenSSL_version_num.restype = ctypes.c_ulong
    return lib.OpenSSL_version_num() >= 0x30000000


native = pytest.mark.skipif(not sm2_openssl.available(), reason="no OpenSSL 3 libcrypto with SM2 on this machine")


def _gmalg_verify(public: bytes, data: bytes, rs: bytes, uid: bytes = UID) -> bool:
    return SM2(pk=public, uid=uid).verify(data, rs[:32], rs[32:])


def _gmalg_sign(private_hex: str, data: bytes, uid: bytes = UID) -> bytes:
    sk = bytes.fromhex(private_hex)
    r, s = SM2(sk=sk, pk=SM2().generate_pk(sk), uid=uid).sign(data)
    return r.rjust(32, b"\0") + s.rjust(32, b"\0")


@pytest.fixture
def key():
    private_hex = os.urandom(32).hex()
    return private_hex, SM2().generate_pk(bytes.fromhex(private_hex))


@pytest.fixture
def gmalg_only(monkeypatch):
    """crypto as on a machine without a usable libcrypto."""
    monkeypatch.setattr(sm2_openssl, "available", lambda: False)


# ---------------------------------------------------------------- availability
def test_native_backend_is_available_where_openssl_3_is():
    """Guards the skips below: a binding bug must fail here, not turn every native test into a skip."""
    if not _has_openssl3():
        pytest.skip("no libcrypto.so.3 here")
    assert sm2_openssl.available() is True
    assert crypto.sm2_backend() == "openssl"


def test_missing_library_means_unavailable(monkeypatch, settings):
    monkeypatch.setattr(sm2_openssl, "_candidates", lambda: ["libcrypto-does-not-exist.so.9"])
    monkeypatch.setattr(sm2_openssl, "_state", None)
    monkeypatch.setattr(sm2_openssl, "_lib", None)
    assert sm2_openssl.available() is False
    assert crypto.sm2_backend() == "gmalg"
    with pytest.raises(SM2Error):
        sm2_openssl.sign(KAT_KEY, b"x")
    settings.SHEBAO_CRYPTO_SUITE = "sm"
    settings.SHEBAO_SM2_PRIVATE_KEY = KAT_KEY
    signature = crypto.sign(b"receipt")  # through gmalg
    assert _gmalg_verify(KAT_PUBLIC, b"receipt", bytes.fromhex(signature.removeprefix("sm2:")))


@native
def test_failed_self_test_means_unavailable(monkeypatch):
    """A libcrypto whose SM2 disagrees with the known answer (say, one that ignores the ID) is not used."""
    monkeypatch.setattr(sm2_openssl, "_KAT_SIGNATURE", KAT_SIGNATURE[:63] + bytes([KAT_SIGNATURE[63] ^ 1]))
    monkeypatch.setattr(sm2_openssl, "_state", None)
    monkeypatch.setattr(sm2_openssl, "_lib", sm2_openssl._lib)  # restored afterwards
    assert sm2_openssl.available() is False
    assert crypto.sm2_backend() == "gmalg"


# ---------------------------------------------------------------- known answer and keys
@native
def test_known_answer_vector():
    assert sm2_openssl.verify(KAT_PUBLIC, KAT_MESSAGE, KAT_SIGNATURE) is True
    assert sm2_openssl.verify(KAT_PUBLIC, KAT_MESSAGE, KAT_SIGNATURE, uid=b"1234567812345679") is False
    assert sm2_openssl.public_key(KAT_KEY) == KAT_PUBLIC


@native
@pytest.mark.parametrize("private_hex", ["01", "00" + "ab" * 31, "7f" * 31, format(N - 2, "064x"), OTHER_KEY])
def test_public_key_matches_gmalg(private_hex):
    """Including d = 1 (the point G), a leading zero byte, a 31-byte key as gmalg may generate, and n - 2."""
    assert sm2_openssl.public_key(private_hex) == SM2().generate_pk(bytes.fromhex(private_hex))


@native
@pytest.mark.parametrize("private_hex", ["00" * 32, format(N - 1, "064x"), format(N, "064x"), "ff" * 32])
def test_private_key_out_of_range_is_refused(private_hex):
    with pytest.raises(ValueError):
        sm2_openssl.sign(private_hex, b"x")


@native
def test_sign_with_the_largest_valid_key_verifies():
    private_hex = format(N - 2, "064x")
    public = SM2().generate_pk(bytes.fromhex(private_hex))
    assert _gmalg_verify(public, b"edge", sm2_openssl.sign(private_hex, b"edge"))


# ---------------------------------------------------------------- cross-verification with gmalg
@native
def test_native_signature_verifies_with_gmalg(key):
    private_hex, public = key
    signature = sm2_openssl.sign(private_hex, b"receipt 2025-000123")
    assert len(signature) == 64
    assert _gmalg_verify(public, b"receipt 2025-000123", signature) is True
    assert _gmalg_verify(public, b"receipt 2025-000124", signature) is False


@native
def test_gmalg_signature_verifies_natively(key):
    private_hex, public = key
    signature = _gmalg_sign(private_hex, b"receipt 2025-000123")
    assert sm2_openssl.verify(public, b"receipt 2025-000123", signature) is True
    assert sm2_openssl.verify(public, b"receipt 2025-000124", signature) is False


@native
@pytest.mark.parametrize("uid", [b"ALICE123@YAHOO.COM", b"\x00" * 16, bytes(range(256)) * 2])
def test_the_distinguishing_id_reaches_za(key, uid):
    """Signed under another ID: verifies under that ID in both implementations, not under the default."""
    private_hex, public = key
    native_sig = sm2_openssl.sign(private_hex, b"data", uid=uid)
    assert _gmalg_verify(public, b"data", native_sig, uid=uid) is True
    assert _gmalg_verify(public, b"data", native_sig, uid=UID) is False
    gmalg_sig = _gmalg_sign(private_hex, b"data", uid=uid)
    assert sm2_openssl.verify(public, b"data", gmalg_sig, uid=uid) is True
    assert sm2_openssl.verify(public, b"data", gmalg_sig) is False


@native
def test_many_random_messages_both_ways():
    """60 native signatures checked by gmalg, 60 gmalg signatures checked natively (gmalg takes 30-60 ms a call),
    over messages of many lengths and four keys; each also fails under another key."""
    rng = random.Random(32918)
    keys = [format(rng.randrange(1, N - 1), "064x") for _ in range(4)]
    publics = {k: SM2().generate_pk(bytes.fromhex(k)) for k in keys}
    for i in range(120):
        private_hex = keys[i % 4]
        data = rng.randbytes(rng.choice([0, 1, 31, 32, 33, 64, 100, 1000, rng.randrange(0, 5000)]))
        if i % 2:
            signature = sm2_openssl.sign(private_hex, data)
            assert _gmalg_verify(publics[private_hex], data, signature), (i, private_hex, data.hex())
        else:
            signature = _gmalg_sign(private_hex, data)
            assert sm2_openssl.verify(publics[private_hex], data, signature), (i, private_hex, data.hex())
        assert sm2_openssl.verify(publics[keys[(i + 1) % 4]], data, signature) is False


@native
def test_many_native_round_trips(key):
    private_hex, public = key
    rng = random.Random(2)
    for _ in range(500):
        data = rng.randbytes(rng.randrange(0, 300))
        signature = sm2_openssl.sign(private_hex, data)
        assert sm2_openssl.verify(public, data, signature)
        assert not sm2_openssl.verify(public, data + b"\0", signature)


@native
def test_signatures_use_a_fresh_nonce(key):
    private_hex, public = key
    first, second = sm2_openssl.sign(private_hex, b"same"), sm2_openssl.sign(private_hex, b"same")
    assert first != second
    assert first[:32] != second[:32]  # r = e + x(kG): a repeated k would repeat r
    assert sm2_openssl.verify(public, b"same", first) and sm2_openssl.verify(public, b"same", second)


# ---------------------------------------------------------------- what must not verify
@native
def test_tampered_data_fails(key):
    private_hex, public = key
    data = b"receipt 2025-000123"
    signature = sm2_openssl.sign(private_hex, data)
    for i in range(len(data)):
        tampered = bytearray(data)
        tampered[i] ^= 0x01
        assert sm2_openssl.verify(public, bytes(tampered), signature) is False, i
    assert sm2_openssl.verify(public, data[:-1], signature) is False
    assert sm2_openssl.verify(public, data + b"\0", signature) is False


@native
def test_every_flipped_signature_byte_fails(key):
    private_hex, public = key
    signature = sm2_openssl.sign(private_hex, b"data")
    for i in range(64):
        for bit in (0x01, 0x80):
            tampered = bytearray(signature)
            tampered[i] ^= bit
            assert sm2_openssl.verify(public, b"data", bytes(tampered)) is False, (i, bit)


@native
def test_swapped_r_and_s_fail(key):
    private_hex, public = key
    signature = sm2_openssl.sign(private_hex, b"data")
    assert sm2_openssl.verify(public, b"data", signature[32:] + signature[:32]) is False


@native
def test_wrong_key_fails(key):
    private_hex, public = key
    signature = sm2_openssl.sign(private_hex, b"data")
    assert sm2_openssl.verify(sm2_openssl.public_key(OTHER_KEY), b"data", signature) is False
    assert sm2_openssl.verify(public, b"data", sm2_openssl.sign(OTHER_KEY, b"data")) is False


@native
@pytest.mark.parametrize("length", [0, 1, 32, 63, 65, 72, 128])
def test_wrong_length_fails(key, length):
    private_hex, public = key
    signature = sm2_openssl.sign(private_hex, b"data")
    assert sm2_openssl.verify(public, b"data", (signature * 2)[:length]) is False


@native
@pytest.mark.parametrize(
    "part,value",
    [("r", 0), ("s", 0), ("r", N), ("s", N), ("r", N + 1), ("s", N + 1), ("r", 2**256 - 1), ("s", 2**256 - 1)])
def test_r_or_s_zero_or_not_below_n_fails(key, part, value):
    private_hex, public = key
    signature = sm2_openssl.sign(private_hex, b"data")
    r, s = signature[:32], signature[32:]
    forged = value.to_bytes(32, "big")
    assert sm2_openssl.verify(public, b"data", forged + s if part == "r" else r + forged) is False


@native
@pytest.mark.parametrize(
    "public",
    [
        b"",
        b"\x00",
        b"\x04",
        KAT_PUBLIC[1:],
        b"\x05" + KAT_PUBLIC[1:],
        b"\x04" + b"\x11" * 64,
        KAT_PUBLIC[:-1] + b"\x00",
        KAT_PUBLIC + b"\x00",
    ],
    ids=["empty", "infinity", "prefix-only", "no-prefix", "bad-prefix", "off-curve", "y-changed", "too-long"])
def test_malformed_public_key_fails_and_leaves_no_openssl_error(public):
    assert sm2_openssl.verify(public, KAT_MESSAGE, KAT_SIGNATURE) is False
    assert sm2_openssl._lib.ERR_get_error() == 0  # the thread's error queue is left empty


@native
def test_openssl_errors_are_reported_and_drained():
    with pytest.raises(SM2Error, match="point is not on curve"):
        sm2_openssl._public_key(b"\x04" + b"\x11" * 64)
    assert sm2_openssl._lib.ERR_get_error() == 0


@native
def test_keys_are_freed_when_dropped(monkeypatch):
    freed = []
    real_free = sm2_openssl._lib.EVP_PKEY_free
    monkeypatch.setattr(sm2_openssl._lib, "EVP_PKEY_free", lambda ptr: (freed.append(ptr), real_free(ptr)))
    key = sm2_openssl._public_key.__wrapped__(KAT_PUBLIC)  # uncached
    ptr = key.ptr
    assert ptr and freed == []
    del key
    assert freed == [ptr]


@native
def test_sign_reports_an_openssl_failure(monkeypatch):
    monkeypatch.setattr(sm2_openssl._lib, "EVP_DigestSign", lambda *args: 0)
    with pytest.raises(SM2Error, match="SM2 sign failed"):
        sm2_openssl.sign(KAT_KEY, b"data")


# ---------------------------------------------------------------- DER <-> r||s
@pytest.mark.parametrize(
    "r,s",
    [(1, 1), (0x7F, 0x80), (2**255, 2**255 - 1), (N - 1, N - 1), (2**248 - 1, 0x1234), (int(KAT_SIGNATURE[:32].hex(), 16), 5)])
def test_der_round_trip(r, s):
    rs = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    der = sm2_openssl.rs_to_der(rs)
    assert der[0] == 0x30 and der[1] == len(der) - 2
    assert sm2_openssl.der_to_rs(der) == rs


@pytest.mark.parametrize("r,s", [(0, 1), (1, 0), (N, 1), (1, N), (2**256 - 1, 1)])
def test_r_or_s_out_of_range_is_refused_before_openssl(r, s):
    with pytest.raises(ValueError):
        sm2_openssl.rs_to_der(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def test_der_encoding_is_minimal():
    """DER integers: no leading zero unless the high bit is set (OpenSSL rejects non-minimal encodings)."""
    assert sm2_openssl.rs_to_der((0x7F).to_bytes(32, "big") + (0x80).to_bytes(32, "big")) == bytes.fromhex("300702017f02020080")


@pytest.mark.parametrize(
    "der",
    [
        "",
        "3000",
        "3006020101020101" + "00",
        "3106020101020101",
        "3006020101030101",
        "3006020100020101",
        "3006020181020101",
        "3007020101020201",
        "30060201010201ff",
    ],
    ids=["empty", "empty-seq", "trailing", "not-seq", "not-int", "zero-r", "negative-r", "short", "negative-s"])
def test_malformed_der_is_refused(der):
    with pytest.raises(ValueError):
        sm2_openssl.der_to_rs(bytes.fromhex(der))


# ---------------------------------------------------------------- crypto's choice of backend
@pytest.fixture
def sm(settings):
    settings.SHEBAO_CRYPTO_SUITE = "sm"
    settings.SHEBAO_SM2_PRIVATE_KEY = KAT_KEY
    return settings


@native
def test_crypto_signs_natively_when_available(sm, monkeypatch):
    def no_gmalg(private_hex):
        raise AssertionError("gmalg used although the native backend is available")

    monkeypatch.setattr(crypto, "_sm2", no_gmalg)
    monkeypatch.setattr(gmalg, "SM2", no_gmalg)  # crypto.verify imports it from here
    signature = crypto.sign(b"receipt")
    assert crypto.sm2_backend() == "openssl"
    assert _gmalg_verify(KAT_PUBLIC, b"receipt", bytes.fromhex(signature.removeprefix("sm2:")))
    assert crypto.verify(b"receipt", signature) is True


def test_crypto_falls_back_to_gmalg(sm, monkeypatch, gmalg_only):
    def no_native(*args, **kwargs):
        raise AssertionError("native backend used although unavailable")

    monkeypatch.setattr(sm2_openssl, "sign", no_native)
    monkeypatch.setattr(sm2_openssl, "verify", no_native)
    assert crypto.sm2_backend() == "gmalg"
    signature = crypto.sign(b"receipt")
    assert signature.startswith("sm2:") and len(signature) == 4 + 128
    assert _gmalg_verify(KAT_PUBLIC, b"receipt", bytes.fromhex(signature.removeprefix("sm2:"))) is True
    assert crypto.verify(b"receipt", signature) is True
    assert crypto.verify(b"receipt!", signature) is False
    assert crypto.public_key_hex() == KAT_PUBLIC.hex()


@native
def test_signatures_cross_between_crypto_backends(sm, monkeypatch):
    native_signature = crypto.sign(b"receipt")
    with monkeypatch.context() as m:
        m.setattr(sm2_openssl, "available", lambda: False)
        gmalg_signature = crypto.sign(b"receipt")
        assert crypto.verify(b"receipt", native_signature) is True  # gmalg checks the native one
        assert crypto.verify(b"receipts", native_signature) is False
    assert crypto.verify(b"receipt", gmalg_signature) is True  # and the other way round
    assert crypto.verify(b"receipts", gmalg_signature) is False


@pytest.mark.parametrize("backend", ["openssl", "gmalg"])
@pytest.mark.parametrize("public_key", ["zz", "04", "05" + KAT_PUBLIC.hex()[2:], "04" + "11" * 64, KAT_PUBLIC.hex()[:-2]])
def test_crypto_verify_with_a_malformed_public_key_is_false(sm, monkeypatch, backend, public_key):
    if backend == "gmalg":
        monkeypatch.setattr(sm2_openssl, "available", lambda: False)
    elif not sm2_openssl.available():
        pytest.skip("no OpenSSL 3 libcrypto with SM2 on this machine")
    signature = "sm2:" + KAT_SIGNATURE.hex()
    assert crypto.verify(KAT_MESSAGE, signature, public_key=KAT_PUBLIC.hex()) is True
    assert crypto.verify(KAT_MESSAGE, signature, public_key=public_key) is False


# ---------------------------------------------------------------- threads
@native
def test_concurrent_signing_with_the_shared_key(sm):
    """8 threads x 50 signatures through crypto.sign (one cached EVP_PKEY, per-call contexts)."""
    threads, per_thread = 8, 50
    barrier = threading.Barrier(threads)
    results: dict[int, list[tuple[bytes, str]]] = {}
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            barrier.wait()
            out = []
            for i in range(per_thread):
                data = f"thread {t} message {i}".encode()
                out.append((data, crypto.sign(data)))
                assert crypto.verify(data, out[-1][1])  # verification runs concurrently too
            results[t] = out
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=60)
    assert not errors, errors
    signed = [pair for t in range(threads) for pair in results[t]]
    assert len(signed) == threads * per_thread
    assert len({signature for _, signature in signed}) == len(signed)
    for data, signature in signed:
        assert sm2_openssl.verify(KAT_PUBLIC, data, bytes.fromhex(signature.removeprefix("sm2:"))), data
    for data, signature in signed[:: len(signed) // 4]:  # a few by gmalg as well
        assert _gmalg_verify(KAT_PUBLIC, data, bytes.fromhex(signature.removeprefix("sm2:"))), data
