"""Why a single sign-on or a partner request was refused: a code for logs and the audit log,
a message in Chinese for the person (or the partner). Never personal data."""

from __future__ import annotations

MESSAGES = {
    "ticket_malformed": "单点登录票据格式错误",
    "unknown_partner": "未知或已停用的合作渠道",
    "bad_signature": "单点登录票据签名无效",
    "tampered": "单点登录票据无法解密或已被篡改",
    "wrong_audience": "单点登录票据不是发给本服务的",
    "expired": "单点登录票据已过期，请从合作渠道重新进入",
    "clock_skew": "单点登录票据的时间与本服务相差过大，请核对合作渠道的系统时间",
    "replayed": "单点登录票据已使用过，请从合作渠道重新进入",
    "bad_claims": "单点登录票据缺少必要的身份信息",
    "bad_identity": "证件号码校验未通过",
    "name_mismatch": "姓名与该证件号码的登记信息不一致，请核对",
    "bad_return_url": "返回地址不在该合作渠道登记的地址中",
    "not_registered": "未查询到该证件号码的参保登记信息，请先注册",
    "account_disabled": "该账号已停用，请联系12366",
    "oidc_failed": "合作渠道身份认证未完成，请从合作渠道重新进入",
    "wrong_protocol": "该合作渠道未开通此接入方式",
    "issuer_mismatch": "票据不是该合作渠道签发的",
    "arrival_invalid": "登录链接无效或已过期，请从合作渠道重新进入",
}


class SsoRefused(Exception):
    """A refused arrival: ``code`` (see :data:`MESSAGES`) and the message for the person."""

    def __init__(self, code: str, detail: str = "", *, channel: str = ""):
        self.code = code
        self.channel = channel
        super().__init__(detail or MESSAGES[code])

    @property
    def message(self) -> str:
        return str(self)
