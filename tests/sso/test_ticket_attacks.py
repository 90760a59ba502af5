"""Bad tickets and attacks (issue 13, "each a test"): refused with a clear message, logged
(the reason code, no identity), audited, and no session, no account, no login kept."""

from __future__ import annotations

import logging

import pytest

from shebao.accounts.models import Account
from shebao.adapters.partner import wire
from shebao.audit.models import AuditEvent
from shebao.common import partner_crypto
from shebao.sso.models import PartnerChannel, SsoLogin
from tests.sso.factories import Partner
from tests.sso.people import person_claims

pytestmark = pytest.mark.django_db


def _refused(client, caplog, ticket: str, *, code: str, message: str, channel: str = "etax"):
    accounts, logins = Account.objects.count(), SsoLogin.objects.count()
    with caplog.at_level(logging.INFO):
        response = client.post("/sso/ticket", {"ticket": ticket})
    page = response.content.decode()
    assert response.status_code == 400
    assert message in page
    assert "_auth_user_id" not in client.session
    assert (SsoLogin.objects.count(), Account.objects.count()) == (logins, accounts)
    event = AuditEvent.objects.get(action="sso.arrival", outcome="failure")
    assert (event.outcome, event.subject_ref, event.changes) == ("failure", channel, {"reason": {"old": None, "new": code}})
    refusals = [r for r in caplog.records if getattr(r, "refusal", None)]
    assert [(r.refusal, r.channel) for r in refusals] == [(code, channel)]
    logged = " ".join(r.getMessage() + str(vars(r)) for r in caplog.records)
    assert "450103198506011237" not in logged and person_claims("张伟")["id_number"] not in logged
    assert "13800000001" not in logged


def test_expired_ticket(client, partner, clock, caplog):
    t = int(clock().timestamp())
    ticket = partner.ticket(now=clock(), iat=t - 120, exp=t - 60, **person_claims("张伟"))
    _refused(client, caplog, ticket, code="expired", message="单点登录票据已过期")


def test_ticket_living_longer_than_sixty_seconds(client, partner, clock, caplog):
    t = int(clock().timestamp())
    ticket = partner.ticket(now=clock(), iat=t, exp=t + 600, **person_claims("张伟"))
    _refused(client, caplog, ticket, code="expired", message="有效期超过60秒")


def test_replayed_nonce(client, partner, clock, caplog):
    ticket = partner.ticket(now=clock(), **person_claims("张伟"))
    assert client.post("/sso/ticket", {"ticket": ticket}).status_code == 302
    client.post("/accounts/logout")

    _refused(client, caplog, ticket, code="replayed", message="单点登录票据已使用过")


def test_wrong_audience(client, partner, clock, caplog):
    ticket = partner.ticket(now=clock(), aud="another-service", **person_claims("张伟"))
    _refused(client, caplog, ticket, code="wrong_audience", message="不是发给本服务的")


def test_unknown_partner(client, partner, clock, caplog):
    private, public = partner_crypto.partner_keypair("sm2")
    ghost = Partner(channel=PartnerChannel(identifier="ghost", signature_algorithm="sm2", public_key=public, encryption_algorithm="sm4gcm",
                                           encryption_key=partner_crypto.new_encryption_key("sm4gcm")), private_key=private)
    _refused(client, caplog, ghost.ticket(now=clock(), **person_claims("张伟")), code="unknown_partner", message="未知或已停用的合作渠道",
             channel="")


def test_disabled_partner(client, partner, clock, caplog):
    PartnerChannel.objects.filter(pk=partner.channel.pk).update(enabled=False)
    _refused(client, caplog, partner.ticket(now=clock(), **person_claims("张伟")), code="unknown_partner",
             message="未知或已停用的合作渠道", channel="")


def test_signature_by_another_key_than_the_registered_one(client, partner, clock, caplog):
    impostor = Partner(channel=partner.channel, private_key=partner_crypto.partner_keypair("sm2")[0])
    _refused(client, caplog, impostor.ticket(now=clock(), **person_claims("张伟")), code="bad_signature", message="签名无效")


def test_tampered_ciphertext(client, partner, clock, caplog):
    header, sealed, signature = partner.ticket(now=clock(), **person_claims("张伟")).split(".")
    raw = bytearray(wire.unb64u(sealed))
    raw[20] ^= 0x01
    _refused(client, caplog, f"{header}.{wire.b64u(bytes(raw))}.{signature}", code="bad_signature", message="签名无效")


def test_ciphertext_signed_but_not_under_the_channels_key(client, partner, clock, caplog):
    t = int(clock().timestamp())
    claims = {"aud": "shebao-h5", "iat": t, "exp": t + 60, "nonce": "n" * 20, "sid": "etax-session-0002", **person_claims("张伟")}
    ticket = partner.sign(claims, key_hex=partner_crypto.new_encryption_key("sm4gcm"))
    _refused(client, caplog, ticket, code="tampered", message="无法解密或已被篡改")


def test_id_number_failing_the_gb_11643_check(client, partner, clock, caplog):
    good = person_claims("张伟")["id_number"]
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    _refused(client, caplog, partner.ticket(now=clock(), **person_claims("张伟", id_number=bad)), code="bad_identity",
             message="证件号码校验未通过")


def test_name_other_than_the_registered_one(client, partner, clock, caplog):
    _refused(client, caplog, partner.ticket(now=clock(), **person_claims("张伟", name="张三")), code="name_mismatch",
             message="姓名与该证件号码的登记信息不一致")


def test_name_other_than_the_cores_for_a_person_without_account(client, partner, clock, caplog):
    _refused(client, caplog, partner.ticket(now=clock(), **person_claims("王芳", name="王小芳")), code="name_mismatch",
             message="姓名与该证件号码的登记信息不一致")


def test_return_url_not_on_the_partners_list(client, partner, clock, caplog):
    ticket = partner.ticket(now=clock(), **person_claims("张伟", return_url="https://evil.example.com/steal"))
    _refused(client, caplog, ticket, code="bad_return_url", message="返回地址不在该合作渠道登记的地址中")


def test_clock_skew_beyond_the_window(client, partner, clock, caplog):
    t = int(clock().timestamp()) + 120
    ticket = partner.ticket(now=clock(), iat=t, exp=t + 60, **person_claims("张伟"))
    _refused(client, caplog, ticket, code="clock_skew", message="时间与本服务相差过大")


def test_skew_within_the_window_is_accepted(client, partner, clock):
    t = int(clock().timestamp()) + 20
    response = client.post("/sso/ticket", {"ticket": partner.ticket(now=clock(), iat=t, exp=t + 60, **person_claims("张伟"))})
    assert response.status_code == 302


def test_not_a_ticket_at_all(client, partner, caplog):
    _refused(client, caplog, "not-a-ticket", code="ticket_malformed", message="票据格式错误", channel="")
