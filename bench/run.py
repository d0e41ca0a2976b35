"""Clinic Portal load benchmark: each operation's requests per second as a share of a bare
Flask page's (the floor), with the SQL statements each request costs the database.

    .venv/bin/python bench/run.py            # private PostgreSQL, build, serve, load, report
    .venv/bin/python bench/run.py --quick    # the same in about two minutes, smaller

What it does, in order (bench/README.md says more):
1. Starts a private PostgreSQL server (bench/pgcluster.py: a temporary cluster on
   127.0.0.1, port 5499 or a free one, with pg_stat_statements), unless --database-url
   names one. Builds the data set there (bench/dataset.py): 200 doctors, 2,000 patients,
   100,000 appointments.
2. Serves the portal twice, with its caches as configured ("warm") and with every
   SLOT_*CACHE_SIZE and DIRECTORY_*CACHE_SIZE setting at 0 ("cold"), and the floor
   (bench/floor.py), with the same gunicorn command: 2 sync workers each on 127.0.0.1.
   With --before DIR, an earlier checkout is served the same two ways on the same data,
   and each target is loaded on it right after this one.
3. Signs patients in (session cookies for the HTML pages, access tokens for the API) and
   asks the API for the free slots of the next four weeks, to book distinct ones.
4. Loads each target with wrk and bench/load.lua (or, without wrk, bench/loadgen.py):
   16 connections, one request per connection, a warm-up, then the counted run, with a
   floor run before the first target and after every target.
5. Prints a table (operation, req/s, x floor, p50, p99, statements per request, the goal
   and whether it is met) and writes it to bench/results/latest.json.

Every server it starts (gunicorn, PostgreSQL) is stopped at the end, whatever happens.
"""

import argparse
import json
import math
import os
import random
import re
import secrets
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from http.client import HTTPConnection
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import text
from sqlalchemy.engine import make_url

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
sys.path[:0] = [str(BENCH), str(ROOT)]  # the bench modules and the portal package

import dataset  # noqa: E402
import inprocess  # noqa: E402
import loadgen  # noqa: E402
import pgcluster  # noqa: E402
import wrkload  # noqa: E402

SHARED_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/portal_bench"
STRIP_DAYS = 14  # days a slot target picks from, as in the slot picker's strip
BOOK_DAYS = 28  # days of free slots the booking targets take from
CACHE_KEY = re.compile(r"(?:SLOT|DIRECTORY)_[A-Z_]*CACHE_SIZE")
HTMX = {"HX-Request": "true"}
QUICK = {
    "duration": 2,
    "warmup": 1,
    "warm_seconds": 3,
    "doctors": 40,
    "patients": 400,
    "appointments": 10_000,
}


class Target:
    """One operation to load: where, how, and the goal it is held to (issue #13)."""

    def __init__(self, slug, label, server, kind, *, cache="warm", goal=None, warmup=None):
        self.slug, self.label, self.server, self.kind = slug, label, server, kind
        self.cache, self.goal, self.warmup = cache, goal, warmup
        self.code = "this"  # or "before": the --before checkout


BEFORE = "@before"  # a target's slug on the --before checkout


# Goals: share of the floor, from issue #13 ("Performance goals"); None: reported only.
GOALS = {
    "api-doctors": 0.15,
    "api-slots-day": 0.16,
    "api-slots-week": 0.11,
    "api-book": 0.075,
    "html-find": 0.1,
    "html-partial": 0.5,
    "html-partial-cold": 0.25,
    "html-book": 0.08,
}
STATEMENT_GOALS = {"html-book": 8}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url",
        help="use this server instead of a private one; the database is dropped and built "
        "again (its name must contain 'bench') unless --skip-build",
    )
    parser.add_argument("--skip-build", action="store_true", help="reuse --database-url's data")
    parser.add_argument("--quick", action="store_true", help="short runs on smaller data")
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--duration", type=float, default=10, help="counted seconds (10)")
    parser.add_argument("--warmup", type=float, default=2, help="uncounted seconds first (2)")
    parser.add_argument(
        "--warm-seconds",
        type=float,
        default=10,
        help="warm-up of the warm slot pages, so both workers keep most of them (10)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="load every target this many times, in turn, and report the medians (1)",
    )
    parser.add_argument("--concurrency", type=int, default=16, help="connections (16)")
    parser.add_argument(
        "--accounts", type=int, help="patients signed in (16 per round; 8 with --quick)"
    )
    parser.add_argument("--max-requests", type=int, default=500_000, help="python client cap")
    parser.add_argument("--doctors", type=int, default=200)
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--appointments", type=int, default=100_000)
    parser.add_argument(
        "--only", default="", help="comma-separated target slugs (see bench/README.md)"
    )
    parser.add_argument(
        "--gunicorn-args", default="", help="extra gunicorn options for every server"
    )
    parser.add_argument(
        "--before",
        metavar="DIR",
        help="another checkout of the portal (an earlier commit), served on the same data "
        "and loaded right after each target: before and after in one run",
    )
    args = parser.parse_args(argv)
    if args.quick:
        explicit = {a.split("=")[0].lstrip("-").replace("-", "_") for a in (argv or sys.argv)}
        for key, value in QUICK.items():
            if key not in explicit:
                setattr(args, key, value)
    if args.before and not (Path(args.before) / "wsgi.py").is_file():
        parser.error(f"--before {args.before}: no wsgi.py there (a checkout of the portal)")
    if args.skip_build and not args.database_url:
        parser.error("--skip-build needs --database-url (the private server is new each run)")
    if args.accounts is None:
        args.accounts = (8 if args.quick else 16) * args.rounds
    if args.accounts > args.patients:
        parser.error("--accounts must not exceed --patients")
    return args


def _stop_on_signals():
    """SIGTERM and SIGHUP end the run like Ctrl-C, so the servers are stopped too."""

    def stop(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)


STARTED = time.monotonic()


def say(message):
    print(f"[{time.monotonic() - STARTED:5.0f} s] {message}", flush=True)


def main(argv=None):
    args = parse_args(argv)
    _stop_on_signals()
    RESULTS.mkdir(exist_ok=True)
    client = choose_client(args.client)
    report = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "loadavg_before": _loadavg()},
        "settings": {key: value for key, value in vars(args).items() if key != "database_url"},
        "client": client,
    }
    with ExitStack() as stack:
        url = database(args, stack, report)
        build(args, url, report)
        run(args, url, client, stack, report)
    write(report)


def choose_client(wanted):
    if wanted in ("auto", "wrk") and wrkload.available():
        return {"name": "wrk", "version": wrkload.version()}
    if wanted == "wrk":
        raise SystemExit("wrk is not installed: apt-get install wrk (Debian, Ubuntu)")
    if wanted == "auto":
        print(
            "wrk is not installed (apt-get install wrk on Debian or Ubuntu, brew install wrk "
            "on macOS): measuring with the Python client, bench/loadgen.py, which is slower: "
            "ratios are not comparable with wrk's."
        )
    return {"name": "python", "version": sys.version.split()[0]}


def database(args, stack, report):
    """The URL to build and load on: a private server unless one is given."""
    if args.database_url:
        report["database"] = {"server": "given", "url": _without_password(args.database_url)}
        return args.database_url
    try:
        url = stack.enter_context(pgcluster.private_cluster(log=RESULTS / "postgres.log"))
    except pgcluster.ClusterUnavailable as error:
        print(f"No private PostgreSQL server ({error}); using {SHARED_DATABASE_URL}")
        report["database"] = {"server": "shared", "url": SHARED_DATABASE_URL}
        return SHARED_DATABASE_URL
    say(f"Private PostgreSQL server: {url} (stopped and removed at the end)")
    report["database"] = {"server": "private", "url": url}
    return url


def _without_password(url):
    return make_url(url).render_as_string(hide_password=True)


def build(args, url, report):
    if args.skip_build:
        app = inprocess.portal_app(url)
        with app.app_context():
            from portal.extensions import db

            report["build"] = {"skipped": True, "rows": dataset.row_counts(db.engine)}
            db.engine.dispose()
    else:
        say("Building the data set ...")
        dataset.recreate_database(url)
        app = inprocess.portal_app(url)
        report["build"] = dataset.build(
            app, doctors=args.doctors, patients=args.patients, appointments=args.appointments
        )
        built = report["build"]
        print(
            f"Built in {built['seconds']} s (migrate {built['migrate_seconds']} s, "
            f"insert {built['insert_seconds']} s, analyze {built['analyze_seconds']} s)"
        )
    print_rows(report["build"]["rows"])
    if not report["build"]["rows"]["doctors"]:
        raise SystemExit("the database has no doctors: run without --skip-build")


def cache_keys():
    """The slot and directory cache settings this version of the portal has, read from
    the app itself (and its config module), so "cold" turns off whatever caches there
    are."""
    from portal import config

    keys = set(CACHE_KEY.findall(Path(config.__file__).read_text()))
    app = inprocess.portal_app("sqlite://")
    keys |= {key for key in app.config if CACHE_KEY.fullmatch(key)}
    return sorted(keys)


def run(args, url, client, stack, report):
    counter = pgcluster.StatementCounter(url)
    stack.callback(counter.close)
    if counter.available:
        report["statements_counted_by"] = "pg_stat_statements"
    else:
        report["statements_counted_by"] = "in-process (one request each)"
        print(
            f"Statements are counted in-process, one request per page: the server has no "
            f"pg_stat_statements ({counter.reason})."
        )

    keys = cache_keys()
    report["cold_settings"] = {key: 0 for key in keys}
    print(f"Cold server: {', '.join(f'{key}=0' for key in keys) or 'no slot caches found'}")
    env = server_environment(url)
    extra = shlex.split(args.gunicorn_args)
    cold_env = {**env, **{key: "0" for key in keys}}
    portal = serve(stack, "portal", ROOT, "wsgi:app", env, args.workers, extra)
    cold = serve(stack, "portal-cold", ROOT, "wsgi:app", cold_env, args.workers, extra)
    floor = serve(stack, "floor", BENCH, "floor:app", env, args.workers, extra)
    servers = [portal, cold, floor]
    earlier = None
    if args.before:
        directory = Path(args.before).resolve()
        # A new checkout has no compiled catalogs (they are built, not kept in git).
        pybabel = Path(sys.executable).parent / "pybabel"
        subprocess.run(
            [str(pybabel), "-q", "compile", "-d", str(directory / "translations")], check=True
        )
        earlier = (
            serve(stack, "before", directory, "wsgi:app", env, args.workers, extra),
            serve(stack, "before-cold", directory, "wsgi:app", cold_env, args.workers, extra),
        )
        servers += earlier
        report["before"] = {"directory": str(directory), "commit": _commit_of(directory)}
        say(f"Before: {directory} at {report['before']['commit']}")
    for server in servers:
        ready(server)

    ids = doctor_ids(portal.port)
    days = coming_days(STRIP_DAYS)
    free = free_slots(portal.port, ids, BOOK_DAYS)
    say(f"{len(free):,} free slots in the next {BOOK_DAYS} days among {len(ids)} doctors")
    busiest = inprocess.busiest_patient_email(url)
    reserved = _two_slots_of_one_doctor(free)
    free = [slot for slot in free if slot not in reserved]
    pages = inprocess.count_queries(
        url,
        doctor_id=reserved[0][0],
        day=days[3],
        start=reserved[0][1],
        api_start=reserved[1][1],
        patient_email=busiest,
    )
    report["in_process_statements"] = pages

    emails = [dataset.PATIENT_EMAIL.format(n) for n in range(1, args.accounts + 1)]
    say(f"Signing in {len(emails)} patients (HTML sessions and API tokens) ...")
    sessions, tokens = sign_in_all(portal.port, emails, free[0])
    taken = future_starts(url, emails)

    targets = make_targets(args, portal, cold, ids, days, earlier)
    booking = [t for t in targets if t.kind in ("api-book", "html-book")]
    phases = {
        f"{t.slug}/{n}": (args.warmup, args.duration) for n in range(args.rounds) for t in booking
    }
    chunks = assign_slots(free, phases, len(emails), taken, seed=2026)

    common = {
        "concurrency": args.concurrency,
        "max_requests": args.max_requests,
        "data_dir": str(RESULTS),
    }
    floor_spec = {**common, "kind": "get", "paths": ["/"], "expected": [200], "port": floor.port}
    database_name = make_url(url).database
    floors, rows = [], []
    seed = 0

    def load_floor():
        nonlocal seed
        seed += 1
        spec = {**floor_spec, "slug": "floor", "seed": seed}
        spec.update(warmup=args.warmup, duration=args.duration)
        print(f"  floor {len(floors) + 1} ...", end=" ", flush=True)
        result = measure(client, spec, floor, database_name, counter=None)
        print(f"{result['rps']:,.0f} req/s", flush=True)
        floors.append(result)

    say(
        f"Loading {len(targets)} targets with {client['name']}: {args.concurrency} "
        f"connections, {args.warmup:g} s warm-up + {args.duration:g} s each, a floor run "
        f"between targets ..."
    )
    load_floor()
    for round_, target in [(n, t) for n in range(args.rounds) for t in targets]:
        seed += 1
        spec = {**common, "slug": target.slug, "seed": seed, "port": target.server.port}
        spec.update(
            warmup=target.warmup if target.warmup is not None else args.warmup,
            duration=args.duration,
        )
        spec.update(target_spec(target, ids, days, sessions, tokens, chunks, round_))
        print(f"  {target.label} ({target.cache}) ...", end=" ", flush=True)
        result = measure(client, spec, target.server, database_name, counter=counter)
        print(f"{result['rps']:,.0f} req/s", flush=True)
        target.server.check_log()
        rows.append(
            {
                "target": target.slug,
                "label": target.label,
                "cache": target.cache,
                "code": target.code,
                "round": round_ + 1,
                **result,
            }
        )
        load_floor()
    finish(report, rows, floors, pages, counter.available)


def make_targets(args, portal, cold, ids, days, earlier=None):
    full = not args.quick
    targets = [
        Target("api-doctors", "API list doctors (20 a page)", portal, "get"),
        Target("api-slots-day", "API free slots, one day", portal, "get"),
        Target("api-slots-day-cold", "API free slots, one day", cold, "get", cache="cold"),
        Target("api-slots-week", "API free slots, a week", portal, "get"),
        Target("api-slots-week-cold", "API free slots, a week", cold, "get", cache="cold"),
        Target("html-find", "HTML Find a doctor", portal, "get"),
        Target("html-find-cold", "HTML Find a doctor", cold, "get", cache="cold"),
        Target("html-partial", "HTML day-slots partial", portal, "get", warmup=args.warm_seconds),
        Target("html-partial-cold", "HTML day-slots partial", cold, "get", cache="cold"),
        Target("html-doctor", "HTML doctor page", portal, "get", warmup=args.warm_seconds),
        Target("html-doctor-cold", "HTML doctor page", cold, "get", cache="cold"),
        # Bookings last: each one changes its doctor's schedule, which the reads keep.
        Target("api-book", "API book", portal, "api-book"),
        Target("html-book", "HTML booking POST", portal, "html-book"),
    ]
    for target in targets:
        target.goal = GOALS.get(target.slug)
    if not full:
        # Cold runs without a goal of their own are for the full run.
        targets = [t for t in targets if t.cache == "warm" or t.goal is not None]
    if args.only:
        wanted = {slug.strip() for slug in args.only.split(",")}
        unknown = wanted - {t.slug for t in targets}
        if unknown:
            raise SystemExit(
                f"unknown targets {sorted(unknown)}; known: " + ", ".join(t.slug for t in targets)
            )
        targets = [t for t in targets if t.slug in wanted]
    if earlier:
        # Each target loaded on the earlier checkout right after this one: both between
        # the same floor runs' neighbours, on the same data.
        twins = []
        for target in targets:
            twin = Target(
                target.slug + BEFORE,
                target.label,
                earlier[0] if target.cache == "warm" else earlier[1],
                target.kind,
                cache=target.cache,
                warmup=target.warmup,
            )
            twin.code = "before"
            twins += [target, twin]
        targets = twins
    return targets


def target_spec(target, ids, days, sessions, tokens, chunks, round_):
    slug = target.slug.removesuffix(BEFORE).removesuffix("-cold")
    if target.kind == "api-book":
        warm, counted = chunks[f"{target.slug}/{round_}"]
        return {
            "kind": "api-book",
            "accounts": [(token, None) for token in tokens],
            "warmup_slots": warm,
            "slots": counted,
            "expected": [201, 409],
        }
    if target.kind == "html-book":
        warm, counted = chunks[f"{target.slug}/{round_}"]
        return {
            "kind": "html-book",
            "headers": HTMX,
            "accounts": [(s["cookie"], s["csrf"]) for s in sessions],
            "warmup_slots": warm,
            "slots": counted,
            "expected": [200, 409],
        }
    pages = math.ceil(len(ids) / 20)
    paths = {
        "api-doctors": [f"/api/v1/doctors?page={n}&per_page=20" for n in range(1, pages + 1)],
        "api-slots-day": [
            f"/api/v1/doctors/{i}/slots?from={day}&to={day}" for i in ids for day in days
        ],
        "api-slots-week": [
            f"/api/v1/doctors/{i}/slots?from={day}&to={_plus(day, 6)}" for i in ids for day in days
        ],
        "html-find": [f"/find?page={n}" for n in range(1, pages + 1)],
        "html-partial": [f"/doctors/{i}/slots?day={day}" for i in ids for day in days],
        "html-doctor": [f"/doctors/{i}" for i in ids],
    }[slug]
    headers = HTMX if slug == "html-partial" else {}
    return {"kind": "get", "paths": paths, "headers": headers, "expected": [200]}


def _plus(day, days):
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def measure(client, spec, server, database_name, counter):
    """One target: the client's figures, the CPU the server and the database used while
    it was counted, and the statements the database ran."""
    snapshots, statements, answered = [], {}, []

    def on_start():
        if counter is not None:
            server.quiesce()  # the warm-up's last requests are not this run's
        if counter is not None and counter.available:
            counter.reset()
        answered.append(server.answered())
        snapshots.append((time.perf_counter(), _cpu_snapshot(server.pid, database_name)))

    def on_end():
        snapshots.append((time.perf_counter(), _cpu_snapshot(server.pid, database_name)))
        answered.append(server.quiesce() if counter is not None else server.answered())
        if counter is not None and counter.available:
            statements.update(counter.read())

    if client["name"] == "wrk":
        result = wrkload.measure(spec, on_start=on_start, on_end=on_end)
    else:
        result = loadgen.measure(spec, on_start=on_start, on_end=on_end)
        result["responses"] = sum(result["statuses"].values())
    if len(snapshots) == 2 and snapshots[0][1] is not None:
        (began, before), (ended, after) = snapshots
        result.update(_cpu_used(before, after, ended - began))
    if len(answered) == 2:
        # The server's count: wrk stops counting at its deadline, the server answers the
        # requests then in flight too, and the database counts their statements.
        result["server_answered"] = answered[1] - answered[0]
    if statements:
        per = result.get("server_answered") or result["responses"] or 1
        result["sql_per_request"] = round(statements["statements"] / per, 2)
        result["transaction_control_per_request"] = round(
            statements["transaction_control"] / per, 2
        )
        result["top_statements"] = statements["top"]
    return result


# Preparing the load ----------------------------------------------------------------------


def coming_days(count):
    today = date.today()
    return [(today + timedelta(days=offset)).isoformat() for offset in range(count)]


def get_json(port, path, headers=None):
    connection = HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path} answered {response.status}: {body[:300]!r}")
        return json.loads(body)
    finally:
        connection.close()


def doctor_ids(port):
    ids, page = [], 1
    while True:
        answer = get_json(port, f"/api/v1/doctors?page={page}&per_page=100")
        ids += [item["id"] for item in answer["items"]]
        if page * answer["per_page"] >= answer["total"]:
            return sorted(ids)
        page += 1


def free_slots(port, ids, days):
    """(doctor id, start) of every slot the API offers in the next `days` days."""
    first = date.today()
    last = first + timedelta(days=days - 1)

    def of(doctor_id):
        query = urlencode({"from": first.isoformat(), "to": last.isoformat()})
        answer = get_json(port, f"/api/v1/doctors/{doctor_id}/slots?{query}")
        return [
            (doctor_id, slot["start"])
            for slot in answer["slots"]
            for _seat in range(slot.get("seats_left", 1))
        ]

    with ThreadPoolExecutor(4) as pool:
        slots = [slot for chunk in pool.map(of, ids) for slot in chunk]
    if len(slots) < 10:
        raise SystemExit("fewer than 10 free slots in the next four weeks: nothing to book")
    return slots


def _two_slots_of_one_doctor(free):
    by_doctor = {}
    for doctor_id, start in free:
        by_doctor.setdefault(doctor_id, []).append(start)
        if len(set(by_doctor[doctor_id])) >= 2:
            first, second = sorted(set(by_doctor[doctor_id]))[:2]
            return [(doctor_id, first), (doctor_id, second)]
    raise SystemExit("no doctor with two free slots")


def future_starts(url, emails):
    """Starts (UTC) the signed-in patients already hold, so none is booked twice at once."""
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT u.email, a.starts_at FROM appointments a "
                "JOIN patients p ON p.id = a.patient_id JOIN users u ON u.id = p.user_id "
                "WHERE a.status = 'confirmed' AND a.starts_at > now() "
                "AND u.email = ANY(:emails)"
            ),
            {"emails": emails},
        ).all()
    engine.dispose()
    index = {email: n for n, email in enumerate(emails)}
    taken = [set() for _ in emails]
    for email, start in rows:
        taken[index[email]].add(start.astimezone(UTC))
    return taken


def assign_slots(free, phases, accounts, taken, seed):
    """Share the free slots among the booking phases (in proportion to their seconds) and
    give each slot an account that holds nothing else at that time: every booking asks
    for a distinct free slot and would be accepted if nothing else took it.
    An account can hold one visit per start time, so the accounts run out of some start
    times before the slots run out: the phases take slots in turn, so that each gets its
    share of what can be assigned. Returns {key: (warm-up slots, counted slots)}, each
    slot (doctor, start, account)."""
    rng = random.Random(seed)
    free = list(free)
    rng.shuffle(free)
    weights = {
        (key, part): seconds or 0.001
        for key, shares in phases.items()
        for part, seconds in enumerate(shares)
    }
    parts = {key: [] for key in weights}
    for turn, (doctor_id, start) in enumerate(free):
        key = min(parts, key=lambda k: len(parts[k]) / weights[k])
        moment = datetime.fromisoformat(start).astimezone(UTC)
        for attempt in range(accounts):
            account = (turn + attempt) % accounts
            if moment not in taken[account]:
                taken[account].add(moment)
                parts[key].append((doctor_id, start, account))
                break
    return {key: (parts[(key, 0)], parts[(key, 1)]) for key in phases}


def sign_in_all(port, emails, slot):
    with ThreadPoolExecutor(4) as pool:
        sessions = list(pool.map(lambda email: sign_in(port, email, slot), emails))
        tokens = list(pool.map(lambda email: api_token(port, email), emails))
    return sessions, tokens


# Reporting ---------------------------------------------------------------------------------


def finish(report, rows, floors, pages, counted_by_database):
    floor_rps = [floor["rps"] for floor in floors]
    for index, row in enumerate(rows):
        around = (floor_rps[index] + floor_rps[index + 1]) / 2
        row["floor_rps"] = round(around, 1)
        row["floor_before_after"] = [floor_rps[index], floor_rps[index + 1]]
        row["x_floor"] = round(row["rps"] / around, 3) if around else None
        if not counted_by_database:
            page = pages.get(row["target"].removesuffix(BEFORE).removesuffix("-cold"))
            row["sql_per_request"] = page["queries"] if page else None
    runs, rows = rows, _medians(rows)
    earlier = {row["target"]: row for row in rows if row["target"].endswith(BEFORE)}
    for row in rows:
        then = earlier.get(row["target"] + BEFORE)
        if then and then["x_floor"] and row["x_floor"] is not None:
            row["vs_before"] = round(row["x_floor"] / then["x_floor"], 2)
        goal = GOALS.get(row["target"])
        row["goal"] = goal
        row["met"] = None if goal is None or row["x_floor"] is None else row["x_floor"] >= goal
        limit = STATEMENT_GOALS.get(row["target"])
        if limit is not None and row.get("sql_per_request") is not None:
            row["sql_goal"] = limit
            row["sql_met"] = row["sql_per_request"] <= limit
    mean = sum(floor_rps) / len(floor_rps)
    report.update(
        targets=rows,
        runs=runs,
        floors=floors,
        floor_rps=floor_rps,
        floor_mean_rps=round(mean, 1),
        floor_drift={
            "first_to_last": round((floor_rps[-1] - floor_rps[0]) / (floor_rps[0] or 1), 3),
            "spread": round((max(floor_rps) - min(floor_rps)) / (mean or 1), 3),
        },
    )
    report["machine"]["loadavg_after"] = _loadavg()
    report["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")

    print()
    print_table(rows, report)
    drift = report["floor_drift"]
    print(
        f"\nFloor ({report['client']['name']}): "
        + ", ".join(f"{rps:,.0f}" for rps in floor_rps)
        + f" req/s; first to last {drift['first_to_last']:+.1%}, spread {drift['spread']:.1%}"
        + (" (over 10%: the machine was busy, run again)" if drift["spread"] > 0.1 else "")
    )
    missed = [row["target"] for row in rows if row["met"] is False or row.get("sql_met") is False]
    print(
        f"Goals met: {sum(1 for row in rows if row['met'])} of "
        f"{sum(1 for row in rows if row['met'] is not None)}"
        + (f"; missed: {', '.join(missed)}" if missed else "")
    )
    for row in rows:
        if row["errors"]:
            print(
                f"  {row['target']}: {row['errors']} errors, {row['statuses']} "
                f"{row.get('failures', {})}"
            )
        if row.get("slots_reused"):
            print(
                f"  {row['target']}: ran out of free slots, later bookings answered 409 "
                "(more --accounts?)"
            )


def _medians(runs):
    """One row per target: the run itself, or with several rounds the median of each
    figure (`x_floor_runs` lists every round's ratio)."""
    by_target = {}
    for run_ in runs:
        by_target.setdefault(run_["target"], []).append(run_)
    rows = []
    for group in by_target.values():
        if len(group) == 1:
            rows.append(dict(group[0]))
            continue
        row = {key: group[0][key] for key in ("target", "label", "cache", "code")}
        for key in (
            "rps",
            "x_floor",
            "floor_rps",
            "p50_ms",
            "p99_ms",
            "sql_per_request",
            "transaction_control_per_request",
            "server_cpu",
            "db_cpu",
            "machine_cpu",
        ):
            values = [run_[key] for run_ in group if run_.get(key) is not None]
            row[key] = statistics.median(values) if values else None
        row["errors"] = sum(run_["errors"] for run_ in group)
        row["statuses"] = {}
        for run_ in group:
            for status, count in run_["statuses"].items():
                row["statuses"][status] = row["statuses"].get(status, 0) + count
        row["slots_reused"] = any(run_.get("slots_reused") for run_ in group)
        row["x_floor_runs"] = [run_["x_floor"] for run_ in group]
        rows.append(row)
    return rows


def write(report):
    path = RESULTS / "latest.json"
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"Written to {path.relative_to(ROOT)}")


def print_rows(rows):
    counts = ", ".join(
        f"{name} {count:,}" for name, count in rows.items() if isinstance(count, int)
    )
    print(f"Rows: {counts}")


def print_table(rows, report):
    sql_title = "SQL/req" if report["statements_counted_by"] == "pg_stat_statements" else "SQL*"
    columns = [
        ("operation", lambda r: r["label"]),
        ("caches", lambda r: r["cache"] + (", before" if r.get("code") == "before" else "")),
        ("req/s", lambda r: f"{r['rps']:,.0f}"),
        ("x floor", lambda r: _fmt(r["x_floor"], "{:.3f}")),
        ("goal", lambda r: "" if r["goal"] is None else f">= {r['goal']:g}"),
        ("met", lambda r: {None: "", True: "yes", False: "NO"}[r["met"]]),
        ("p50 ms", lambda r: _fmt(r["p50_ms"], "{:.1f}")),
        ("p99 ms", lambda r: _fmt(r["p99_ms"], "{:.1f}")),
        (sql_title, lambda r: _fmt(r.get("sql_per_request"), "{:g}")),
        ("SQL goal", lambda r: _sql_goal(r)),
        ("errors", lambda r: f"{r['errors']:,}"),
        ("cpu srv/db/all", _cpu_cell),
    ]
    if any("x_floor_runs" in row for row in rows):
        columns.insert(4, ("x floor, each round", _rounds_cell))
    if "before" in report:
        columns.insert(4, ("vs before", lambda r: _fmt(r.get("vs_before"), "{:.2f} x")))
    cells = [[cell(row) for _title, cell in columns] for row in rows]
    widths = [
        max(len(title), *(len(line[i]) for line in cells)) for i, (title, _) in enumerate(columns)
    ]

    def line(values):
        return "  ".join(
            value.ljust(width) if i < 2 else value.rjust(width)
            for i, (value, width) in enumerate(zip(values, widths, strict=True))
        )

    print(line([title for title, _ in columns]))
    for values in cells:
        print(line(values))
    if sql_title == "SQL*":
        print("SQL*: statements of one request, counted in-process (no pg_stat_statements)")
    else:
        print(
            "SQL/req: statements the database ran per request the server answered "
            "(BEGIN/COMMIT/ROLLBACK apart, in latest.json)"
        )
    print(
        "cpu: cores busy in the gunicorn workers, the database backends and the whole "
        "machine; 'all' well above the other two means something else was running"
    )
    if "before" in report:
        print(
            f"before: {report['before']['directory']} at {report['before']['commit']}; "
            "'vs before' is this checkout's x floor over the one just below it"
        )


def _rounds_cell(row):
    return " ".join(f"{value:.3f}" for value in row.get("x_floor_runs", []))


def _cpu_cell(row):
    keys = ("server_cpu", "db_cpu", "machine_cpu")
    if any(row.get(key) is None for key in keys):
        return "-"
    return "/".join(f"{row[key]:.1f}" for key in keys)


def _fmt(value, form):
    return "-" if value is None else form.format(value)


def _sql_goal(row):
    if "sql_goal" not in row:
        return ""
    return f"<= {row['sql_goal']} " + ("yes" if row["sql_met"] else "NO")


# Servers ----------------------------------------------------------------------------------


def _commit_of(directory):
    """The commit a checkout is at, or 'unknown' (not a git checkout)."""
    try:
        return subprocess.run(
            ["git", "-C", str(directory), "log", "-1", "--format=%h %s"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()[:72]
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def server_environment(database_url):
    env = dict(os.environ)
    env.update(
        PORTAL_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(32),
        DATABASE_URL=database_url,
        SESSION_COOKIE_SECURE="False",
    )
    env.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    # Access tokens outlive the run (15 minutes by default).
    env["API_ACCESS_TOKEN_MINUTES"] = "240"  # noqa: S105 - minutes, not a secret
    return env


class Server:
    """A gunicorn process group. Its access log (one status code a line) counts the
    requests it answered, for the statements per request; every server writes one, the
    floor too, so they all pay the same for it."""

    def __init__(self, name, process, port, log, access_log, app, workers):
        self.name, self.process, self.port, self.log = name, process, port, log
        self.access_log, self.app, self.workers = access_log, app, workers
        self.pid = process.pid
        self.log_offset = 0
        self._access_offset, self._answered = 0, 0

    def answered(self):
        """Requests answered so far (lines of the access log)."""
        if self.access_log.exists():
            with self.access_log.open("rb") as handle:
                handle.seek(self._access_offset)
                new = handle.read()
            complete = new.rfind(b"\n") + 1
            self._answered += new.count(b"\n", 0, complete)
            self._access_offset += complete
        return self._answered

    def quiesce(self, quiet=0.3, timeout=30):
        """Wait until the requests still in flight when the client stopped are answered."""
        deadline = time.monotonic() + timeout
        last = self.answered()
        while time.monotonic() < deadline:
            time.sleep(quiet)
            now = self.answered()
            if now == last:
                return now
            last = now
        return last

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


def serve(stack, name, directory, app, env, workers, extra):
    """Start gunicorn serving `app` from `directory` on a free loopback port; `stack`
    stops it (the master and its workers) whatever happens. Call ready() to wait for it."""
    gunicorn = Path(sys.executable).parent / "gunicorn"
    port = _free_port()
    log = RESULTS / f"gunicorn-{name}.log"
    access_log = RESULTS / f"access-{name}.log"
    access_log.unlink(missing_ok=True)
    command = [
        str(gunicorn),
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "--access-logfile",
        str(access_log),
        "--access-logformat",
        "%(s)s",
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
            start_new_session=True,  # its own process group: stopped as one
        )
    stack.callback(_stop, process)
    return Server(name, process, port, log, access_log, app, workers)


def ready(server):
    _wait_until_serving(server)
    say(
        f"Serving {server.name} ({server.app}) on 127.0.0.1:{server.port} with "
        f"{server.workers} workers, pid {server.pid}"
    )
    server.log_offset = server.log.stat().st_size


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


def sign_in(port, email, slot):
    """Sign a patient in and fetch a CSRF token from a booking panel, as a browser does."""
    doctor_id, start = slot
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
    return {"email": email, "cookie": cookie, "csrf": _csrf(page)}


def api_token(port, email):
    """An access token from the API's password grant."""
    form = {"grant_type": "password", "username": email, "password": dataset.DEMO_PASSWORD}
    status, body = http(port, "POST", "/api/v1/auth/token", {}, form=form)
    if status != 200:
        raise RuntimeError(f"the token endpoint answered {status} for {email}: {body[:300]}")
    return json.loads(body)["access_token"]


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
