"""The load generator: HTTP/1.1 clients in threads, inside a process of their own.

`measure(spec)` starts one process (spawned, so it shares nothing with the server or the
in-process app), which opens `concurrency` client connections, each in its own thread,
and sends requests back to back for `warmup` seconds (not counted) and then `duration`
seconds (counted). Each thread stops at the deadline or after its share of
`max_requests`, whichever comes first; the parent kills the process if it overruns, so a
run always ends by itself.

Connections are keep-alive (HTTP/1.1), but gunicorn's default sync worker answers every
request with `Connection: close`; http.client then reconnects for the next request. The
`connects` figure in the result shows how many TCP connections were opened.

A request kind is one of:
- "get": GET a random path of `paths`, with `headers`;
- "book": POST /doctors/<id>/book as one of the signed-in `sessions` (one per thread,
  round robin), for a random (doctor id, start) of `slots`, with HX-Request.
"""

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
    warm-up), e.g. to read CPU counters over exactly that span."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    started, ended = context.Event(), context.Event()
    process = context.Process(target=_child, args=(spec, results, started, ended), daemon=True)
    process.start()
    budget = spec["warmup"] + spec["duration"] + REQUEST_TIMEOUT + 30
    deadline = time.monotonic() + budget
    try:
        for event, callback in ((started, on_start), (ended, on_end)):
            if event.wait(timeout=max(0.0, deadline - time.monotonic())) and callback:
                callback()
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


def _child(spec, results, started, ended):
    try:
        if spec["warmup"] > 0:
            _phase(spec, spec["warmup"], seed=spec["seed"] + 1)
        results.put(_phase(spec, spec["duration"], seed=spec["seed"], events=(started, ended)))
    except BaseException:  # report anything to the parent rather than hang it
        import traceback

        results.put({"crash": traceback.format_exc()})
    finally:
        started.set()
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
    if events:
        events[0].set()
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
    if spec["kind"] == "get":
        paths, headers = spec["paths"], spec.get("headers", {})

        def get():
            return "GET", rng.choice(paths), None, headers

        return get

    session = spec["sessions"][index % len(spec["sessions"])]
    headers = {
        "Cookie": session["cookie"],
        "Content-Type": "application/x-www-form-urlencoded",
        "HX-Request": "true",
    }
    slots = spec["slots"]

    def book():
        doctor_id, start = rng.choice(slots)
        body = urlencode({"start": start, "reason": "Benchmark", "csrf_token": session["csrf"]})
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
