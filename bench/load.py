"""Load benchmark: the portal's token endpoint and whoami against django-oauth-toolkit, over HTTP.

    .venv/bin/python bench/load.py [--quick] [--portal-db default|server-side-binding|pool]
    .venv/bin/python bench/load.py --compare-db [--quick]
    .venv/bin/python bench/load.py --compare-usage [--quick] [--portal-db ...]

Serves the portal (`gunicorn tango_portal.wsgi`, settings bench/portal_settings.py) and a
minimal django-oauth-toolkit 3.x project (bench/peer/) side by side, each by gunicorn with
the same sync workers on its own PostgreSQL database (`bench_load`, `bench_peer`, dropped
at the end), and drives one of them at a time from a load generator on loopback:

- token issue (POST, password grant) at concurrency 2, 4 and 8, every request with an
  account of its own, since the portal issues at most one token a day per client,
  account and audience;
- whoami (GET with a bearer token, a handful of tokens reused) at concurrency 8 and 32.

Each run stops at a number of requests or of seconds, whichever comes first. The two
systems take turns within each phase, three times, and the table gives each system's
median over those runs: throughput, latency percentiles, errors (any answer but 200),
and the portal / DOT throughput ratio against the targets (token issue >= 1.6x,
whoami >= 1.5x, no errors). Two limits are measured in the same run: bare argon2id
verifications per second in as many processes as workers (a token request verifies one
hash in the portal and two in DOT, its client secret and the password), and a trivial
JSON view under the portal's gunicorn at whoami's concurrency.

The load generator is raw asyncio streams (HTTP/1.1, Content-Length framing, the
connection kept while the server keeps it; gunicorn's sync workers close it after every
answer), because an HTTP client library would be the bottleneck of the GET phase. It
runs in one process on the same cores as the servers, which costs both systems alike.

The machine may be shared: before each run the benchmark waits, within an allowance
for the whole run, until other work leaves the CPUs idle, and reports how busy they
were just before the runs (a run on a busy machine measures the neighbour too).

--portal-db picks the portal's database setting (DATABASE_SERVER_SIDE_BINDING=1 or
DATABASE_POOL=1); --compare-db runs only the portal's phases, once with each setting,
taking turns in the same way, to pick the fastest. --compare-usage runs only the portal's
phases with its usage evidence (credentials.usage) off and on, in turns, for what recording
costs. --quick is a short smoke run.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, Python puts bench/ first on the path; the project root is what this needs.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter, defaultdict  # noqa: E402
from collections.abc import Iterator, Sequence  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from importlib.metadata import version  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

from bench._common import (  # noqa: E402
    POSTGRES_SERVER,
    ROOT,
    database_url,
    drop_database,
    ensure_database,
    machine,
    table,
)

HOST = "127.0.0.1"
PORTAL_DB = "bench_load"
PEER_DB = "bench_peer"
WORKERS = 2
TOKEN_CONCURRENCY = (2, 4, 8)
WHOAMI_CONCURRENCY = (8, 32)
TOKEN_TARGET = 1.6
WHOAMI_TARGET = 1.5
# Tokens each system issues before whoami, reused by its requests.
WHOAMI_TOKENS = 8
# Untimed requests per system first, so that every worker has loaded everything.
WARMUP_TOKENS = 40
WARMUP_SECONDS = 2.0
REQUEST_TIMEOUT = 60.0
TRIVIAL_PATH = "/bench/trivial"
# Share of the CPUs busy with other work around a run above which the run waits, or is flagged.
BUSY_WARNING = 0.15
READY_TIMEOUT = 60.0
FORM = {"grant_type": "password", "scope": "raas.all", "audience": "https://api.tangocard.com/"}
# What DATABASE_POOL and DATABASE_SERVER_SIDE_BINDING the portal's gunicorn gets.
PORTAL_DB_OPTIONS = {
    "default": {"DATABASE_POOL": "0", "DATABASE_SERVER_SIDE_BINDING": "0"},
    "server-side-binding": {"DATABASE_POOL": "0", "DATABASE_SERVER_SIDE_BINDING": "1"},
    "pool": {"DATABASE_POOL": "1", "DATABASE_SERVER_SIDE_BINDING": "0"},
}
# --compare-usage: the portal with its usage evidence off (the baseline) and on.
USAGE_OPTIONS = {
    "usage off": {"USAGE_RECORDING": "0"},
    "usage recorded": {"USAGE_RECORDING": "1"},
}


@dataclass(frozen=True)
class Budget:
    """How long a run goes on: each phase run stops at its requests or its seconds."""

    reps: int
    seconds: float
    token_requests: int
    whoami_requests: int
    argon_seconds: float
    # Seconds the whole run may spend waiting for other work to leave the CPUs.
    quiet_wait: float


FULL = Budget(
    reps=3, seconds=10.0, token_requests=1500, whoami_requests=40_000, argon_seconds=5.0, quiet_wait=150.0
)
QUICK = Budget(
    reps=2, seconds=1.5, token_requests=250, whoami_requests=6_000, argon_seconds=1.5, quiet_wait=20.0
)


# --- HTTP on asyncio streams ---------------------------------------------------------------


def http_request(port: int, method: str, path: str, headers: dict[str, str], body: str = "") -> bytes:
    """One HTTP/1.1 request, ready to write."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}", *(f"{k}: {v}" for k, v in headers.items())]
    if body:
        lines.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes, bool]:
    """Send one request and read its answer: (status, body, whether the connection stays open)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head[:-4].split(b"\r\n")
    http_version, status, *_ = status_line.split(b" ", 2)
    length: int | None = None
    keep = http_version == b"HTTP/1.1"
    for line in header_lines:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection":
            keep = value.strip().lower() != b"close"
        elif name == b"transfer-encoding":
            raise ValueError("chunked answers are not expected here")
    if length is not None:
        body = await reader.readexactly(length)
    elif keep:
        raise ValueError("an answer on a kept connection without Content-Length")
    else:
        body = await reader.read()
    return int(status), body, keep


async def request_once(port: int, request: bytes) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT):
            status, body, _keep = await exchange(reader, writer, request)
    finally:
        writer.close()
    return status, body


@dataclass
class Run:
    """One phase run against one system: every answer's latency, and what went wrong."""

    latencies: list[float]
    ok: int
    failures: Counter[str]
    samples: list[str]
    elapsed: float
    # Share of the machine's CPU busy with other work just before or just after the run
    # (the larger), when the servers were idle.
    busy: float = float("nan")

    @property
    def throughput(self) -> float:
        return self.ok / self.elapsed

    @property
    def errors(self) -> int:
        return sum(self.failures.values())

    def percentiles_ms(self) -> tuple[float, float, float]:
        if len(self.latencies) < 2:
            return (float("nan"),) * 3
        cuts = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return cuts[49] * 1000, cuts[94] * 1000, cuts[98] * 1000


async def load(port: int, requests: Sequence[bytes], concurrency: int, limit: int, seconds: float) -> Run:
    """`concurrency` clients, each sending its next request when the last is answered.

    Request i is requests[i % len(requests)]; no request starts after `limit` were
    started or `seconds` passed, and the run ends when the last one is answered.
    """
    latencies: list[float] = []
    failures: Counter[str] = Counter()
    samples: list[str] = []
    started = time.perf_counter()
    deadline = started + seconds
    issued = 0
    ok = 0

    def failed(reason: str, detail: str) -> None:
        failures[reason] += 1
        if len(samples) < 3:
            samples.append(f"{reason}: {detail[:300]}")

    async def client() -> None:
        nonlocal issued, ok
        connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            while issued < limit and time.perf_counter() < deadline:
                request = requests[issued % len(requests)]
                issued += 1
                begin = time.perf_counter()
                try:
                    async with asyncio.timeout(REQUEST_TIMEOUT):
                        if connection is None:
                            connection = await asyncio.open_connection(HOST, port)
                        status, body, keep = await exchange(*connection, request)
                except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as error:
                    failed(type(error).__name__, str(error))
                    if connection is not None:
                        connection[1].close()
                        connection = None
                    continue
                latencies.append(time.perf_counter() - begin)
                if status == 200:
                    ok += 1
                else:
                    failed(f"HTTP {status}", body.decode(errors="replace"))
                if not keep:
                    connection[1].close()
                    connection = None
        finally:
            if connection is not None:
                connection[1].close()

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return Run(latencies, ok, failures, samples, time.perf_counter() - started)


# --- The servers -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class Server:
    """gunicorn with WORKERS sync workers, its output kept in a file to show when it fails.

    The portal runs with `gunicorn.conf.py`, the configuration `make serve` and a deployment
    use; the options given here (workers, address, log level) take precedence over it.
    """

    def __init__(
        self, label: str, wsgi_module: str, env: dict[str, str], ready_path: str, config: Path | None = None
    ) -> None:
        self.label = label
        self.port = free_port()
        self.ready_path = ready_path
        # Removed in stop(), when the server is.
        self.log = tempfile.NamedTemporaryFile("w", prefix="bench-load-", suffix=".log")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                *([f"--config={config}"] if config else []),
                f"--workers={WORKERS}",
                "--worker-class=sync",
                f"--bind={HOST}:{self.port}",
                "--log-level=warning",
                wsgi_module,
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self) -> None:
        """Until the server answers anything at all on its ready path."""
        deadline = time.monotonic() + READY_TIMEOUT
        request = http_request(self.port, "GET", self.ready_path, {})
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(
                    f"{self.label}: gunicorn exited with {self.process.returncode}\n{self.output()}"
                )
            try:
                asyncio.run(request_once(self.port, request))
                return
            except (OSError, asyncio.IncompleteReadError):
                time.sleep(0.2)
        raise SystemExit(
            f"{self.label}: gunicorn did not answer within {READY_TIMEOUT:.0f} s\n{self.output()}"
        )

    def output(self, lines: int = 60) -> str:
        """The last lines gunicorn and the workers wrote, read apart from the handle they write to."""
        tail = Path(self.log.name).read_text(errors="replace").splitlines()[-lines:]
        return "\n".join(f"    | {line}" for line in tail) or "    | (nothing)"

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


@dataclass
class System:
    """One server under test and what its requests need: a client, accounts, tokens."""

    label: str
    server: Server
    token_path: str
    whoami_path: str
    seed: dict[str, Any]
    accounts: Iterator[str]
    tokens: list[str] = field(default_factory=list)

    def token_requests(self, count: int) -> list[bytes]:
        """`count` token requests, each for an account no earlier request used."""
        form = {**FORM, "client_id": self.seed["client_id"], "client_secret": self.seed["client_secret"]}
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return [
            http_request(
                self.server.port,
                "POST",
                self.token_path,
                headers,
                urlencode({**form, "username": next(self.accounts), "password": self.seed["password"]}),
            )
            for _ in range(count)
        ]

    def whoami_requests(self) -> list[bytes]:
        return [
            http_request(self.server.port, "GET", self.whoami_path, {"Authorization": f"Bearer {token}"})
            for token in self.tokens
        ]

    def issue_tokens(self, count: int) -> None:
        for request in self.token_requests(count):
            status, body = asyncio.run(request_once(self.server.port, request))
            if status != 200:
                raise SystemExit(
                    f"{self.label}: token request answered {status}: {body[:300]!r}\n{self.server.output()}"
                )
            self.tokens.append(json.loads(body)["access_token"])


def portal_env(secret_key: str, database_option: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The portal's production settings on the bench database, and nothing inherited that changes them."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "DATABASE_CONN_MAX_AGE", "DJANGO_STATIC_ROOT"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="bench.portal_settings",
        DATABASE_URL=database_url("postgresql", PORTAL_DB),
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secret_key,
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        **PORTAL_DB_OPTIONS[database_option],
        **(extra or {}),
    )
    return env


def peer_env(secret_key: str) -> dict[str, str]:
    """The reference project's settings on its own database."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.peer.settings",
        "DATABASE_URL": database_url("postgresql", PEER_DB),
        "DJANGO_SECRET_KEY": secret_key,
    }


def seed(jobs: dict[str, tuple[str, dict[str, str]]], accounts: int) -> dict[str, dict[str, Any]]:
    """Run the seed modules at once, each in its own Django; the JSON line each printed."""
    processes = {
        name: subprocess.Popen(
            [sys.executable, "-m", module, str(accounts)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, (module, env) in jobs.items()
    }
    results = {}
    for name, process in processes.items():
        out, err = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"seeding {name} failed ({jobs[name][0]}):\n{err}")
        results[name] = json.loads(out.strip().splitlines()[-1])
    return results


# --- The argon2id limit ------------------------------------------------------------------


def verify_until(encoded: str, password: str, start_at: float, stop_at: float) -> int:
    """Verifications of `encoded` between two instants of the system-wide monotonic clock."""
    from tango_portal.accounts.hashers import PortalArgon2PasswordHasher

    hasher = PortalArgon2PasswordHasher()
    time.sleep(max(0.0, start_at - time.monotonic()))
    count = 0
    while time.monotonic() < stop_at:
        assert hasher.verify(password, encoded)
        count += 1
    return count


def argon2_rate(pool: Any, encoded: str, password: str, seconds: float) -> float:
    """Verifications per second of WORKERS processes at once, as many as the servers' workers."""
    start_at = time.monotonic() + 0.5
    counts = pool.starmap(verify_until, [(encoded, password, start_at, start_at + seconds)] * WORKERS)
    return sum(counts) / seconds


# --- Running the phases ------------------------------------------------------------------


# What one phase drives: a label, its server, and the requests it sends in turn.
Target = tuple[str, Server, Sequence[bytes]]


class Results:
    """Phase runs by (phase, concurrency, label), each started once other work has left the CPUs.

    Before a run it waits while the CPUs are more than BUSY_WARNING busy, within a
    total allowance of `quiet_wait` seconds for the whole benchmark, so that another
    job on the machine does not make its runs look slow. Each run records how busy the
    CPUs were just before and just after it, so that one disturbed anyway says so.
    """

    def __init__(self, quiet_wait: float) -> None:
        self.runs: defaultdict[tuple[str, int, str], list[Run]] = defaultdict(list)
        self.quiet_wait = quiet_wait

    def __getitem__(self, key: tuple[str, int, str]) -> list[Run]:
        return self.runs[key]

    def all(self) -> list[Run]:
        return [run for runs in self.runs.values() for run in runs]

    def quiet(self) -> float:
        """Wait for idle CPUs, as the allowance lets; the share busy just before the run."""
        busy = busy_fraction()
        if busy > BUSY_WARNING and self.quiet_wait > 0:
            progress(f"  CPU {busy:.0%} busy with other work: waiting (up to {self.quiet_wait:.0f} s left)")
        while busy > BUSY_WARNING and self.quiet_wait > 0:
            started = time.monotonic()
            busy = busy_fraction()
            self.quiet_wait -= time.monotonic() - started
        return busy

    def measure(
        self, key: tuple[str, int, str], server: Server, requests: Sequence[bytes], limit: int, seconds: float
    ) -> None:
        """One run of `key`; its failures are printed with the server's output."""
        phase, concurrency, label = key
        busy = self.quiet()
        run = asyncio.run(load(server.port, requests, concurrency, limit, seconds))
        run.busy = max(busy, busy_fraction())
        self.runs[key].append(run)
        p50, _p95, p99 = run.percentiles_ms()
        progress(
            f"  {phase} c={concurrency} {label}: {run.throughput:7.1f} req/s, p50 {p50:.1f} ms, "
            f"p99 {p99:.1f} ms, {len(run.latencies)} answers in {run.elapsed:.1f} s, errors {run.errors}; "
            f"CPU busy with other work around it: {run.busy:.0%}"
        )
        if run.errors:
            progress(f"  !!! {run.errors} ERRORS from {label}: {dict(run.failures)}")
            for sample in run.samples:
                progress(f"      {sample}")
            progress(f"  {label}'s gunicorn output, last lines:\n{server.output()}")


def busy_fraction(seconds: float = 0.5) -> float:
    """Share of all CPUs busy over `seconds` (Linux /proc/stat): other work, while the servers idle.

    Work outside this benchmark, even where `ps` cannot see it, takes cores from the
    servers; a run that starts on a busy machine measures less than the code.
    """

    def sample() -> tuple[int, int]:
        # user nice system idle iowait irq softirq steal: idle and iowait are not busy.
        ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        return sum(ticks), ticks[3] + ticks[4]

    try:
        total_before, idle_before = sample()
        time.sleep(seconds)
        total_after, idle_after = sample()
    except (OSError, ValueError):
        return float("nan")
    total = total_after - total_before
    return 1 - (idle_after - idle_before) / total if total else float("nan")


def rep_ratios(runs: Sequence[Run], baselines: Sequence[Run]) -> str:
    """Each rep's throughput ratio: the two runs of a rep are neighbours in time, so drift shows here."""
    return " ".join(
        f"{run.throughput / base.throughput:.2f}" for run, base in zip(runs, baselines, strict=True)
    )


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def whoami_targets(systems: Sequence[System], trivial: Server | None) -> list[Target]:
    targets: list[Target] = [(system.label, system.server, system.whoami_requests()) for system in systems]
    if trivial is not None:
        targets.append(("trivial view", trivial, [http_request(trivial.port, "GET", TRIVIAL_PATH, {})]))
    return targets


def warm_up(systems: Sequence[System], trivial: Server | None) -> Results:
    """Untimed requests first, so that no worker loads code or opens a connection on the clock.

    Also issues each system's whoami tokens.
    """
    warmup = Results(quiet_wait=0)
    for system in systems:
        requests = system.token_requests(WARMUP_TOKENS)
        key = ("warm-up token", WORKERS, system.label)
        warmup.measure(key, system.server, requests, len(requests), WARMUP_SECONDS)
        system.issue_tokens(WHOAMI_TOKENS)
    for label, server, requests in whoami_targets(systems, trivial):
        warmup.measure(("warm-up whoami", 8, label), server, requests, 10**6, WARMUP_SECONDS)
    return warmup


def run_phases(results: Results, systems: Sequence[System], budget: Budget, trivial: Server | None) -> None:
    """Token issue, then whoami (and the trivial view), the systems taking turns in each rep,
    in the other order every other rep, so that going first (or second) favours no one."""
    for concurrency in TOKEN_CONCURRENCY:
        for rep in range(budget.reps):
            for system in systems if rep % 2 == 0 else list(reversed(systems)):
                requests = system.token_requests(budget.token_requests)
                key = ("token issue", concurrency, system.label)
                results.measure(key, system.server, requests, budget.token_requests, budget.seconds)
    targets = whoami_targets(systems, trivial)
    for concurrency in WHOAMI_CONCURRENCY:
        for rep in range(budget.reps):
            for label, server, requests in targets if rep % 2 == 0 else list(reversed(targets)):
                key = ("whoami", concurrency, label)
                results.measure(key, server, requests, budget.whoami_requests, budget.seconds)


# --- Reporting ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """Medians over a phase's runs against one system; errors summed."""

    throughput: float
    p50: float
    p95: float
    p99: float
    errors: int

    @classmethod
    def of(cls, runs: Sequence[Run]) -> Summary:
        percentiles = [run.percentiles_ms() for run in runs]
        return cls(
            throughput=statistics.median(run.throughput for run in runs),
            p50=statistics.median(p[0] for p in percentiles),
            p95=statistics.median(p[1] for p in percentiles),
            p99=statistics.median(p[2] for p in percentiles),
            errors=sum(run.errors for run in runs),
        )

    def cells(self) -> list[str]:
        return [
            f"{self.throughput:,.1f}",
            f"{self.p50:.1f}",
            f"{self.p95:.1f}",
            f"{self.p99:.1f}",
            str(self.errors),
        ]

    def latency(self) -> str:
        return f"{self.p50:.1f} / {self.p95:.1f} / {self.p99:.1f}"


def markdown(headings: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = [headings, ["---", *["---:"] * (len(headings) - 1)], *rows]
    return "\n".join("| " + " | ".join(str(cell) for cell in line) + " |" for line in lines)


def met(ratio: float, target: float) -> str:
    return "met" if ratio >= target else "MISSED"


def report(results: Results, portal: System, peer: System, argon: Sequence[float], errors_before: int) -> int:
    """Print the tables and verdicts; return the number of errors of the whole run."""
    argon_rate = statistics.median(argon)
    rows: list[list[str]] = []
    md_rows: list[list[str]] = []
    verdicts: list[str] = []
    errors = errors_before
    phases = [("token issue", c, TOKEN_TARGET) for c in TOKEN_CONCURRENCY]
    phases += [("whoami", c, WHOAMI_TARGET) for c in WHOAMI_CONCURRENCY]
    for phase, concurrency, target in phases:
        ours = Summary.of(results[(phase, concurrency, portal.label)])
        theirs = Summary.of(results[(phase, concurrency, peer.label)])
        ratio = ours.throughput / theirs.throughput
        if phase == "token issue":
            limit, limit_name = argon_rate, "argon2"
        else:
            ceiling = Summary.of(results[(phase, concurrency, "trivial view")])
            limit, limit_name = ceiling.throughput, "trivial"
            errors += ceiling.errors
        name = f"{phase}, c={concurrency}"
        each = rep_ratios(
            results[(phase, concurrency, portal.label)], results[(phase, concurrency, peer.label)]
        )
        rows.append(
            [
                name,
                "portal",
                *ours.cells(),
                f"{ratio:.2f}x",
                each,
                f"{ours.throughput / limit:.2f} {limit_name}",
            ]
        )
        rows.append([name, "DOT", *theirs.cells(), "", "", f"{theirs.throughput / limit:.2f} {limit_name}"])
        if phase == "whoami":
            rows.append([name, "trivial view", *ceiling.cells(), "", "", "limit"])
        md_rows.append(
            [
                name,
                f"{ours.throughput:,.0f}",
                f"{theirs.throughput:,.0f}",
                f"**{ratio:.2f}x**",
                f"≥ {target}x: {met(ratio, target)}",
                ours.latency(),
                theirs.latency(),
                f"{ours.throughput / limit:.2f} / {theirs.throughput / limit:.2f} of {limit_name}",
                str(ours.errors + theirs.errors),
            ]
        )
        verdicts.append(f"  {name}: portal / DOT {ratio:.2f}x (target >= {target}x): {met(ratio, target)}")
        errors += ours.errors + theirs.errors
    print(
        table(
            [
                "phase",
                "system",
                "req/s",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "errors",
                "portal/DOT",
                "each rep",
                "of limit",
            ],
            rows,
        )
    )
    print()
    print(
        f"limits: bare argon2id {argon_rate:,.1f} verifications/s in {WORKERS} processes "
        f"(runs: {', '.join(f'{rate:.1f}' for rate in argon)}); a token request verifies one hash "
        "in the portal, two in DOT (client secret and password); trivial view = a JSON view "
        "under the portal's gunicorn, no authentication, no query"
    )
    print(busy_note(results))
    print()
    print("\n".join(verdicts))
    print(f"  errors: {errors} (target 0): {'met' if errors == 0 else 'MISSED'}")
    print()
    print("Markdown:")
    print()
    print(
        markdown(
            [
                "phase",
                "portal req/s",
                "DOT req/s",
                "portal / DOT",
                "target",
                "portal p50 / p95 / p99 ms",
                "DOT p50 / p95 / p99 ms",
                "portal / DOT of limit",
                "errors",
            ],
            md_rows,
        )
    )
    print()
    print(
        f"Limits: bare argon2id {argon_rate:,.0f} verifications/s in {WORKERS} processes (the portal "
        "verifies one hash per token request, DOT two); the trivial view under the portal's gunicorn "
        "for whoami. "
        f"Errors: {errors} (target 0)."
    )
    return errors


def report_compare(
    results: Results, systems: Sequence[System], errors_before: int, compared: str = "portal database"
) -> int:
    """One row per phase and `compared` setting, the fastest marked, each against the first
    setting; return the run's errors."""
    rows: list[list[str]] = []
    md_rows: list[list[str]] = []
    errors = errors_before
    phases = [("token issue", c) for c in TOKEN_CONCURRENCY] + [("whoami", c) for c in WHOAMI_CONCURRENCY]
    for phase, concurrency in phases:
        summaries = {
            system.label: Summary.of(results[(phase, concurrency, system.label)]) for system in systems
        }
        baseline = summaries[systems[0].label].throughput
        fastest = max(summaries, key=lambda label: summaries[label].throughput)
        for label, summary in summaries.items():
            versus = f"{summary.throughput / baseline:.2f}x"
            mark = "fastest" if label == fastest else ""
            name = f"{phase}, c={concurrency}"
            each = rep_ratios(
                results[(phase, concurrency, label)], results[(phase, concurrency, systems[0].label)]
            )
            rows.append([name, label, *summary.cells(), versus, each, mark])
            md_rows.append(
                [
                    name,
                    label,
                    f"{summary.throughput:,.0f}",
                    summary.latency(),
                    str(summary.errors),
                    versus,
                    mark,
                ]
            )
            errors += summary.errors
    print(
        table(
            [
                "phase",
                compared,
                "req/s",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "errors",
                f"vs {systems[0].label}",
                "each rep",
                "",
            ],
            rows,
        )
    )
    print()
    print(busy_note(results))
    print(f"  errors: {errors} (target 0): {'met' if errors == 0 else 'MISSED'}")
    print()
    print("Markdown:")
    print()
    print(
        markdown(
            ["phase", compared, "req/s", "p50 / p95 / p99 ms", "errors", f"vs {systems[0].label}", ""],
            md_rows,
        )
    )
    return errors


def busy_note(results: Results) -> str:
    """How busy other work kept the machine around the runs, and a warning if it mattered."""
    busy = [run.busy for run in results.all()]
    disturbed = sum(share > BUSY_WARNING for share in busy)
    line = (
        f"other work: CPU busy just before or after a run, median {statistics.median(busy):.0%}, "
        f"at most {max(busy):.0%}"
    )
    if disturbed:
        line += (
            f"\n  !!! {disturbed} of {len(busy)} runs had other work around them (> {BUSY_WARNING:.0%} CPU): "
            "their figures may be low; see each rep's ratio"
        )
    return line


def warmup_errors(warmup: Results) -> int:
    return sum(run.errors for run in warmup.all())


def postgres_version() -> str:
    import psycopg

    with psycopg.connect(f"{POSTGRES_SERVER}/postgres") as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return f"PostgreSQL {row[0].split()[0]}" if row else "PostgreSQL"


# --- Main --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run (about a minute)")
    parser.add_argument("--portal-db", choices=list(PORTAL_DB_OPTIONS), default="default")
    parser.add_argument(
        "--compare-db", action="store_true", help="only the portal's phases, with each database setting"
    )
    parser.add_argument(
        "--compare-usage",
        action="store_true",
        help="only the portal's phases, with its usage evidence off and on (credentials.usage)",
    )
    args = parser.parse_args()
    args.compare = args.compare_db or args.compare_usage
    budget = QUICK if args.quick else FULL
    names = [PORTAL_DB] if args.compare else [PORTAL_DB, PEER_DB]
    for name in names:
        drop_database("postgresql", name)
        ensure_database("postgresql", name)
    servers: list[Server] = []
    try:
        errors = run(args, budget, servers)
    finally:
        for server in servers:
            server.stop()
        for name in names:
            drop_database("postgresql", name)
    if errors:
        raise SystemExit(f"!!! {errors} requests failed: the figures above do not count.")


def run(args: argparse.Namespace, budget: Budget, servers: list[Server]) -> int:
    # Other work on the machine shifts every figure; this shows whether there was any.
    load_before = os.getloadavg()[0]
    secret_key = secrets.token_urlsafe(50)
    # (label, database option, extra environment) of each portal server.
    if args.compare_usage:
        variants = [(f"portal ({name})", args.portal_db, env) for name, env in USAGE_OPTIONS.items()]
    elif args.compare_db:
        variants = [(f"portal ({option})", option, {}) for option in PORTAL_DB_OPTIONS]
    else:
        variants = [("portal", args.portal_db, {})]
    per_system = budget.reps * len(TOKEN_CONCURRENCY) * budget.token_requests + WARMUP_TOKENS + WHOAMI_TOKENS
    jobs = {"portal": ("bench.portal_seed", portal_env(secret_key, "default"))}
    if not args.compare:
        jobs["DOT"] = ("bench.peer.seed", peer_env(secret_key))
    progress(f"seeding {per_system * len(variants):,} service accounts and {per_system:,} DOT users ...")
    seeds = seed(jobs, per_system * len(variants))
    # Compared, the portal's servers share one database, so they draw from one pool of accounts.
    portal_accounts = iter(seeds["portal"]["usernames"])
    systems = []
    for label, option, extra in variants:
        server = Server(
            label,
            "tango_portal.wsgi",
            portal_env(secret_key, option, extra),
            TRIVIAL_PATH,
            config=ROOT / "gunicorn.conf.py",
        )
        servers.append(server)
        systems.append(
            System(label, server, "/oauth/token", "/api/v2/whoami", seeds["portal"], portal_accounts)
        )
    if not args.compare:
        server = Server("DOT", "bench.peer.wsgi", peer_env(secret_key), "/api/whoami")
        servers.append(server)
        systems.append(
            System("DOT", server, "/o/token/", "/api/whoami", seeds["DOT"], iter(seeds["DOT"]["usernames"]))
        )
    for server in servers:
        server.wait_ready()
    trivial = None if args.compare else systems[0].server
    progress("warming up ...")
    errors_before = warmup_errors(warm_up(systems, trivial))

    results = Results(quiet_wait=budget.quiet_wait)
    argon: list[float] = []
    if not args.compare:
        progress("argon2id limit ...")
        encoded, password = seeds["portal"]["password_hash"], seeds["portal"]["password"]
        with multiprocessing.get_context("spawn").Pool(WORKERS) as pool:
            for _rep in range(budget.reps):
                busy = results.quiet()
                argon.append(argon2_rate(pool, encoded, password, budget.argon_seconds))
                progress(f"  bare argon2id: {argon[-1]:.1f} verifications/s; CPU busy before: {busy:.0%}")
    run_phases(results, systems, budget, trivial)

    print()
    if args.compare_usage:
        title = f"the portal's usage evidence off and on (database: {args.portal_db})"
    elif args.compare_db:
        title = "portal database settings compared"
    else:
        title = f"portal (database: {args.portal_db}) vs django-oauth-toolkit"
    print(f"Load benchmark, {title}: {'quick' if args.quick else 'full'} run")
    print(f"Machine: {machine()}; 1-minute load average before the run: {load_before:.2f}")
    print(
        f"{postgres_version()}; Django {version('django')}, "
        f"django-oauth-toolkit {version('django-oauth-toolkit')}, gunicorn {version('gunicorn')} "
        f"with {WORKERS} sync workers per server; the load generator (asyncio, loopback) on the same cores"
    )
    print(
        f"Each figure: median of {budget.reps} runs, the systems taking turns; a run stops at "
        f"{budget.token_requests:,} token or {budget.whoami_requests:,} whoami requests, "
        f"or after {budget.seconds:g} s"
    )
    print()
    if args.compare_usage:
        return report_compare(results, systems, errors_before, compared="usage evidence")
    if args.compare_db:
        return report_compare(results, systems, errors_before)
    return report(results, systems[0], systems[1], argon, errors_before)


if __name__ == "__main__":
    main()
