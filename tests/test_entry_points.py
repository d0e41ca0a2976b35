"""The entry points start in a fresh interpreter, as gunicorn and Celery start them."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wsgi_and_the_celery_app_import_in_a_fresh_process(tmp_path):
    env = {
        **os.environ,
        "SECRET_KEY": "entry-point-test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite'}",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi; print(wsgi.app.name, wsgi.celery_app.main)"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["portal", "portal"]
