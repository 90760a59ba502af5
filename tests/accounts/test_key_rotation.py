"""Encrypted fields bound to their row, key ids in every value, key rotation (manage.py rotate_field_keys).

The swap tests copy ciphertext at the SQL level, as an attacker with database
write access (or a botched restore) would; the rotation test walks the whole
procedure: old key -> new key current (still readable, login still works) ->
command -> old key removed (still readable)."""

from __future__ import annotations

import base64
import datetime as dt
import io
import os
import threading
import time

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from shebao.accounts.models import Account, WechatBinding
from shebao.accounts.otp import mobile_index
from shebao.accounts.services import AccountError, login_check_password, masked_identity, wechat_bind
from shebao.archive.models import ArchiveRecord
from shebao.archive.services import archive_append
from shebao.archive.verify import verify_archive
from shebao.common import clock, crypto
from shebao.common.crypto import DecryptionError
from shebao.common.identity import identity_index
from shebao.common.idgen import make_resident_id
from shebao.common.management.commands import rotate_field_keys
from tests import actors

pytestmark = pytest.mark.django_db

PASSWORD = "Test@2026x"
PII_OLD, PII_NEW = "a1" * 16, "b2" * 16
INDEX_OLD, INDEX_NEW = "c3" * 32, "d4" * 32
ID_A = make_resident_id(division_code="450103", birth=dt.date(1980, 1, 2), seq=11)
ID_B = make_resident_id(division_code="450103", birth=dt.date(1981, 3, 4), seq=22)


@pytest.fixture
def keys(settings):
    """Set the keyrings (no first-version single keys unless asked)."""

    def use(pii: dict[str, str], index: dict[str, str], *, legacy_pii: str = "", legacy_index: str = "") -> None:
        settings.SHEBAO_PII_KEY, settings.SHEBAO_INDEX_KEY = legacy_pii, legacy_index
        settings.SHEBAO_PII_KEYS, settings.SHEBAO_INDEX_KEYS = pii, index
        settings.SHEBAO_PII_CURRENT_KID = settings.SHEBAO_INDEX_CURRENT_KID = ""

    return use


def _account(name: str, id_number: str, mobile: str, **extra) -> Account:
    public_id = crypto.random_token(12)
    account = Account(
        public_id=public_id, username=f"u_{public_id}", person_type="flexible", name=name, id_type="201", id_number=id_number,
        id_index=identity_index(id_type="201", id_number=id_number), mobile=mobile, mobile_index=mobile_index(mobile),
        real_name_verified=True, created_at=clock.now(), **extra,
    )
    account.set_password(PASSWORD)
    account.save()
    return account


def _raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cur:
        cur.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 - fixed names
        return cur.fetchone()[0]


def _raw_set(table: str, pk: int, **columns: str) -> None:
    sets = ", ".join(f"{c} = %s" for c in columns)
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {table} SET {sets} WHERE id = %s", [*columns.values(), pk])  # noqa: S608 - fixed names


def _stored_values() -> dict[str, list[str]]:
    """Every stored ciphertext and blind index, by ``model.field``, read raw (not through the fields)."""
    out: dict[str, list[str]] = {}
    for model, enc, idx in rotate_field_keys._targets():
        for f in [*enc, *idx]:
            with connection.cursor() as cur:
                cur.execute(f"SELECT {f.column} FROM {model._meta.db_table}")  # noqa: S608 - names from the model
                out[f"{model._meta.label}.{f.name}"] = [v for (v,) in cur.fetchall() if v]
    return out


def _assert_all_under(pii_kid: str, index_kid: str, *, sourced_only: bool = True) -> None:
    values = _stored_values()
    encrypted = {k: v for k, v in values.items() if k in _encrypted_names()}
    indexes = {k: v for k, v in values.items() if k not in encrypted and (not sourced_only or k not in _sourceless_names())}
    assert sum(map(len, encrypted.values())) > 0 and sum(map(len, indexes.values())) > 0
    for name, tokens in encrypted.items():
        assert all(t.startswith(f"v2:{pii_kid}:") for t in tokens), name
    for name, tokens in indexes.items():
        assert all(t.startswith(f"{index_kid}:") for t in tokens), name


def _encrypted_names() -> set[str]:
    return {f"{m._meta.label}.{f.name}" for m, enc, _ in rotate_field_keys._targets() for f in enc}


def _sourceless_names() -> set[str]:
    return {f"{m._meta.label}.{f.name}" for m, _, idx in rotate_field_keys._targets() for f in idx if not f.purpose}


def _rotate(**options) -> str:
    out = io.StringIO()
    call_command("rotate_field_keys", stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def _business(account: Account) -> None:
    """One of everything that stores encrypted fields: the account, its WeChat binding, an archive record."""
    wechat_bind(actor=actors.citizen(account), appid="wx0000000000000001", openid=f"o_{account.public_id}", now=clock.now())
    login_check_password(identifier=account.id_number, password=PASSWORD, actor=actors.visitor(), now=clock.now())  # a lookup by blind index


# ---------------------------------------------------------------- row binding
def test_name_ciphertext_swapped_between_accounts_fails_closed(client):
    a = _account("覃丽华", ID_A, "13912300001")
    b = _account("陆国强", ID_B, "13912300002")
    _raw_set("accounts_account", b.pk, name=_raw("accounts_account", "name", a.pk))  # a's name ciphertext into b's row

    with pytest.raises(DecryptionError, match="数据校验失败"):
        Account.objects.get(pk=b.pk).name  # noqa: B018 - the read is the test
    assert Account.objects.get(pk=a.pk).name == "覃丽华"  # the original row is intact
    # b's other fields still read; only the swapped one fails
    assert Account.objects.get(pk=b.pk).id_number == ID_B

    client.force_login(Account.objects.get(pk=b.pk))
    with pytest.raises(DecryptionError):  # the page fails closed: never a's name on b's screen
        client.get("/accounts/me")


def test_id_number_and_mobile_swaps_fail_closed_too():
    a = _account("覃丽华", ID_A, "13912300001")
    b = _account("陆国强", ID_B, "13912300002")
    _raw_set("accounts_account", b.pk, id_number=_raw("accounts_account", "id_number", a.pk), mobile=_raw("accounts_account", "mobile", a.pk))
    b = Account.objects.get(pk=b.pk)
    with pytest.raises(DecryptionError):
        masked_identity(b)
    with pytest.raises(DecryptionError):
        b.mobile  # noqa: B018


def test_openid_swapped_between_bindings_fails_closed():
    a = _account("覃丽华", ID_A, "13912300001")
    b = _account("陆国强", ID_B, "13912300002")
    wa = wechat_bind(actor=actors.citizen(a), appid="wx0000000000000001", openid="o_aaaa", now=clock.now())
    wb = wechat_bind(actor=actors.citizen(b), appid="wx0000000000000001", openid="o_bbbb", now=clock.now())
    _raw_set("accounts_wechatbinding", wb.pk, openid=_raw("accounts_wechatbinding", "openid", wa.pk))
    with pytest.raises(DecryptionError):
        WechatBinding.objects.get(pk=wb.pk).openid  # noqa: B018
    assert WechatBinding.objects.get(pk=wa.pk).openid == "o_aaaa"


def test_plain_text_through_queryset_update_is_refused_and_nothing_changes():
    """update() has no row to bind to: refused loudly, instead of an unbound ciphertext."""
    a = _account("覃丽华", ID_A, "13912300001")
    before = _raw("accounts_account", "name", a.pk)
    with pytest.raises(ValueError, match="save"), transaction.atomic():
        Account.objects.filter(pk=a.pk).update(name="陆国强")
    assert _raw("accounts_account", "name", a.pk) == before


def test_first_save_without_a_public_id_is_refused():
    account = Account(username="u_x", name="覃丽华", created_at=clock.now())
    with pytest.raises(ValueError, match="public_id"), transaction.atomic():
        account.save()
    assert not Account.objects.filter(username="u_x").exists()


# ---------------------------------------------------------------- key ids
def test_every_ciphertext_and_blind_index_carries_the_key_id(keys):
    keys({"2026a": PII_OLD}, {"i2026a": INDEX_OLD})
    _business(_account("覃丽华", ID_A, "13912300001"))
    archive_append(business_type="registration", business_ref="reg-k", subject_ref="acct-k", data={"name": "覃丽华"}, now=clock.now())
    _assert_all_under("2026a", "i2026a", sourced_only=False)
    stored = _stored_values()
    for name in ("accounts.Account.name", "accounts.Account.id_number", "accounts.WechatBinding.openid", "archive.ArchiveRecord.snapshot"):
        assert stored[name], name
    for name in ("accounts.Account.id_index", "accounts.Account.mobile_index"):
        assert stored[name], name


# ---------------------------------------------------------------- rotation
def test_rotation_old_and_new_readable_meanwhile_then_old_key_removed(keys, settings):
    keys({"old": PII_OLD}, {"iold": INDEX_OLD})
    a = _account("覃丽华", ID_A, "13912300001")
    _business(a)
    b = _account("陆国强", ID_B, "13912300002")
    record = archive_append(business_type="registration", business_ref="reg-r", subject_ref=a.public_id, data={"id": ID_A}, now=clock.now())
    _assert_all_under("old", "iold")

    # 1. the new key becomes current: old rows still readable, lookups by ID number find them
    keys({"new": PII_NEW, "old": PII_OLD}, {"inew": INDEX_NEW, "iold": INDEX_OLD})
    assert Account.objects.get(pk=a.pk).name == "覃丽华"
    assert login_check_password(identifier=ID_A, password=PASSWORD, actor=actors.visitor(), now=clock.now()).pk == a.pk
    assert login_check_password(identifier="13912300002", password=PASSWORD, actor=actors.visitor(), now=clock.now()).pk == b.pk  # by mobile
    assert Account.objects.filter(id_index=identity_index(id_type="201", id_number=ID_B)).exists()  # duplicate check
    c = _account("韦玉梅", make_resident_id(division_code="450103", birth=dt.date(1990, 5, 6), seq=33), "13912300003")
    assert _raw("accounts_account", "name", c.pk).startswith("v2:new:")
    assert _raw("accounts_account", "id_index", c.pk).startswith("inew:")
    assert _raw("accounts_account", "name", b.pk).startswith("v2:old:")  # not rewritten yet

    # without the command, dropping the old key would lose the old rows (the control for the last step)
    keys({"new": PII_NEW}, {"inew": INDEX_NEW})
    with pytest.raises(DecryptionError):
        Account.objects.get(pk=b.pk).name  # noqa: B018
    keys({"new": PII_NEW, "old": PII_OLD}, {"inew": INDEX_NEW, "iold": INDEX_OLD})
    with pytest.raises(CommandError, match="未使用当前密钥"):
        _rotate(check=True)

    # 2. the command re-encrypts and re-indexes everything, in batches, printing progress
    output = _rotate(batch_size=1)
    assert "accounts.Account: 1/2 行" in output and "accounts.Account: 2/2 行（已改写 2，失败 0）" in output
    _assert_all_under("new", "inew")
    assert _rotate().count("已全部使用当前密钥") >= 3  # idempotent: a second run has nothing to do
    assert verify_archive().ok  # the hash chain is over the plain snapshot, not the ciphertext bytes

    # 3. the old keys removed: everything still reads, login and lookups still work
    keys({"new": PII_NEW}, {"inew": INDEX_NEW})
    for account, name, id_number in ((a, "覃丽华", ID_A), (b, "陆国强", ID_B)):
        fresh = Account.objects.get(pk=account.pk)
        assert (fresh.name, fresh.id_number) == (name, id_number)
        assert login_check_password(identifier=id_number, password=PASSWORD, actor=actors.visitor(), now=clock.now()).pk == account.pk
    assert WechatBinding.objects.get(account=a).openid == f"o_{a.public_id}"
    assert ID_A in ArchiveRecord.objects.get(pk=record.pk).snapshot
    assert verify_archive().ok


def test_rotation_is_resumable_after_an_interruption(keys, monkeypatch):
    keys({"old": PII_OLD}, {"iold": INDEX_OLD})
    accounts = [_account(f"用户{i}", make_resident_id(division_code="450103", birth=dt.date(1985, 1, 1 + i), seq=40 + i), f"1391230010{i}") for i in range(3)]
    keys({"new": PII_NEW, "old": PII_OLD}, {"inew": INDEX_NEW, "iold": INDEX_OLD})
    real = rotate_field_keys.Command._changes
    calls = {"n": 0}

    def crash_on_second_row(*args):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(rotate_field_keys.Command, "_changes", staticmethod(crash_on_second_row))
    with pytest.raises(KeyboardInterrupt):
        _rotate(batch_size=1)
    names = [_raw("accounts_account", "name", a.pk) for a in accounts]
    assert names[0].startswith("v2:new:") and names[1].startswith("v2:old:")  # the first batch was committed, the second not

    monkeypatch.setattr(rotate_field_keys.Command, "_changes", staticmethod(real))
    output = _rotate(batch_size=1)
    assert "accounts.Account: 2/2 行（已改写 2，失败 0）" in output  # only the rows left are walked
    assert _raw("accounts_account", "name", accounts[0].pk) == names[0]  # the done row is not rewritten again
    _assert_all_under("new", "inew")
    assert [Account.objects.get(pk=a.pk).name for a in accounts] == ["用户0", "用户1", "用户2"]


def test_rotation_leaves_a_swapped_ciphertext_alone_and_fails(keys):
    keys({"old": PII_OLD}, {"iold": INDEX_OLD})
    a = _account("覃丽华", ID_A, "13912300001")
    b = _account("陆国强", ID_B, "13912300002")
    swapped = _raw("accounts_account", "name", a.pk)
    _raw_set("accounts_account", b.pk, name=swapped)
    keys({"new": PII_NEW, "old": PII_OLD}, {"inew": INDEX_NEW, "iold": INDEX_OLD})
    with pytest.raises(CommandError, match="1 行数据校验失败"):
        _rotate()
    assert _raw("accounts_account", "name", b.pk) == swapped  # not re-encrypted into a valid ciphertext for b
    assert _raw("accounts_account", "name", a.pk).startswith("v2:new:")
    with pytest.raises(DecryptionError):
        Account.objects.get(pk=b.pk).name  # noqa: B018


def test_saving_a_row_during_a_rotation_moves_it_to_the_current_key(keys):
    keys({"old": PII_OLD}, {"iold": INDEX_OLD})
    a = _account("覃丽华", ID_A, "13912300001")
    keys({"new": PII_NEW, "old": PII_OLD}, {"inew": INDEX_NEW, "iold": INDEX_OLD})
    Account.objects.get(pk=a.pk).save()  # a save that never read the name
    assert _raw("accounts_account", "name", a.pk).startswith("v2:new:")
    assert Account.objects.get(pk=a.pk).name == "覃丽华"


# ---------------------------------------------------------------- first-version rows
def _legacy_encrypt(key_hex: str, plaintext: str, aad: str) -> str:
    """The first version's format, written independently: ``sm4gcm:`` + base64(nonce|ct|tag), AAD ``app.model.field``."""
    nonce = os.urandom(12)
    enc = Cipher(algorithms.SM4(bytes.fromhex(key_hex)[:16]), modes.GCM(nonce)).encryptor()
    enc.authenticate_additional_data(aad.encode())
    body = enc.update(plaintext.encode()) + enc.finalize() + enc.tag
    return "sm4gcm:" + base64.b64encode(nonce + body).decode()


def _legacy_index(key_hex: str, purpose: str, value: str) -> str:
    h = crypto_hmac.HMAC(bytes.fromhex(key_hex), hashes.SM3())
    h.update(purpose.encode() + b"\x00" + value.encode())
    return h.finalize().hex()


def test_first_version_rows_stay_readable_and_are_upgraded(keys, settings):
    keys({}, {}, legacy_pii=PII_OLD, legacy_index=INDEX_OLD)  # today's configuration: the single keys only
    a = _account("覃丽华", ID_A, "13912300001")
    _raw_set(
        "accounts_account", a.pk,
        name=_legacy_encrypt(PII_OLD, "覃丽华", "accounts.account.name"),
        id_number=_legacy_encrypt(PII_OLD, ID_A, "accounts.account.id_number"),
        mobile=_legacy_encrypt(PII_OLD, "13912300001", "accounts.account.mobile"),
        id_index=_legacy_index(INDEX_OLD, "identity", f"201:{ID_A}"),
        mobile_index=_legacy_index(INDEX_OLD, "mobile", "13912300001"),
    )
    fresh = Account.objects.get(pk=a.pk)
    assert (fresh.name, fresh.id_number, fresh.mobile) == ("覃丽华", ID_A, "13912300001")
    assert login_check_password(identifier=ID_A, password=PASSWORD, actor=actors.visitor(), now=clock.now()).pk == a.pk  # bare-hex index found

    settings.SHEBAO_CRYPTO_LEGACY_READABLE = False  # the switch really stops first-version reads
    with pytest.raises(DecryptionError):
        Account.objects.get(pk=a.pk).name  # noqa: B018
    with pytest.raises(AccountError):
        login_check_password(identifier=ID_A, password=PASSWORD, actor=actors.visitor(), now=clock.now())
    settings.SHEBAO_CRYPTO_LEGACY_READABLE = True

    output = _rotate()
    assert "accounts.Account: 1/1 行（已改写 1，失败 0）" in output
    assert _raw("accounts_account", "name", a.pk).startswith("v2:k0:sm4gcm:")
    assert _raw("accounts_account", "id_index", a.pk) == "k0:" + _legacy_index(INDEX_OLD, "identity", f"201:{ID_A}")
    _rotate(check=True)

    settings.SHEBAO_CRYPTO_LEGACY_READABLE = False  # after the upgrade, legacy reading can be switched off
    fresh = Account.objects.get(pk=a.pk)
    assert (fresh.name, fresh.id_number, fresh.mobile) == ("覃丽华", ID_A, "13912300001")
    assert login_check_password(identifier=ID_A, password=PASSWORD, actor=actors.visitor(), now=clock.now()).pk == a.pk


# ---------------------------------------------------------------- concurrency
def _wait_for(condition, *, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_rotation_does_not_lose_an_address_changed_while_it_runs(keys, monkeypatch):
    """The command locks each batch (SELECT ... FOR UPDATE): an address saved while it re-encrypts
    the row waits for it and wins, instead of being overwritten by the re-encrypted old address."""
    if connection.vendor != "postgresql":
        pytest.skip(f"needs PostgreSQL row locks (select_for_update); the database here is {connection.vendor}")
    keys({"old": PII_OLD}, {"iold": INDEX_OLD})
    account = _account("覃丽华", ID_A, "13912300001", address="南宁市青秀区民族大道1号")
    keys({"new": PII_NEW, "old": PII_OLD}, {"inew": INDEX_NEW, "iold": INDEX_OLD})
    read_done, release = threading.Event(), threading.Event()
    real = rotate_field_keys.Command._changes
    errors: list[BaseException] = []

    def changes_then_pause(row, *args):
        out = real(row, *args)  # the old address is read and re-encrypted here, the row locked
        if isinstance(row, Account):
            read_done.set()
            assert release.wait(timeout=30)
        return out

    monkeypatch.setattr(rotate_field_keys.Command, "_changes", staticmethod(changes_then_pause))

    def rotate() -> None:
        try:
            _rotate()
        except BaseException as exc:  # reported to the main thread
            errors.append(exc)
        finally:
            connection.close()

    edited = threading.Event()

    def edit() -> None:
        try:
            mine = Account.objects.get(pk=account.pk)
            mine.address = "桂林市七星区漓江路88号"
            mine.save(update_fields=["address"])
            edited.set()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    rotator = threading.Thread(target=rotate)
    rotator.start()
    assert read_done.wait(timeout=30)
    editor = threading.Thread(target=edit)
    editor.start()

    def editor_blocked() -> bool:
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
            return cur.fetchone()[0] > 0

    assert _wait_for(lambda: edited.is_set() or editor_blocked())
    release.set()
    rotator.join(timeout=60)
    editor.join(timeout=60)

    assert errors == []
    fresh = Account.objects.get(pk=account.pk)
    assert fresh.address == "桂林市七星区漓江路88号"
    assert _raw("accounts_account", "address", account.pk).startswith("v2:new:")
    assert fresh.name == "覃丽华"
