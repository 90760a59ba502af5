"""Staff in the back office for tests: a client signed in with password and a verified
TOTP device (the back office lets no unverified session in), and the device's current code."""

from __future__ import annotations

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice


def totp_device(user) -> TOTPDevice:
    return TOTPDevice.objects.filter(user=user).first() or TOTPDevice.objects.create(user=user, name="测试", confirmed=True)


def current_code(device: TOTPDevice) -> str:
    """The code the authenticator app shows now."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift):0{device.digits}d}"


def verified_client(user, client: Client | None = None) -> Client:
    """``client`` (a new one) signed in as ``user`` with a verified TOTP device, as after the login form."""
    client = client or Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = totp_device(user).persistent_id
    session.save()
    return client
