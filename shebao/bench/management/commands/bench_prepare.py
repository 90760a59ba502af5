"""Prepare the benchmark database (internal step of ``bench_flow``, run in the benchmark's
environment so the people are encrypted with the benchmark's own keys): migrate, the demo
reference data and people (``seed_demo``), ``--people`` synthetic payers created with
``seed_demo``'s own code, and the static-files manifest the development profile needs."""

from __future__ import annotations

import json
from unittest import mock

from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from shebao.bench import people
from shebao.core.management.commands.seed_demo import Command as SeedDemo


class Command(BaseCommand):
    help = "（内部）准备压力测试数据库：迁移、演示数据、压测用户"

    def add_arguments(self, parser):
        parser.add_argument("--people", type=int, required=True)
        parser.add_argument("--out", required=True, help="JSON file: the people (identifier, mobile, password)")
        parser.add_argument("--skip-static", action="store_true")

    def handle(self, *args, **opts):
        call_command("migrate", "--noinput", verbosity=0)
        call_command("seed_demo", stdout=self.stdout)
        # One argon2 hash (the production cost) shared by every benchmark account: hashing
        # each password separately would add 0.2 s per account to the set-up and nothing to
        # what is measured (a login still verifies the full-cost hash).
        shared_hash = make_password(people.PASSWORD)
        seeder = SeedDemo(stdout=self.stdout)
        with transaction.atomic(), mock.patch("django.contrib.auth.base_user.make_password", return_value=shared_hash):
            created = sum(seeder._person(people.demo_tuple(i)) for i in range(opts["people"]))
        self.stdout.write(f"压测用户：新增 {created} 人")
        with open(opts["out"], "w") as fh:
            json.dump([{**people.person(i), "password": people.PASSWORD} for i in range(opts["people"])], fh)
        if not opts["skip_static"]:
            call_command("collectstatic", "--noinput", verbosity=0)
