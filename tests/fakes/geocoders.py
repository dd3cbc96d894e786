"""Local fake HTTP servers for the Census and Nominatim geocoders (real sockets, no mocks).

Each answers by the provider's public contract (see the docstring of `customers.geocoding`
for the documents followed) for a small table of known addresses, answers "no match" for
anything else, and can be told to misbehave: `server.fail("unavailable")` makes every request
fail until `server.fail(None)`; `server.fail("unavailable", times=2)` fails the next two only.

`LocalHttpServer` is the generic part (a thread, port 0 on 127.0.0.1, a request log and the
misbehaviours) and is also used directly by the HTTP client's own tests via `reply`.
"""

from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# What `fail()` can make a server do, each the way real providers do it.
MISBEHAVIOURS = ("unavailable", "server_error", "rate_limited", "slow", "html", "unauthorized")


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    drop: bool = False  # close the connection without answering

    @classmethod
    def json(cls, payload: Any, status: int = 200, **headers: str) -> Reply:
        return cls(
            status=status,
            body=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json; charset=utf-8", **headers},
        )


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


class LocalHttpServer:
    """A threaded HTTP server on 127.0.0.1:<free port>; subclasses implement `answer`."""

    slow_seconds = 2.0

    def __init__(self) -> None:
        self.requests: list[SeenRequest] = []
        self.retry_after = "7"
        self._failure: str | None = None
        self._failures_left: int | None = None
        self._scripted: list[Reply] = []
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # --- lifecycle -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> LocalHttpServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()  # wake any "slow" handler still sleeping
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # --- behaviour -------------------------------------------------------------------------

    def fail(self, kind: str | None, *, times: int | None = None) -> None:
        """Misbehave with `kind` (see MISBEHAVIOURS) for `times` requests, or until reset."""
        if kind is not None and kind not in MISBEHAVIOURS:
            raise ValueError(f"unknown misbehaviour {kind!r}")
        with self._lock:
            self._failure, self._failures_left = kind, times

    def reply(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, in order, before anything else."""
        with self._lock:
            self._scripted.extend(replies)

    def answer(self, request: SeenRequest) -> Reply:
        raise NotImplementedError

    # --- internals -------------------------------------------------------------------------

    def _next_reply(self, request: SeenRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self._scripted:
                return self._scripted.pop(0)
            failure = self._failure
            if failure is not None and self._failures_left is not None:
                self._failures_left -= 1
                if self._failures_left <= 0:
                    self._failure, self._failures_left = None, None
        if failure is not None:
            return self._misbehave(failure, request)
        return self.answer(request)

    def _misbehave(self, kind: str, request: SeenRequest) -> Reply:
        if kind == "unavailable":
            return Reply(503, b"Service Unavailable", {"Content-Type": "text/plain"})
        if kind == "server_error":
            return Reply(500, b"Internal Server Error", {"Content-Type": "text/plain"})
        if kind == "rate_limited":
            return Reply(429, b"Too Many Requests", {"Retry-After": self.retry_after})
        if kind == "slow":  # the right answer, too late
            reply = self.answer(request)
            reply.delay = self.slow_seconds
            return reply
        if kind == "html":
            page = b"<!DOCTYPE html><html><body><h1>Maintenance</h1></body></html>"
            return Reply(200, page, {"Content-Type": "text/html; charset=utf-8"})
        return Reply(401, b'{"error": "unauthorized"}', {"Content-Type": "application/json"})

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                seen = SeenRequest(
                    method=self.command,
                    path=parts.path,
                    query={k: v[-1] for k, v in parse_qs(parts.query).items()},
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                reply = owner._next_reply(seen)
                if reply.delay and owner._released.wait(reply.delay):
                    return  # the test is over; nobody is listening any more
                if reply.drop:
                    self.close_connection = True
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def handle(self) -> None:
                # The client may give up first (a timeout test).
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    super().handle()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


# --- Census ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class KnownAddress:
    street: str
    city: str
    state: str
    zip_code: str
    latitude: float
    longitude: float
    # Nominatim only: the OSM feature found (category/type) and its search rank.
    category: str = "building"
    kind: str = "house"
    place_rank: int = 30
    county: str = ""


KNOWN_ADDRESSES = (
    KnownAddress(
        "123 MAIN ST", "AUSTIN", "TX", "78701", 30.268035, -97.742682, county="Travis County"
    ),
    KnownAddress(
        "123 OAK ST",
        "AUSTIN",
        "TX",
        "78702",
        30.262189,
        -97.719321,
        category="highway",
        kind="residential",
        place_rank=26,
        county="Travis County",
    ),
    KnownAddress(
        "4600 SILVER HILL RD", "WASHINGTON", "DC", "20233", 38.846016, -76.927487, county=""
    ),
)


def _same(a: str, b: str) -> bool:
    return " ".join(a.upper().replace(".", "").split()) == " ".join(
        b.upper().replace(".", "").split()
    )


def find_known(street: str, city: str, state: str, zip_code: str) -> KnownAddress | None:
    """A known address whose street matches and whose ZIP, or city and state, agree."""
    for known in KNOWN_ADDRESSES:
        if not _same(street, known.street):
            continue
        if zip_code[:5] == known.zip_code or (
            _same(city, known.city) and _same(state, known.state)
        ):
            return known
    return None


class FakeCensusGeocoder(LocalHttpServer):
    """`GET /geocoder/locations/address` as geocoding.geo.census.gov answers it."""

    path = "/geocoder/locations/address"
    benchmarks = {"Public_AR_Current", "4", "Public_AR_ACS2024", "8"}

    def answer(self, request: SeenRequest) -> Reply:
        query = request.query
        if request.path != self.path:
            return Reply(404, b"Not Found", {"Content-Type": "text/plain"})
        if query.get("benchmark") not in self.benchmarks:
            return self._refuse("A valid benchmark is required")
        street = query.get("street", "")
        if not street or len(street) > 100:
            return self._refuse("Street address cannot be empty and cannot exceed 100 characters")
        known = find_known(
            street, query.get("city", ""), query.get("state", ""), query.get("zip", "")
        )
        result = {
            "input": {
                "address": {
                    key: query[key] for key in ("street", "city", "state", "zip") if key in query
                },
                "benchmark": {
                    "isDefault": False,
                    "benchmarkDescription": "Public Address Ranges - Current Benchmark",
                    "id": "4",
                    "benchmarkName": "Public_AR_Current",
                },
            },
            "addressMatches": [self._match(known)] if known else [],
        }
        if query.get("format") != "json":  # the HTML page a browser gets
            return Reply(200, b"<html><body>Geocoder</body></html>", {"Content-Type": "text/html"})
        return Reply.json({"result": result})

    @staticmethod
    def _refuse(message: str) -> Reply:
        return Reply.json({"errors": [message], "status": "400"}, status=400)

    @staticmethod
    def _match(known: KnownAddress) -> dict[str, Any]:
        number, _, rest = known.street.partition(" ")
        name, _, suffix = rest.rpartition(" ")
        return {
            "tigerLine": {"side": "L", "tigerLineId": "76355984"},
            "coordinates": {"x": known.longitude, "y": known.latitude},
            "addressComponents": {
                "zip": known.zip_code,
                "streetName": name,
                "preType": "",
                "city": known.city,
                "preDirection": "",
                "suffixDirection": "",
                "fromAddress": number,
                "state": known.state,
                "suffixType": suffix,
                "toAddress": str(int(number) + 98),
                "suffixQualifier": "",
                "preQualifier": "",
            },
            "matchedAddress": (f"{known.street}, {known.city}, {known.state}, {known.zip_code}"),
        }


# --- Nominatim ------------------------------------------------------------------------------

STATE_NAMES = {"TX": "Texas", "DC": "District of Columbia"}


class FakeNominatim(LocalHttpServer):
    """`GET /search` (structured, `format=jsonv2`) as nominatim.openstreetmap.org answers it.

    Like the public server it refuses (403) requests without an identifying User-Agent: its
    usage policy blocks library-default agents.
    """

    def answer(self, request: SeenRequest) -> Reply:
        query = request.query
        if request.path != "/search":
            return Reply(404, b"Not Found", {"Content-Type": "text/plain"})
        agent = request.headers.get("user-agent", "")
        if not agent or agent.startswith(("python-httpx", "python-requests", "Python-urllib")):
            return Reply(
                403, b"Access blocked: see the usage policy", {"Content-Type": "text/html"}
            )
        if query.get("format") != "jsonv2":
            return Reply.json({"error": {"code": 400, "message": "Use format=jsonv2"}}, status=400)
        known = find_known(
            query.get("street", ""),
            query.get("city", ""),
            query.get("state", ""),
            query.get("postalcode", ""),
        )
        if known is None or query.get("countrycodes", "us") != "us":
            return Reply.json([])
        return Reply.json([self._place(known, details=query.get("addressdetails") == "1")])

    @staticmethod
    def _place(known: KnownAddress, *, details: bool) -> dict[str, Any]:
        number, _, road = known.street.partition(" ")
        road = road.title().replace(" St", " Street").replace(" Rd", " Road")
        state = STATE_NAMES.get(known.state, known.state)
        address = {
            "road": road,
            "city": known.city.title(),
            "county": known.county,
            "state": state,
            "ISO3166-2-lvl4": f"US-{known.state}",
            "postcode": known.zip_code,
            "country": "United States",
            "country_code": "us",
        }
        if known.category != "highway":
            address = {"house_number": number, **address}
        display = ", ".join(
            v for k, v in address.items() if k not in {"ISO3166-2-lvl4", "country_code"}
        )
        place = {
            "place_id": 298146584,
            "licence": "Data © OpenStreetMap contributors, ODbL 1.0. http://osm.org/copyright",
            "osm_type": "way",
            "osm_id": 27213213,
            "lat": f"{known.latitude:.7f}",
            "lon": f"{known.longitude:.7f}",
            "category": known.category,
            "type": known.kind,
            "place_rank": known.place_rank,
            "importance": 0.00001,
            "addresstype": "building" if known.category == "building" else "road",
            "name": "",
            "display_name": display,
            "boundingbox": [
                f"{known.latitude - 0.0001:.7f}",
                f"{known.latitude + 0.0001:.7f}",
                f"{known.longitude - 0.0001:.7f}",
                f"{known.longitude + 0.0001:.7f}",
            ],
        }
        if details:
            place["address"] = address
        return place


class ScriptedServer(LocalHttpServer):
    """Answers only what a test scripts with `reply()`; 404 otherwise."""

    def answer(self, request: SeenRequest) -> Reply:
        return Reply(404, b"nothing scripted", {"Content-Type": "text/plain"})
