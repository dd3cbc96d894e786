"""`python manage.py simulate_call --from +15125550142 [--say "..."]...`: one phone call to the
running app, played the way Twilio plays it (signed webhooks, TwiML followed). See
`bookings/voice/simulator.py`."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from bookings.voice.simulator import (
    Answer,
    CallEvent,
    CallSimulator,
    HttpTransport,
    line_credentials,
    new_call_sid,
)

DEMO_NUMBER = "+15125550100"


def default_base_url() -> str:
    return f"http://127.0.0.1:{os.environ.get('PORT') or 8000}"


class _Say(argparse.Action):
    def __call__(self, parser, namespace, values, option_string=None):
        answers = getattr(namespace, self.dest) or []
        answers.append(Answer.press(values) if option_string == "--press" else Answer.say(values))
        setattr(namespace, self.dest, answers)


class Command(BaseCommand):
    help = (
        "Play one phone call against the running app as Twilio would: a signed "
        "POST /twilio/voice/incoming, then the TwiML followed turn by turn. Requests are signed "
        "with the auth token of the organisation that owns --to, read from this database (the "
        "one the app uses), over PUBLIC_BASE_URL when it is set, else over --base-url. "
        "With --say/--press the caller answers each prompt with the next one, in order, and "
        "hangs up when they run out; without them the call is interactive: type what the caller "
        "says, an empty line is silence, #123 presses keys, Ctrl-D hangs up."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--from",
            dest="from_number",
            required=True,
            metavar="NUMBER",
            help="The caller's number.",
        )
        parser.add_argument(
            "--to",
            dest="to_number",
            metavar="NUMBER",
            default=DEMO_NUMBER,
            help=f"The organisation's number that is dialled (default {DEMO_NUMBER}, the demo).",
        )
        parser.add_argument(
            "--stir",
            default="",
            metavar="VERSTAT",
            help="StirVerstat of the call, e.g. TN-Validation-Passed-A (default: none sent).",
        )
        parser.add_argument(
            "--say",
            dest="answers",
            action=_Say,
            metavar="TEXT",
            help='The caller\'s next spoken answer (repeatable; --say "" is silence).',
        )
        parser.add_argument(
            "--press",
            dest="answers",
            action=_Say,
            metavar="DIGITS",
            help="The caller's next answer on the keypad, e.g. --press 0 (repeatable, in order "
            "with --say).",
        )
        parser.add_argument(
            "--base-url",
            default="",
            help="Where the app runs (default http://127.0.0.1:$PORT, PORT defaulting to 8000).",
        )

    def handle(
        self,
        *args,
        from_number: str,
        to_number: str,
        stir: str,
        answers: list[Answer] | None,
        base_url: str,
        **options,
    ) -> None:
        # The simulator reports errors itself; the HTTP client's warnings would repeat them.
        logging.getLogger("dispatchnode.core.http").setLevel(logging.ERROR)
        base_url = (base_url or default_base_url()).rstrip("/")
        credentials = line_credentials(number=to_number)
        if credentials is None:
            raise CommandError(
                f"No organisation with a Twilio auth token answers {to_number} in this database "
                "(run `python manage.py seed_demo` for the demo number, or pass --to)."
            )
        interactive = answers is None
        transport = HttpTransport(base_url=base_url, public_url=settings.PUBLIC_BASE_URL)
        simulator = CallSimulator(
            transport=transport,
            auth_token=credentials.auth_token,
            account_sid=credentials.account_sid,
            on_event=lambda event: self._print(event, interactive=interactive),
        )
        call_sid = new_call_sid()
        self.stdout.write(
            f"Calling {to_number} ({credentials.organization_name}) from {from_number} "
            f"at {base_url}, call {call_sid}"
            + (" (interactive: empty line = silence, #digits = keypad, Ctrl-D = hang up)")
            * interactive
        )
        if interactive:
            answer = self._ask
        else:
            queue = list(answers)

            def answer(prompt: str) -> Answer:
                return queue.pop(0) if queue else Answer.hang_up()

        try:
            transcript = simulator.play(
                from_number=from_number,
                to_number=to_number,
                stir_verstat=stir,
                call_sid=call_sid,
                answer=answer,
            )
        finally:
            transport.close()
        if transcript.ended_by == "unreachable":
            raise CommandError(
                f"{transcript.error} Is the app running (`make run`)? Otherwise pass --base-url."
            )
        if transcript.error:
            raise CommandError(f"The call failed: {transcript.error}")

    def _print(self, event: CallEvent, *, interactive: bool) -> None:
        if event.kind == "error":
            return  # raised as the command's error
        typed = interactive and sys.stdin.isatty() and event.text != "(hangs up)"
        if typed and event.kind == "caller":
            return  # the typed line is already on the screen
        self.stdout.write(event.line())

    def _ask(self, prompt: str) -> Answer:
        tty = sys.stdin.isatty()  # piped answers are echoed as CALLER lines instead
        try:
            line = input("CALLER: " if tty else "")
        except (EOFError, KeyboardInterrupt):
            if tty:
                self.stdout.write("")  # end the prompt's line
            return Answer.hang_up()
        line = line.strip()
        if line.startswith("#") and line[1:].strip():
            return Answer.press(line[1:].strip())
        return Answer.say(line)
