"""The domain packages reach the core and the outside systems through the ports
only: no domain module imports ``shebao.core`` (the embedded core's storage) or an
adapter implementation. Allowed from ``shebao.adapters``: a port package itself
(``shebao.adapters.core``, whose ``get_*`` factory picks the configured
implementation) and its ``port`` module (docs/architecture.md, "Packages").

And the other way round: ``shebao.core`` is imported only by its adapter and the
demo and benchmark tooling, so a deployment with the real core can leave it out."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import shebao

ROOT = Path(shebao.__file__).parent
DOMAINS = ["accounts", "agreements", "fees", "refunds", "rules", "archive", "audit", "receipts", "query", "reference", "jobs", "web", "manual",
           "notices", "ops", "sso"]
NOT_DOMAINS = ["adapters", "bench", "common", "core"]  # the ports and adapters, tooling, shared code, the embedded core
PORT_PACKAGES = sorted(p.parent.name for p in (ROOT / "adapters").glob("*/port.py"))
# who may import the embedded core: its adapter, the demo people of the identity-check and
# bank simulators, the benchmark tooling (demo data, seed_demo), and the core itself
CORE_IMPORTERS = ("shebao/core/", "shebao/adapters/core/", "shebao/adapters/identity/simulator.py",
                  "shebao/adapters/bank/simulator.py", "shebao/adapters/partner/simulator.py", "shebao/bench/")


def imported_modules(path: Path) -> list[str]:
    return imported_modules_of(path.read_text(encoding="utf-8"))


def imported_modules_of(source: str) -> list[str]:
    """Every absolute module an ``import`` or ``from … import`` names (also inside
    functions); ``from shebao.adapters import core`` counts as ``shebao.adapters.core``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
            if node.module in ("shebao", "shebao.adapters"):
                found += [f"{node.module}.{alias.name}" for alias in node.names]
    return found


def forbidden(module: str) -> bool:
    if module == "shebao.core" or module.startswith("shebao.core."):
        return True
    if module == "shebao.adapters" or not module.startswith("shebao.adapters."):
        return False
    parts = module.split(".")[2:]  # after "shebao.adapters"
    return not (parts[0] in PORT_PACKAGES and parts[1:] in ([], ["port"]))


@pytest.mark.parametrize("domain", DOMAINS)
def test_a_domain_imports_no_core_and_no_adapter_implementation(domain):
    package = ROOT / domain
    assert package.is_dir(), domain
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in sorted(package.rglob("*.py"))
        for module in imported_modules(path)
        if forbidden(module)
    ]
    assert offenders == []


def test_every_package_is_classified():
    """A new package is a domain (and checked above) unless named here on purpose."""
    packages = sorted(p.parent.name for p in ROOT.glob("*/__init__.py"))
    assert packages == sorted(DOMAINS + NOT_DOMAINS)


def test_the_rule_itself():
    assert PORT_PACKAGES == ["bank", "core", "identity", "partner", "payment", "sms", "wechat"]
    allowed = [
        "shebao.adapters.core",
        "shebao.adapters.core.port",
        "shebao.adapters.payment",
        "shebao.common.identity",
        "shebao.reference.models",
    ]
    refused = [
        "shebao.core",
        "shebao.core.models",
        "shebao.adapters.core.embedded",
        "shebao.adapters.payment.wechatpay",
        "shebao.adapters.sms.simulator",
        "shebao.adapters.http",
        "shebao.adapters.loopback",
    ]
    assert [m for m in allowed if forbidden(m)] == []
    assert [m for m in refused if not forbidden(m)] == []
    assert imported_modules_of("from shebao.adapters import http, core\nimport shebao.core.models") == [
        "shebao.adapters",
        "shebao.adapters.http",
        "shebao.adapters.core",
        "shebao.core.models",
    ]


def test_the_embedded_core_is_imported_only_by_its_adapter_and_the_demo_tooling():
    importers = sorted(
        str(path.relative_to(ROOT.parent))
        for path in ROOT.rglob("*.py")
        if any(m == "shebao.core" or m.startswith("shebao.core.") for m in imported_modules(path))
    )
    assert importers and [p for p in importers if not p.startswith(CORE_IMPORTERS)] == []
