import pytest

from shebao.notices.selectors import clear_live_cache


@pytest.fixture(autouse=True)
def _fresh_live_notices():
    """A rolled-back test leaves a version number another test reuses: start with no copy."""
    clear_live_cache()
    yield
    clear_live_cache()
