#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dispatchnode.settings")
    # The Makefile's rule: local development runs with DEBUG=1 unless DEBUG or SECRET_KEY was
    # chosen (a deployment always sets SECRET_KEY, so this never turns debug on there).
    if "DEBUG" not in os.environ and "SECRET_KEY" not in os.environ:
        os.environ["DEBUG"] = "1"
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
