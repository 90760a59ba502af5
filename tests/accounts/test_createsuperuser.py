"""``manage.py createsuperuser`` must work with the custom Account model."""

import pytest
from django.core.management import call_command

from shebao.accounts.models import Account
from tests.staff import current_code, totp_device


@pytest.mark.django_db
def test_createsuperuser_sets_created_at_and_can_log_into_admin(client, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "Adm1n-Pass-Long-Enough!")
    call_command("createsuperuser", interactive=False, username="boss", verbosity=0)
    user = Account.objects.get(username="boss")
    assert user.is_staff and user.is_superuser and user.created_at is not None
    call_command("staff_totp", "boss", "--no-qr", stdout=open("/dev/null", "w"))
    code = current_code(totp_device(user))
    response = client.post("/admin/login/", {"username": "boss", "password": "Adm1n-Pass-Long-Enough!", "otp_token": code})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
