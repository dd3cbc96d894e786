"""A text progress bar for long management commands.

On a terminal it redraws one line (`[#########...........]  45 %  scoring 1,234/2,740`); in a
log file or CI it prints a line per tenth of each stage instead, so the output stays readable.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30


class ProgressBar:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._stage = ""
        self._shown_tenth = -1
        self._started = time.monotonic()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self._stage:
            if self.tty and self._stage:
                self.stream.write("\n")
            self._stage, self._shown_tenth, self._started = stage, -1, time.monotonic()
        fraction = done / total if total else 1.0
        line = (
            f"[{'#' * round(WIDTH * fraction):{'.'}<{WIDTH}}] {100 * fraction:3.0f} %  "
            f"{stage} {done:,}/{total:,}  {time.monotonic() - self._started:.1f} s"
        )
        if self.tty:
            self.stream.write("\r" + line)
            if done >= total:
                self.stream.write("\n")
                self._stage = ""
        else:
            tenth = int(fraction * 10)
            if tenth > self._shown_tenth:
                self._shown_tenth = tenth
                self.stream.write(line + "\n")
        self.stream.flush()
