"""A private PostgreSQL server for one benchmark run, and counting statements on it.

`private_cluster()` initialises a throwaway cluster in a temporary directory, starts it
on 127.0.0.1 with pg_stat_statements loaded, yields its URL and always stops it and
removes the directory, even when the run fails. PostgreSQL refuses to run as root, so
as root the server runs as the `postgres` system user (runuser). Nothing else on the
machine is touched: the shared server on 5432 is neither stopped nor reconfigured.

`StatementCounter` reads pg_stat_statements: how many statements the server executed
for one database between a reset and a read, as the database saw them (top-level
statements only, so a trigger's own statements are not counted; BEGIN, COMMIT and
ROLLBACK are counted apart as transaction control).
"""

import glob
import os
import re
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PREFERRED_PORT = 5499
TRANSACTION_CONTROL = re.compile(
    r"^\s*(begin|start transaction|commit|end|rollback(?!\s+to))\b", re.IGNORECASE
)


class ClusterUnavailable(RuntimeError):
    pass


def find_bindir():
    """The directory of initdb and pg_ctl: PG_BINDIR, pg_config, or the newest Debian one."""
    candidates = [os.environ.get("PG_BINDIR")]
    if shutil.which("pg_config"):
        done = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=False
        )
        candidates.append(done.stdout.strip())
    candidates += sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda path: int(re.sub(r"\D", "", path.split("/")[-2]) or 0),
        reverse=True,
    )
    if shutil.which("initdb"):
        candidates.append(str(Path(shutil.which("initdb")).parent))
    for directory in filter(None, candidates):
        if (Path(directory) / "initdb").exists() and (Path(directory) / "pg_ctl").exists():
            return Path(directory)
    raise ClusterUnavailable(
        "initdb and pg_ctl not found (install the PostgreSQL server package, or set "
        "PG_BINDIR, or pass --database-url)"
    )


def _port():
    for port in (PREFERRED_PORT, 0):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise ClusterUnavailable("no free port")


@contextmanager
def private_cluster(database="portal_bench", log=None):
    """Start a throwaway PostgreSQL server; yield the URL of `database` on it."""
    bindir = find_bindir()
    as_user = []
    directory = Path(tempfile.mkdtemp(prefix="portal-bench-pg-"))
    if os.geteuid() == 0:
        if not shutil.which("runuser"):
            shutil.rmtree(directory, ignore_errors=True)
            raise ClusterUnavailable("running as root without runuser")
        try:
            shutil.chown(directory, user="postgres", group="postgres")
        except (LookupError, PermissionError) as error:
            shutil.rmtree(directory, ignore_errors=True)
            raise ClusterUnavailable(f"no postgres user to run the server as: {error}") from None
        as_user = ["runuser", "-u", "postgres", "--"]
    data = directory / "data"
    log = log or directory / "server.log"
    port = _port()
    started = False
    try:
        _call(
            as_user,
            [bindir / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8"],
            "initdb",
        )
        options = " ".join(
            [
                f"-p {port}",
                f"-k {directory}",
                "-c listen_addresses=127.0.0.1",
                "-c shared_preload_libraries=pg_stat_statements",
                "-c pg_stat_statements.track=top",
                "-c max_connections=100",
            ]
        )
        # The log goes where the postgres user may write; copied out at the end.
        server_log = directory / "server.log"
        _call(
            as_user,
            [bindir / "pg_ctl", "-D", data, "-l", server_log, "-o", options, "-w", "start"],
            "pg_ctl start",
        )
        started = True
        yield f"postgresql://postgres@127.0.0.1:{port}/{database}"
    finally:
        if started:
            subprocess.run(
                [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                capture_output=True,
                check=False,
                timeout=120,
            )
        if log != directory / "server.log" and (directory / "server.log").exists():
            shutil.copyfile(directory / "server.log", log)
        shutil.rmtree(directory, ignore_errors=True)


def _call(as_user, command, what):
    done = subprocess.run(
        [*as_user, *map(str, command)], capture_output=True, text=True, check=False, timeout=120
    )
    if done.returncode != 0:
        raise ClusterUnavailable(f"{what} failed:\n{done.stdout}\n{done.stderr}")


class StatementCounter:
    """pg_stat_statements of one database, read from the server's `postgres` database
    so that the reading itself is not counted."""

    def __init__(self, database_url):
        url = make_url(database_url)
        self.database = url.database
        self.engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        self.reason = None
        try:
            with self.engine.connect() as connection:
                loaded = connection.scalar(text("SHOW shared_preload_libraries"))
                if "pg_stat_statements" not in loaded:
                    raise ClusterUnavailable("pg_stat_statements is not preloaded")
                connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
                connection.scalar(text("SELECT count(*) FROM pg_stat_statements"))
            self.available = True
        except Exception as error:  # any failure means: count another way
            self.available = False
            self.reason = str(error).splitlines()[0]

    def reset(self):
        with self.engine.connect() as connection:
            connection.execute(text("SELECT pg_stat_statements_reset()"))

    def read(self):
        """{"statements", "transaction_control", "top": [(calls, query)]} since the reset."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT s.calls, s.query FROM pg_stat_statements s "
                    "JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = :name "
                    "ORDER BY s.calls DESC"
                ),
                {"name": self.database},
            ).all()
        control = sum(calls for calls, query in rows if TRANSACTION_CONTROL.match(query))
        total = sum(calls for calls, _query in rows)
        return {
            "statements": total - control,
            "transaction_control": control,
            "top": [[calls, " ".join(query.split())[:240]] for calls, query in rows[:15]],
        }

    def close(self):
        self.engine.dispose()
