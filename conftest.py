"""Root pytest configuration: the test profile is chosen before Django loads."""

import os
from pathlib import Path

os.environ.setdefault("SHEBAO_ENV", "test")
os.environ.setdefault("SHEBAO_VAR_DIR", str(Path(__file__).parent / "var" / "test"))
