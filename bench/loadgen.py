"""The load generator: HTTP/1.1 clients in threads, inside a process of their own.

`measure(spec)` starts one process (spawned, so it shares nothing with the server or the
in-process app), which opens `concurrency` client connections, each in its own thread,
and sends requests back to back for `warmup` seconds (not counted) and then `duration`
seconds (counted). Each thread stops at the deadline or after its share of
`max_requests`, whichever comes first; the parent kills the process if it overruns, so a
run always ends by itself.

Every request says `Connection: close`: one request per connection, as with wrk
(wrkload.py), for the floor and the portal alike. The `connects` figure in the result
shows how many TCP connections were opened.

A request kind is one of (the same as bench/load.lua's):
- "get": GET a random path of `paths`, with `headers`;
- "api-book": POST /api/v1/appointments with the account's bearer token;
- "html-book": POST /doctors/<id>/book with the account's session cookie and CSRF token.
  Booking kinds take `slots` ((doctor id, start, account index) each) in turn, thread n
  of N taking slots n, n+N, ..., so every booking asks for a distinct free slot; the
  warm-up takes `warmup_slots`.
"""

import json
import multiprocessing
import queue
import random
import threading
import time
from collections import Counter
from http.client import HTTPConnection, HTTPException
from urllib.parse import urlencode

HOST = "127.0.0.1"
REQUEST_TIMEOUT = 10.0


def measure(spec, on_start=None, on_end=None):
    """Run one load phase in a separate process and return its summary. `on_start` and
    `on_end` are called in this process as the counted part begins and ends (after the
    warm-up), e.g. to read CPU counters over exactly that span. The counted part waits
    for `on_start` to return."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    warmed, go, ended = context.Event(), context.Event(), context.Event()
    process = context.Process(target=_child, args=(spec, results, warmed, go, ended), daemon=True)
    process.start()
    budget = spec["warmup"] + spec["duration"] + REQUEST_TIMEOUT + 90
    deadline = time.monotonic() + budget
    try:
        if warmed.wait(timeout=max(0.0, deadline - time.monotonic())) and on_start:
            on_start()
        go.set()
        if ended.wait(timeout=max(0.0, deadline - time.monotonic())) and on_end:
            on_end()
        summary = results.get(timeout=max(1.0, deadline - time.monotonic()))
    except queue.Empty:
        raise RuntimeError(f"the load process gave no result within {budget:.0f} s") from None
    finally:
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
            process.join()
    if "crash" in summary:
        raise RuntimeError("the load process failed:\n" + summary["crash"])
    return summary


def _child(spec, results, warmed, go, ended):
    try:
        if spec["warmup"] > 0:
            warm = dict(spec, slots=spec.get("warmup_slots", []))
            _phase(warm, spec["warmup"], seed=spec["seed"] + 1)
        warmed.set()
        go.wait(timeout=60)
        results.put(_phase(spec, spec["duration"], seed=spec["seed"], events=(None, ended)))
    except BaseException:  # report anything to the parent rather than hang it
        import traceback

        results.put({"crash": traceback.format_exc()})
    finally:
        warmed.set()
        ended.set()


def _phase(spec, duration, seed, events=None):
    concurrency = spec["concurrency"]
    per_thread = max(1, spec["max_requests"] // concurrency)
    barrier = threading.Barrier(concurrency + 1)
    stats = [_ThreadStats() for _ in range(concurrency)]
    shared = {}
    threads = [
        threading.Thread(
            target=_client,
            args=(spec, index, random.Random(seed * 1000 + index), barrier, shared, per_thread),
            kwargs={"stats": stats[index]},
            daemon=True,
        )
        for index in range(concurrency)
    ]
    for thread in threads:
        thread.start()
    cpu_start = time.process_time()
    shared["deadline"] = time.perf_counter() + duration
    started = time.perf_counter()
    barrier.wait()
    for thread in threads:
        thread.join(timeout=duration + REQUEST_TIMEOUT + 5)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_start
    if events:
        events[1].set()
    return _summarise(spec, stats, elapsed, cpu)


class _ThreadStats:
    def __init__(self):
        self.latencies = []
        self.statuses = Counter()
        self.failures = Counter()
        self.connects = 0


def _client(spec, index, rng, barrier, shared, per_thread, *, stats):
    connection = HTTPConnection(HOST, spec["port"], timeout=REQUEST_TIMEOUT)
    next_request = _request_maker(spec, index, rng)
    barrier.wait()
    deadline = shared["deadline"]
    sent = 0
    while sent < per_thread and time.perf_counter() < deadline:
        method, path, body, headers = next_request()
        if connection.sock is None:
            stats.connects += 1
        began = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
        except (OSError, HTTPException) as error:
            stats.failures[type(error).__name__] += 1
            connection.close()
        else:
            stats.latencies.append(time.perf_counter() - began)
            stats.statuses[response.status] += 1
        sent += 1
    connection.close()


def _request_maker(spec, index, rng):
    base = {**spec.get("headers", {}), "Connection": "close"}
    if spec["kind"] == "get":
        paths = spec["paths"]

        def get():
            return "GET", rng.choice(paths), None, base

        return get

    slots, accounts = spec["slots"], spec["accounts"]
    step = spec["concurrency"]
    position = [index]

    def book():
        if position[0] >= len(slots):
            position[0] = index  # this thread's share is used up: start it again
        doctor_id, start, account = slots[position[0]]
        position[0] += step
        credential, csrf = accounts[account]
        if spec["kind"] == "api-book":
            headers = {
                **base,
                "Authorization": f"Bearer {credential}",
                "Content-Type": "application/json",
            }
            body = json.dumps({"doctor_id": doctor_id, "start": start, "reason": "Benchmark"})
            return "POST", "/api/v1/appointments", body, headers
        headers = {
            **base,
            "Cookie": credential,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        body = urlencode({"start": start, "reason": "Benchmark", "csrf_token": csrf})
        return "POST", f"/doctors/{doctor_id}/book", body, headers

    return book


def percentile(ordered, fraction):
    """Nearest-rank percentile of a sorted list."""
    if not ordered:
        return None
    rank = max(1, round(fraction * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


def _summarise(spec, stats, elapsed, cpu):
    latencies = sorted(latency for one in stats for latency in one.latencies)
    statuses = sum((one.statuses for one in stats), Counter())
    failures = sum((one.failures for one in stats), Counter())
    expected = set(spec["expected"])
    served = sum(count for status, count in statuses.items() if status in expected)
    errors = sum(failures.values()) + sum(
        count for status, count in statuses.items() if status not in expected
    )
    p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
    return {
        "requests": served + errors,
        "served": served,
        "errors": errors,
        "rps": round(served / elapsed, 1) if elapsed else 0.0,
        "p50_ms": None if p50 is None else round(p50 * 1000, 2),
        "p99_ms": None if p99 is None else round(p99 * 1000, 2),
        "seconds": round(elapsed, 2),
        "statuses": {str(status): count for status, count in sorted(statuses.items())},
        "failures": dict(failures),
        "connects": sum(one.connects for one in stats),
        "client_cpu": round(cpu / elapsed, 2) if elapsed else 0.0,
    }
