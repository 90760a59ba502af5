"""Re-verification of SSO sessions with the partner (REQUIREMENTS §1.4: each time the person
opens a business function, and again when they switch to another)."""

from __future__ import annotations

SSO_SESSION_KEY = "sso"  # {"login", "channel", "fn" (the function last verified), "return_url"}
