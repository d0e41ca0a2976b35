"""Clinic Portal load benchmark: how fast are the booking pages next to a bare Flask page?

    .venv/bin/python bench/run.py            # build the data set, serve, load, report

What it does, in order:
1. Builds a data set on PostgreSQL (bench/dataset.py): 200 doctors in 10 clinics across
   10 time zones, 2,000 patients, 100,000 appointments over 18 months back and 60 days
   ahead. The database named in --database-url is dropped and created again, so its name
   must contain "bench". --skip-build reuses it.
2. Counts the SQL statements each page runs, once, in-process (bench/inprocess.py).
3. Serves the portal (wsgi:app) and the floor (bench/floor.py, a bare Flask app rendering
   a trivial template) with the same gunicorn command: N sync workers on 127.0.0.1.
4. Loads each target from a separate process (bench/loadgen.py): --concurrency HTTP/1.1
   connections for --duration seconds, after a short warm-up. Targets: the floor, the
   day-slots partial (HTMX, random doctor and day of the next 14), the doctor page, a
   booking POST (pre-signed-in patients, random free slot; 200 booked and 409 just taken
   both count as served), and the floor again, to see how much the machine drifted.
5. Prints a table and writes it, with the query counts, to bench/results/latest.json.

How to read the table: `x floor` is a target's requests per second divided by the floor's
(the mean of its two runs in this very run). The floor is what this machine, these gunicorn
settings and this client can do for a Flask response that does nothing; the ratio is the
share of that left once a page does its own work. Absolute requests per second depend on
the machine; the ratio travels better. The goal: the slots partial at 0.5 x floor or more.
Latencies are seen by the client and include waiting for a free worker: with C
connections and N sync workers, about C / N requests queue for each worker.

`client cpu`, `server cpu` and `db cpu` are CPU seconds per second (1.0 = one core busy)
of the load process, of the gunicorn master and its workers, and of the PostgreSQL
backends serving the bench database; `machine cpu` is the whole machine. When `machine
cpu` is well above the other three added up, something else was running and the figures
are noisy: run again on a quiet machine. On a small machine the client competes with the
server for the same cores, which holds the floor down more than the slower pages, so the
ratios err on the kind side.
"""

import argparse
import json
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from http.client import HTTPConnection
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy.engine import make_url

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
sys.path[:0] = [str(BENCH), str(ROOT)]  # the bench modules and the portal package

import dataset  # noqa: E402
import inprocess  # noqa: E402
import loadgen  # noqa: E402

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/portal_bench"
GOAL_TARGET, GOAL_RATIO = "slots partial", 0.5


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--duration", type=float, default=10, help="seconds per target (10)")
    parser.add_argument("--warmup", type=float, default=2, help="uncounted seconds first (2)")
    parser.add_argument("--concurrency", type=int, default=16, help="client connections (16)")
    parser.add_argument("--max-requests", type=int, default=500_000, help="cap per target")
    parser.add_argument("--doctors", type=int, default=200)
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--appointments", type=int, default=100_000)
    parser.add_argument("--skip-build", action="store_true", help="reuse the database")
    parser.add_argument(
        "--gunicorn-args",
        default="",
        help='extra gunicorn options for both servers, e.g. "-k gthread"',
    )
    args = parser.parse_args(argv)
    if args.concurrency > args.patients:
        parser.error("--concurrency must not exceed --patients (one signed-in patient each)")
    return args


def main(argv=None):
    args = parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    report = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "loadavg_before": _loadavg()},
        "settings": {key: value for key, value in vars(args).items() if key != "database_url"},
    }

    print(f"Database: {args.database_url}")
    if args.skip_build:
        app = inprocess.portal_app(args.database_url)
        with app.app_context():
            from portal.extensions import db

            report["build"] = {"skipped": True, "rows": dataset.row_counts(db.engine)}
    else:
        print("Building the data set ...", flush=True)
        dataset.recreate_database(args.database_url)
        app = inprocess.portal_app(args.database_url)
        report["build"] = dataset.build(
            app, doctors=args.doctors, patients=args.patients, appointments=args.appointments
        )
        build = report["build"]
        print(
            f"Built in {build['seconds']} s (migrate {build['migrate_seconds']} s, "
            f"insert {build['insert_seconds']} s, analyze {build['analyze_seconds']} s)"
        )
    print_rows(report["build"]["rows"])
    if not report["build"]["rows"]["doctors"]:
        raise SystemExit("the database has no doctors: run without --skip-build")

    ids = inprocess.doctor_ids(app)
    days = inprocess.coming_days()
    slots = inprocess.free_slots(app, ids)
    if not slots:
        raise SystemExit("no free slot in the next 14 days to book")
    print(f"{len(slots)} free slots sampled for booking, among {len(ids)} doctors")

    doctor_id, start = slots[0]
    pages = inprocess.count_queries(
        args.database_url,
        doctor_id=doctor_id,
        day=days[3],
        start=start,
        patient_email=inprocess.busiest_patient_email(app),
    )
    report["query_counts"] = {name: page["queries"] for name, page in pages.items()}
    report["query_statements"] = pages
    print_query_counts(pages)

    with ExitStack() as stack:
        env = server_environment(args.database_url)
        extra = shlex.split(args.gunicorn_args)
        portal = stack.enter_context(serve("portal", ROOT, "wsgi:app", env, args.workers, extra))
        floor = stack.enter_context(serve("floor", BENCH, "floor:app", env, args.workers, extra))
        emails = [dataset.PATIENT_EMAIL.format(n) for n in range(1, args.concurrency + 1)]
        print(f"Signing in {len(emails)} patients ...", flush=True)
        sessions = sign_in(portal.port, emails, slots[-1])

        targets = [
            ("floor", floor, get_spec(floor.port, ["/"])),
            (
                "slots partial",
                portal,
                get_spec(
                    portal.port,
                    [f"/doctors/{i}/slots?day={day}" for i in ids for day in days],
                    headers={"HX-Request": "true"},
                ),
            ),
            ("doctor page", portal, get_spec(portal.port, [f"/doctors/{i}" for i in ids])),
            (
                "booking",
                portal,
                {
                    "kind": "book",
                    "port": portal.port,
                    "sessions": sessions,
                    "slots": slots,
                    "expected": [200, 409],
                },
            ),
            ("floor (again)", floor, get_spec(floor.port, ["/"])),
        ]
        database = make_url(args.database_url).database
        rows = []
        for seed, (name, server, spec) in enumerate(targets, start=1):
            spec.update(
                concurrency=args.concurrency,
                duration=args.duration,
                warmup=args.warmup,
                max_requests=args.max_requests,
                seed=seed,
            )
            print(f"Loading {name} for {args.warmup:g} + {args.duration:g} s ...", flush=True)
            rows.append({"target": name, **load(spec, server, database)})
            server.check_log()

    finish(report, rows)


def get_spec(port, paths, headers=None):
    return {
        "kind": "get",
        "port": port,
        "paths": paths,
        "headers": headers or {},
        "expected": [200],
    }


def load(spec, server, database):
    """One target: the client's figures plus the CPU the server and the database used
    while it was counted."""
    snapshots = []

    def snapshot():
        snapshots.append((time.perf_counter(), _cpu_snapshot(server.pid, database)))

    result = loadgen.measure(spec, on_start=snapshot, on_end=snapshot)
    if len(snapshots) == 2 and snapshots[0][1] is not None:
        (began, before), (ended, after) = snapshots
        result.update(_cpu_used(before, after, ended - began))
    return result


def finish(report, rows):
    floors = [row["rps"] for row in rows if row["target"].startswith("floor")]
    floor = sum(floors) / len(floors)
    for row in rows:
        row["x_floor"] = round(row["rps"] / floor, 3) if floor else None
    drift = (floors[-1] - floors[0]) / floors[0] if floors[0] else 0.0
    goal = next(row for row in rows if row["target"] == GOAL_TARGET)
    report.update(
        targets=rows,
        floor_rps=round(floor, 1),
        floor_drift=round(drift, 3),
        goal={
            "target": GOAL_TARGET,
            "min_x_floor": GOAL_RATIO,
            "x_floor": goal["x_floor"],
            "met": bool(goal["x_floor"] and goal["x_floor"] >= GOAL_RATIO),
        },
    )
    report["machine"]["loadavg_after"] = _loadavg()
    report["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")

    print()
    print_table(rows)
    print(f"\nFloor: {floor:.0f} requests/s (mean of two runs); drift first to last {drift:+.1%}")
    verdict = "met" if report["goal"]["met"] else "NOT met"
    print(f"Goal: {GOAL_TARGET} >= {GOAL_RATIO} x floor: {goal['x_floor']:.2f} x floor, {verdict}")
    errors = [row for row in rows if row["errors"]]
    for row in errors:
        print(f"  {row['target']}: {row['errors']} errors, {row['statuses']} {row['failures']}")
    path = RESULTS / "latest.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"Written to {path.relative_to(ROOT)}")


# Printing ---------------------------------------------------------------------------------


def print_rows(rows):
    counts = ", ".join(
        f"{name} {count:,}" for name, count in rows.items() if isinstance(count, int)
    )
    print(f"Rows: {counts}")
    statuses = ", ".join(f"{name} {n:,}" for name, n in rows["appointments_by_status"].items())
    print(f"Appointments by status: {statuses}")


def print_query_counts(pages):
    print("\nSQL statements per page (one request each, in-process):")
    width = max(len(name) for name in pages)
    for name, page in pages.items():
        print(f"  {name:<{width}}  {page['queries']:>3}   (HTTP {page['status']})")
    print()


def print_table(rows):
    columns = [
        ("target", "target", "{}"),
        ("requests", "requests", "{:,}"),
        ("errors", "errors", "{:,}"),
        ("req/s", "rps", "{:,.0f}"),
        ("p50 ms", "p50_ms", "{:.1f}"),
        ("p99 ms", "p99_ms", "{:.1f}"),
        ("x floor", "x_floor", "{:.2f}"),
        ("client cpu", "client_cpu", "{:.2f}"),
        ("server cpu", "server_cpu", "{:.2f}"),
        ("db cpu", "db_cpu", "{:.2f}"),
        ("machine cpu", "machine_cpu", "{:.2f}"),
    ]
    cells = [
        ["-" if row.get(key) is None else form.format(row[key]) for _title, key, form in columns]
        for row in rows
    ]
    widths = [
        max(len(title), *(len(line[i]) for line in cells)) for i, (title, *_) in enumerate(columns)
    ]
    header = [
        title.ljust(w) if i == 0 else title.rjust(w)
        for i, ((title, *_), w) in enumerate(zip(columns, widths, strict=True))
    ]
    print("  ".join(header))
    for line in cells:
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(line, widths, strict=True))
            )
        )


# Servers ----------------------------------------------------------------------------------


def server_environment(database_url):
    env = dict(os.environ)
    env.update(
        PORTAL_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(32),
        DATABASE_URL=database_url,
        SESSION_COOKIE_SECURE="False",
    )
    env.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    return env


class Server:
    def __init__(self, name, process, port, log):
        self.name, self.process, self.port, self.log = name, process, port, log
        self.pid = process.pid
        self.log_offset = 0

    def check_log(self):
        """Show what the server logged since the last look (tracebacks, worker timeouts)."""
        with self.log.open(errors="replace") as handle:
            handle.seek(self.log_offset)
            new = handle.read()
            self.log_offset = handle.tell()
        if new.strip():
            lines = new.strip().splitlines()
            print(f"  {self.name} server log ({len(lines)} lines, last 15):")
            for line in lines[-15:]:
                print(f"    {line}")


@contextmanager
def serve(name, directory, app, env, workers, extra):
    """gunicorn serving `app` from `directory` on a free loopback port, stopped on exit."""
    gunicorn = Path(sys.executable).parent / "gunicorn"
    port = _free_port()
    log = RESULTS / f"gunicorn-{name}.log"
    command = [
        str(gunicorn),
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        *extra,
        app,
    ]
    with log.open("w") as output:
        process = subprocess.Popen(
            command,
            cwd=directory,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one below
        )
    server = Server(name, process, port, log)
    try:
        _wait_until_serving(server)
        print(
            f"Serving {name} ({app}) on 127.0.0.1:{port} with {workers} workers, pid {server.pid}"
        )
        server.log_offset = log.stat().st_size
        yield server
    finally:
        _stop(process)


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_serving(server, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited at start:\n{server.log.read_text()[-3000:]}")
        try:
            status, _body = http(server.port, "GET", "/", {})
        except OSError:
            time.sleep(0.2)
            continue
        if status == 200:
            return
        raise RuntimeError(f"{server.name} answered {status} on /:\n{server.log.read_text()}")
    raise RuntimeError(f"{server.name} did not answer within {timeout} s")


def _stop(process):
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)  # the master and its workers, nothing else
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


# HTTP outside the timed load -------------------------------------------------------------


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def http(port, method, path, jar, form=None):
    """One request with a cookie jar (a dict), returning (status, body)."""
    connection = HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {}
    if jar:
        headers["Cookie"] = "; ".join(f"{key}={value}" for key, value in jar.items())
    body = None
    if form is not None:
        body = urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for key, morsel in cookie.items():
                if morsel.value:
                    jar[key] = morsel.value
                else:
                    jar.pop(key, None)
        return response.status, text
    finally:
        connection.close()


def sign_in(port, emails, slot):
    """Sign each patient in and fetch a CSRF token from a booking panel, as a browser does."""
    doctor_id, start = slot
    sessions = []
    for email in emails:
        jar = {}
        _status, page = http(port, "GET", "/login", jar)
        form = {"email": email, "password": dataset.DEMO_PASSWORD, "csrf_token": _csrf(page)}
        status, page = http(port, "POST", "/login", jar, form=form)
        if status != 303:
            raise RuntimeError(f"signing in {email} answered {status}")
        path = f"/doctors/{doctor_id}/book?{urlencode({'start': start})}"
        status, page = http(port, "GET", path, jar)
        if status != 200:
            raise RuntimeError(f"the booking panel answered {status} for {email}")
        cookie = "; ".join(f"{key}={value}" for key, value in jar.items())
        sessions.append({"email": email, "cookie": cookie, "csrf": _csrf(page)})
    return sessions


def _csrf(page):
    match = CSRF.search(page)
    if match is None:
        raise RuntimeError("no csrf_token field in the page")
    return match.group(1)


# Measuring the machine -------------------------------------------------------------------


def _loadavg():
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def _cpu_snapshot(server_pid, database):
    """CPU seconds so far, per process, of the server (master and workers) and of the
    PostgreSQL backends serving `database`, plus the whole machine's busy seconds.
    None where /proc is missing (not Linux)."""
    if not Path("/proc/stat").exists():
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    server, backends = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path("/proc", entry, "stat").read_text()
            command = raw[raw.index("(") + 1 : raw.rindex(")")]
            fields = raw[raw.rindex(")") + 2 :].split()
            cpu = (int(fields[11]) + int(fields[12])) / ticks
            pid, parent = int(entry), int(fields[1])
            if server_pid in (pid, parent):
                server[pid] = cpu
            elif command == "postgres":
                # A backend's command line reads "postgres: user database host(port) state".
                title = Path("/proc", entry, "cmdline").read_bytes().decode(errors="replace")
                if f" {database} " in title:
                    backends[pid] = cpu
        except (OSError, ValueError, IndexError):
            continue  # the process ended while we looked
    # user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
    times = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
    machine = (sum(times) - times[3] - times[4]) / ticks
    return {"server": server, "db": backends, "machine": machine}


def _cpu_used(before, after, seconds):
    """CPU seconds per second between two snapshots (processes that ended are lost)."""

    def grown(key):
        return sum(cpu - before[key].get(pid, 0.0) for pid, cpu in after[key].items())

    return {
        "server_cpu": round(grown("server") / seconds, 2),
        "db_cpu": round(grown("db") / seconds, 2),
        "machine_cpu": round((after["machine"] - before["machine"]) / seconds, 2),
    }


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted: the servers are stopped")
