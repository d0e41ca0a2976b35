"""The lock files install exactly what requirements*.txt ask for."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s;\\]+)", re.MULTILINE)


def pins(path):
    return {
        name.lower().replace("_", "-"): version for name, version in PIN.findall(path.read_text())
    }


@pytest.mark.parametrize(
    ("wanted", "lock"),
    [
        ("requirements.txt", "requirements.lock"),
        ("requirements-dev.txt", "requirements-dev.lock"),
        ("requirements.txt", "requirements-dev.lock"),
    ],
)
def test_every_pinned_requirement_is_locked_at_its_version(wanted, lock):
    locked = pins(ROOT / lock)
    missing = {
        name: version
        for name, version in pins(ROOT / wanted).items()
        if locked.get(name) != version
    }
    assert missing == {}, f"run `make lock`: {lock} does not hold {missing}"


def test_the_development_lock_holds_the_production_lock():
    production = pins(ROOT / "requirements.lock")
    development = pins(ROOT / "requirements-dev.lock")
    assert {name: development.get(name) for name in production} == production


def test_every_locked_package_has_a_hash():
    for lock in ("requirements.lock", "requirements-dev.lock"):
        text = (ROOT / lock).read_text()
        entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n\n", 1)[-1])
        for entry in entries:
            if PIN.match(entry):
                assert "--hash=sha256:" in entry, f"{lock}: {entry.splitlines()[0]}"
