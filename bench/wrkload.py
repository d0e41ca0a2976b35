"""The load client when wrk is installed: wrk with bench/load.lua, one run per phase.

`measure(spec)` takes the same target description as loadgen.measure and returns the
same summary: it writes the target's data file (paths, or accounts and slots) for
load.lua, runs wrk for the warm-up (not counted) and then for the counted duration, and
reads the line load.lua prints at the end. wrk runs `min(2, concurrency)` threads (one
per core of the small machines this runs on) sharing `concurrency` connections.
"""

import json
import resource
import shutil
import subprocess
from pathlib import Path

LUA = Path(__file__).resolve().with_name("load.lua")
MARK = "BENCH-RESULT "
REQUEST_TIMEOUT = "10s"


def available():
    return shutil.which("wrk")


def version():
    done = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).splitlines()[0].strip() if available() else None


def write_data(path, spec, slots):
    lines = [f"kind\t{spec['kind']}", "expect\t" + ",".join(str(s) for s in spec["expected"])]
    lines += [f"header\t{name}\t{value}" for name, value in spec.get("headers", {}).items()]
    for credential, csrf in spec.get("accounts", []):
        lines.append(f"account\t{credential}\t{csrf or '-'}")
    lines += [f"path\t{path_}" for path_ in spec.get("paths", [])]
    lines += [f"slot\t{doctor}\t{start}\t{account + 1}" for doctor, start, account in slots]
    Path(path).write_text("\n".join(lines) + "\n")


def _run(spec, seconds, data_file):
    threads = max(1, min(2, spec["concurrency"]))
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{spec['concurrency']}",
        f"-d{max(1, round(seconds))}s",
        f"--timeout={REQUEST_TIMEOUT}",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{spec['port']}",
        "--",
        str(data_file),
        str(threads),
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARK)]
    if done.returncode != 0 or not lines:
        raise RuntimeError(
            f"wrk failed ({done.returncode}): {' '.join(command)}\n{done.stdout}\n{done.stderr}"
        )
    result = json.loads(lines[-1][len(MARK) :])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result, cpu


def measure(spec, on_start=None, on_end=None):
    """Warm up, then count; `on_start` and `on_end` bracket the counted run."""
    directory = Path(spec["data_dir"])
    if spec["warmup"] > 0:
        warm = directory / f"wrk-{spec['slug']}-warmup.tsv"
        write_data(warm, spec, spec.get("warmup_slots", []))
        _run(spec, spec["warmup"], warm)
    data = directory / f"wrk-{spec['slug']}.tsv"
    write_data(data, spec, spec.get("slots", []))
    if on_start:
        on_start()
    result, cpu = _run(spec, spec["duration"], data)
    if on_end:
        on_end()
    seconds = result["duration_us"] / 1e6
    return {
        "requests": result["served"] + result["errors"],
        "served": result["served"],
        "errors": result["errors"],
        "rps": round(result["served"] / seconds, 1) if seconds else 0.0,
        "p50_ms": round(result["p50_us"] / 1000, 2),
        "p99_ms": round(result["p99_us"] / 1000, 2),
        "seconds": round(seconds, 2),
        "statuses": result["statuses"],
        "failures": {key: n for key, n in result["failures"].items() if n},
        "responses": result["responses"],
        "slots_reused": result["wrapped"] > 0,
        "client_cpu": round(cpu / seconds, 2) if seconds else 0.0,
    }
