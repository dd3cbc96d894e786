"""Files kept under VAR_DIR that more than one part of the app reads, named in one place.

The demo API token file is written by `seed_demo` (`dispatchnode.demo`) and read by
`play_scenarios` (bookings), which may not import the demo package: both find it here.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

DEMO_API_TOKEN_FILE_NAME = "demo_api_token"  # noqa: S105 - a file name, not a secret


def demo_api_token_file() -> Path:
    """VAR_DIR/demo_api_token: the generated demo API token's key (mode 0600)."""
    return Path(settings.VAR_DIR) / DEMO_API_TOKEN_FILE_NAME
