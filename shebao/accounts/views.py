"""User-centre pages. Thin: parse with a form, call one service, render."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from shebao.accounts import services
from shebao.accounts.forms import AddressForm, ChangeMobileForm, CodeForm, LoginForm, MobileForm, RegisterForm
from shebao.accounts.models import Account, SmsPurpose
from shebao.accounts.otp import OtpError, otp_resend_wait, otp_send, otp_send_status, wait_text
from shebao.accounts.selectors import insured_info_for
from shebao.common import clock, crypto, ratelimit
from shebao.common.actor import remember_step_up, request_actor
from shebao.common.client_ip import client_ip
from shebao.common.masking import mask_mobile

PENDING_LOGIN = "login_pending"


def citizen_required(view):
    """Logged-in registered person (staff accounts have no personal business here)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated or not request.user.person_type:
            return redirect(f"{reverse('accounts:login')}?next={request.path}")
        return view(request, *args, **kwargs)

    return wrapper


def _safe_next(request, default: str) -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return nxt
    return default


SMS_CLIENT_KEY = "sms_client"  # a random id of the browser session, for the per-session limit


@dataclass(frozen=True)
class SmsSend:
    """What became of one press of 获取验证码: sent, or refused (and then nothing was sent).

    ``status`` is the HTTP status of the page that shows it (429 for a limit, with
    ``retry_after`` seconds for ``Retry-After``; 503 when the gateway failed); ``wait`` is
    how long the button counts down before another code may be asked for."""

    sent: bool
    status: int = 200
    retry_after: int | None = None
    wait: int = 0

    def __bool__(self) -> bool:
        return self.sent

    def apply(self, response):
        """Give ``response`` this outcome's status and ``Retry-After``."""
        response.status_code = self.status
        if self.retry_after:
            response["Retry-After"] = str(self.retry_after)
        return response


def _client_rules(request) -> list[tuple[str, str, tuple[str, ...]]]:
    """(rule, scope, identifiers) of every per-client limit on asking for codes."""
    session_id = request.session.setdefault(SMS_CLIENT_KEY, crypto.random_token())
    scopes = (
        (settings.SMS_SEND_RATE_OVERALL, "sms-overall", ()),
        (settings.SMS_SEND_RATE_PER_IP, "sms-ip", (client_ip(request),)),
        (settings.SMS_SEND_RATE_PER_SESSION, "sms-session", (session_id,)),
    )
    return [(rule.strip(), scope, ids) for rules, scope, ids in scopes for rule in (rules or "").split(";") if rule.strip()]


def _client_refusal(request) -> tuple[int, str] | None:
    """(seconds, message) when this client (or everybody together) asked for too many
    codes, else None and one unit of each limit is spent. Every limit is checked before
    any is spent, so a refused press does not use up another limit's allowance."""
    rules = _client_rules(request)
    refused = []
    for rule, scope, ids in rules:
        verdict = ratelimit.check(rule, scope, *ids)
        if not verdict.allowed:
            refused.append((verdict.retry_after, scope))
    if not refused:
        for rule, scope, ids in rules:
            verdict = ratelimit.hit(rule, scope, *ids)
            if not verdict.allowed:  # another request took the last unit meanwhile
                refused.append((verdict.retry_after, scope))
    if not refused:
        return None
    wait, scope = max(refused)
    if scope == "sms-overall":
        return wait, f"短信服务繁忙，请{wait_text(wait)}再试"
    return wait, f"获取验证码过于频繁，请{wait_text(wait)}再试"


def send_sms_code(request, *, mobile: str, purpose: SmsPurpose) -> SmsSend:
    """Send a code unless a per-client limit (IP, session, overall) or a per-number
    limit (the gateway's 1/min, 5/h, 10/day) says no; the person is told which one it
    was either way (one message: sent, or refused with the reason and when)."""
    refusal = _client_refusal(request)
    if refusal is not None:
        wait, message = refusal
        messages.error(request, message)
        return SmsSend(False, status=429, retry_after=wait, wait=wait)
    now = clock.now()
    try:
        challenge = otp_send(mobile=mobile, purpose=purpose, now=now, request_id=getattr(request, "request_id", ""))
    except OtpError as exc:
        messages.error(request, str(exc))
        if exc.retry_after:
            return SmsSend(False, status=429, retry_after=exc.retry_after, wait=exc.retry_after)
        return SmsSend(False, status=503)
    where = f"您预留的手机 {mask_mobile(mobile)}" if purpose == SmsPurpose.LOGIN else f" {mask_mobile(mobile)}"
    request.session[SMS_PENDING_KEY] = {"id": challenge.public_id, "to": where}
    messages.success(request, f"验证码正在发送至{where}，5分钟内有效", extra_tags="sms")
    return SmsSend(True, wait=otp_resend_wait(mobile=mobile, now=now))


SMS_PENDING_KEY = "sms_pending"  # the code this browser asked for last: its id and where it goes


@require_http_methods(["GET"])
def sms_status(request):
    """Where the last code this browser asked for stands (the notice polls it): 发送中 (and
    poll again), 已发送, or the refusal or failure in plain words."""
    pending = request.session.get(SMS_PENDING_KEY)
    if not pending:
        return HttpResponse(status=204)
    status = otp_send_status(challenge_id=pending["id"], now=clock.now())
    return render(request, "accounts/partials/sms_status.html", {"status": status, "to": pending["to"]})


@require_http_methods(["GET", "POST"])
def register(request):
    if request.method == "GET":
        form = RegisterForm(initial={"idem": crypto.random_token(), "person_type": request.GET.get("type", "")})
        return render(request, "accounts/register.html", {"form": form})
    if request.POST.get("action") == "send_code":
        # The whole identity is checked before a code goes out (type, name, ID check digit, mobile).
        form = RegisterForm(request.POST, for_code=True)
        if not form.is_valid():
            return render(request, "accounts/register.html", {"form": form}, status=400)
        sms = send_sms_code(request, mobile=form.cleaned_data["mobile"], purpose=SmsPurpose.REGISTER)
        return sms.apply(render(request, "accounts/register.html", {"form": form, "sms_wait": sms.wait}))
    form = RegisterForm(request.POST)
    if not form.is_valid():
        return render(request, "accounts/register.html", {"form": form}, status=400)
    d = form.cleaned_data
    data = services.Registration(
        person_type=d["person_type"], name=d["name"], id_type=d["id_type"], id_number=d["id_number"], mobile=d["mobile"], password=d["password"]
    )
    try:
        account = services.account_register(data=data, sms_code=d["sms_code"], idempotency_key=d["idem"], actor=request_actor(request), now=clock.now())
    except services.AccountError as exc:
        form.add_error(None, str(exc))
        return render(request, "accounts/register.html", {"form": form}, status=400)
    return render(request, "accounts/register_done.html", {"account_type": account.get_person_type_display()})


@require_http_methods(["GET", "POST"])
def login_view(request):
    if request.user.is_authenticated and request.user.person_type:
        return redirect("accounts:me")
    form = LoginForm(request.POST or None)
    ctx = {"form": form, "next": _safe_next(request, ""), "timeout": request.GET.get("timeout") == "1"}
    if request.method == "POST" and form.is_valid():
        try:
            account = services.login_check_password(
                identifier=form.cleaned_data["identifier"], password=form.cleaned_data["password"], actor=request_actor(request),
                now=clock.now(),
            )
        except services.AccountError as exc:
            form.add_error(None, str(exc))
            return render(request, "accounts/login.html", ctx, status=400)
        request.session.cycle_key()
        request.session[PENDING_LOGIN] = {"account": account.public_id, "at": int(clock.now().timestamp()), "next": ctx["next"]}
        send_sms_code(request, mobile=account.mobile, purpose=SmsPurpose.LOGIN)
        return redirect("accounts:login_verify")
    return render(request, "accounts/login.html", ctx, status=400 if request.method == "POST" else 200)


def _pending_account(request) -> Account | None:
    pending = request.session.get(PENDING_LOGIN)
    if not pending or clock.now().timestamp() - pending["at"] > 600:
        return None
    return Account.objects.filter(public_id=pending["account"], is_active=True).first()


@require_http_methods(["GET", "POST"])
def login_verify(request):
    account = _pending_account(request)
    if account is None:
        messages.error(request, "登录已超时，请重新输入证件号码和密码")
        return redirect("accounts:login")
    form = CodeForm(request.POST or None)
    ctx = {"form": form, "mobile": mask_mobile(account.mobile)}
    if request.method == "POST" and request.POST.get("action") == "resend":
        sms = send_sms_code(request, mobile=account.mobile, purpose=SmsPurpose.LOGIN)
        if sms:
            return redirect("accounts:login_verify")
        return sms.apply(render(request, "accounts/login_verify.html", {**ctx, "form": CodeForm(), "sms_wait": sms.wait}))
    ctx["sms_wait"] = otp_resend_wait(mobile=account.mobile, now=clock.now())
    if request.method == "POST" and form.is_valid():
        now = clock.now()
        try:
            signed_in = services.login_verify_code(account=account, code=form.cleaned_data["sms_code"], actor=request_actor(request), now=now)
        except services.AccountError as exc:
            form.add_error("sms_code", str(exc))
            return render(request, "accounts/login_verify.html", ctx, status=400)
        nxt = request.session.pop(PENDING_LOGIN, {}).get("next") or reverse("accounts:me")
        login(request, account, backend="django.contrib.auth.backends.ModelBackend")  # rotates the session key
        # The login's SMS code is a fresh proof of the phone: it counts as the step-up for
        # paying within STEP_UP_VALID_SECONDS (the same marker step_up_verify writes).
        remember_step_up(request.session, signed_in.step_up_at)
        return redirect(nxt)
    return render(request, "accounts/login_verify.html", ctx, status=400 if request.method == "POST" else 200)


@require_POST
def logout_view(request):
    logout(request)
    messages.success(request, "您已安全退出。如需为他人办理，请使用他人的证件号码重新登录。")
    response = redirect("home")
    response["Clear-Site-Data"] = '"cache", "storage"'
    return response


@citizen_required
def me(request):
    account = request.user
    return render(
        request,
        "accounts/me.html",
        {"person": services.masked_identity(account), "account": account, "insured": insured_info_for(account),
         "wechat_bound": account.wechat_bindings.exists()},
    )


@citizen_required
@require_http_methods(["GET", "POST"])
def change_mobile(request):
    form = ChangeMobileForm(request.POST or None)
    if request.method == "POST" and request.POST.get("action") == "send_code":
        mobile_form = MobileForm(request.POST)
        if not mobile_form.is_valid():
            messages.error(request, mobile_form.errors["mobile"][0])
            return render(request, "accounts/change_mobile.html", {"form": ChangeMobileForm(initial={"mobile": request.POST.get("mobile", "")})}, status=400)
        sms = send_sms_code(request, mobile=mobile_form.cleaned_data["mobile"], purpose=SmsPurpose.CHANGE_MOBILE)
        ctx = {"form": ChangeMobileForm(initial={"mobile": request.POST.get("mobile", "")}), "sms_wait": sms.wait}
        return sms.apply(render(request, "accounts/change_mobile.html", ctx))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.account_change_mobile(actor=request_actor(request), new_mobile=d["mobile"], sms_code=d["sms_code"], password=d["password"],
                                           now=clock.now())
        except services.AccountError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"手机号码已更换为 {mask_mobile(d['mobile'])}。您在其他设备上的登录已全部退出，原手机号码将收到变更提醒短信。",
            )
            return redirect("accounts:me")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/change_mobile.html", {"form": form}, status=status)


@citizen_required
@require_http_methods(["GET", "POST"])
def change_address(request):
    form = AddressForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.account_update_address(actor=request_actor(request), address=form.cleaned_data["address"], now=clock.now())
        messages.success(request, "联系地址已更新")
        return redirect("accounts:me")
    return render(request, "accounts/change_address.html", {"form": form}, status=400 if request.method == "POST" else 200)


@citizen_required
@require_http_methods(["GET", "POST"])
def step_up(request):
    """办理业务前的短信确认 (money operations ask for a fresh code)."""
    account = request.user
    nxt = _safe_next(request, reverse("accounts:me"))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and request.POST.get("action") == "send_code":
        sms = send_sms_code(request, mobile=account.mobile, purpose=SmsPurpose.STEP_UP)
        ctx = {"form": CodeForm(), "next": nxt, "mobile": mask_mobile(account.mobile), "sms_wait": sms.wait}
        return sms.apply(render(request, "accounts/step_up.html", ctx))
    if request.method == "POST" and form.is_valid():
        try:
            confirmed = services.step_up_verify(actor=request_actor(request), code=form.cleaned_data["sms_code"], now=clock.now())
        except services.AccountError as exc:
            form.add_error("sms_code", str(exc))
        else:
            remember_step_up(request.session, confirmed.step_up_at)
            return redirect(nxt)
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/step_up.html", {"form": form, "next": nxt, "mobile": mask_mobile(account.mobile)}, status=status)


def step_up_required(view):
    """Decorator for money operations: a fresh SMS confirmation within STEP_UP_VALID_SECONDS."""

    @functools.wraps(view)
    @citizen_required
    def wrapper(request, *args, **kwargs):
        if not request_actor(request).step_up_fresh(clock.now()):
            return redirect(f"{reverse('accounts:step_up')}?next={request.get_full_path()}")
        return view(request, *args, **kwargs)

    return wrapper


@citizen_required
def records(request):
    """办理记录: the person's own archived businesses."""
    from shebao.archive.selectors import archive_list

    return render(request, "accounts/records.html", {"records": archive_list(subject_ref=request.user.public_id)[:50]})


@citizen_required
def record_detail(request, public_id: str):
    """One archived business; another person's record is simply not found."""
    from django.http import Http404

    from shebao.archive.integrity import suite_for
    from shebao.archive.selectors import archive_get
    from shebao.archive.verify import record_is_sealed_intact

    record = archive_get(public_id=public_id, subject_ref=request.user.public_id)
    if record is None:
        raise Http404
    sealed = record_is_sealed_intact(record)  # None: waiting for the sealer (seconds after commit)
    digest_ok = crypto.digest(record.snapshot.encode(), suite=suite_for(record.digest_algorithm)) == record.digest
    context = {"record": record, "intact": digest_ok and sealed is True, "pending": digest_ok and sealed is None}
    return render(request, "accounts/record_detail.html", context)
