#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

# Any of these says "this shell is configured for a deployment": debug is never switched on then.
PRODUCTION_VARIABLES = ("DATABASE_URL", "ALLOWED_HOSTS", "SECRET_KEY", "REDIS_URL")


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dispatchnode.settings")
    # The Makefile's rule: a bare developer shell (neither DEBUG nor any production variable set)
    # runs with DEBUG=1. A shell that sets DATABASE_URL, ALLOWED_HOSTS, SECRET_KEY or REDIS_URL
    # but lost DEBUG gets the production settings, which refuse to start without their secrets.
    if "DEBUG" not in os.environ and not any(name in os.environ for name in PRODUCTION_VARIABLES):
        os.environ["DEBUG"] = "1"
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
