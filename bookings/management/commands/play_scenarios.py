"""`python manage.py play_scenarios [PATHS...]`: play phone scenario files against the running app
and check their outcomes through the REST API. See `bookings/voice/scenarios.py` and
`tests/voice/scenarios/README.md` for the format."""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from bookings.management.commands.simulate_call import default_base_url
from bookings.voice.scenarios import (
    ApiError,
    HttpApi,
    ScenarioError,
    scenario_files,
    scenario_load,
    scenario_play,
)
from bookings.voice.simulator import CallSimulator, HttpTransport, LineCredentials, line_credentials
from dispatchnode.core.varfiles import demo_api_token_file

DEFAULT_SCENARIOS = Path(settings.BASE_DIR) / "tests" / "voice" / "scenarios"


def demo_api_token() -> str:
    """The key `make run` (seed_demo) prints: DEMO_API_TOKEN, else VAR_DIR/demo_api_token."""
    if settings.DEMO_API_TOKEN:
        return settings.DEMO_API_TOKEN
    try:
        return demo_api_token_file().read_text().strip()
    except OSError:
        return ""


class Command(BaseCommand):
    help = (
        "Play phone scenario files (default: tests/voice/scenarios/) against the running app, "
        "each as one Twilio call signed with the token of the organisation its `to` number "
        "belongs to in this database, and check the outcomes through the REST API. Prints "
        "PASS/FAIL per scenario with the failed checks and the transcript of a failure; exits "
        "with status 1 when any failed. Calls change the data: a new caller of one run is a "
        "returning customer in the next (`seed_demo --reset` starts over)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "paths",
            nargs="*",
            type=Path,
            metavar="PATH",
            help="Scenario files or directories of *.yaml (default: tests/voice/scenarios/).",
        )
        parser.add_argument(
            "--base-url",
            default="",
            help="Where the app runs (default http://127.0.0.1:$PORT, PORT defaulting to 8000).",
        )
        parser.add_argument(
            "--token",
            default="",
            help="API token key for the checks (default: the demo API token, as `make run` "
            "prints it: DEMO_API_TOKEN or VAR_DIR/demo_api_token).",
        )
        parser.add_argument(
            "--transcripts",
            action="store_true",
            help="Print the transcript of passing scenarios too.",
        )

    def handle(
        self, *args, paths: list[Path], base_url: str, token: str, transcripts: bool, **options
    ) -> None:
        logging.getLogger("dispatchnode.core.http").setLevel(logging.ERROR)
        base_url = (base_url or default_base_url()).rstrip("/")
        token = token or demo_api_token()
        if not token:
            raise CommandError(
                "No API token: run `python manage.py seed_demo` (or `make run`) to create the "
                "demo one, or pass --token."
            )
        try:
            scenarios = [
                scenario_load(path) for path in scenario_files(paths or [DEFAULT_SCENARIOS])
            ]
        except ScenarioError as exc:
            raise CommandError(str(exc)) from exc
        if not scenarios:
            raise CommandError("No scenario files found.")

        api = HttpApi(base_url=base_url, token=token)
        transport = HttpTransport(base_url=base_url, public_url=settings.PUBLIC_BASE_URL)
        try:
            self._preflight(api, base_url)
            failed = 0
            lines: dict[str, LineCredentials | None] = {}
            for scenario in scenarios:
                if scenario.to_number not in lines:
                    lines[scenario.to_number] = line_credentials(number=scenario.to_number)
                credentials = lines[scenario.to_number]
                if credentials is None:
                    failed += 1
                    self.stdout.write(
                        self.style.ERROR(f"FAIL {scenario.label}")
                        + f"\n    no organisation with a Twilio auth token answers "
                        f"{scenario.to_number} in this database (run seed_demo)"
                    )
                    continue
                simulator = CallSimulator(
                    transport=transport,
                    auth_token=credentials.auth_token,
                    account_sid=credentials.account_sid,
                )
                result = scenario_play(scenario=scenario, simulator=simulator, api=api)
                failed += not result.passed
                report = result.report(transcript=True if transcripts else None)
                head, _, rest = report.partition("\n")
                style = self.style.SUCCESS if result.passed else self.style.ERROR
                self.stdout.write(style(head) + ("\n" + rest if rest else ""))
        finally:
            api.close()
            transport.close()
        total = len(scenarios)
        self.stdout.write(f"{total - failed} of {total} scenarios passed.")
        if failed:
            raise CommandError(f"{failed} of {total} scenarios failed.")

    def _preflight(self, api: HttpApi, base_url: str) -> None:
        """One cheap API call first, so a stopped server or a wrong token is one clear line."""
        try:
            api.get("/api/v1/calls/", {"page_size": 1})
        except ApiError as exc:
            raise CommandError(
                f"{exc} Is the app running at {base_url} (`make run`, or pass --base-url), and "
                "is the token valid (--token)?"
            ) from exc
