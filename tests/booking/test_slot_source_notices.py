"""On PostgreSQL each worker keeps what the day-slots partial needs of a doctor and asks
the database nothing while no notice says it changed. A change committed by another
worker, or by anyone writing to the database, shows there as soon as the notice comes; a
worker that cannot hear notices reads the database on every request."""

import inspect
import os
import time as clock
from datetime import datetime

import pytest
from sqlalchemy import create_engine, text

from portal import create_app
from portal.booking import services
from portal.db import utcnow
from portal.directory import services as directory
from portal.extensions import db as _db
from portal.scheduling import notices
from tests.booking.test_slot_reuse import (
    CHANGES,
    a_working_day,
    free_now,
    offered,
    statement_counts,
)
from tests.conftest import config_for

HTMX = {"HX-Request": "true"}


@pytest.fixture
def other_worker(app, backend):
    """A second portal on the same database, as another gunicorn worker is."""
    if backend != "postgresql":
        pytest.skip("SQLite sends no notices: there every request reads the database")
    worker = create_app(config_for(app.config["SQLALCHEMY_DATABASE_URI"]))
    watch = worker.extensions[notices.EXTENSION]
    assert watch.wait_until_listening(), "the worker should listen for notices"
    yield worker
    notices.stop(worker)
    with worker.app_context():
        _db.engine.dispose()


def page_of(worker, doctor_id, day):
    with worker.app_context():
        return worker.test_client().get(
            f"/doctors/{doctor_id}/slots", query_string={"day": day.isoformat()}, headers=HTMX
        )


def shown_by(worker, doctor_id, day):
    response = page_of(worker, doctor_id, day)
    assert response.status_code == 200, response.text
    return offered(response.text)


def eventually(read, expected, seconds=5):
    """What `read` gives once it gives `expected`, or its last answer after `seconds`:
    a notice takes a moment to arrive."""
    deadline = clock.monotonic() + seconds
    while True:
        answer = read()
        if answer == expected or clock.monotonic() > deadline:
            return answer
        clock.sleep(0.02)


def caught_up(worker):
    """The worker has heard of every change committed so far (the set-up's too), so
    what it keeps from now on stays kept until the test changes something."""
    assert worker.extensions[notices.EXTENSION].catch_up(), "the notices should arrive"


def worker_queries(worker, look):
    with worker.app_context():
        return statement_counts(_db, [look])[0]


@pytest.mark.parametrize("change", CHANGES, ids=lambda change: change.__name__)
def test_another_workers_change_shows_once_its_notice_arrives(
    change, other_worker, db, doctor, patient, admin
):
    day = a_working_day(doctor)
    steps = None
    if inspect.isgeneratorfunction(change):
        steps = change(db, doctor, patient, admin, day)
        next(steps)
    doctor_id = doctor.id  # read now: a committed record would be loaded again
    caught_up(other_worker)
    before = shown_by(other_worker, doctor_id, day)
    look = lambda: shown_by(other_worker, doctor_id, day)  # noqa: E731
    assert worker_queries(other_worker, look) == 0, "the second look is served from memory"

    if steps is None:
        change(db, doctor, patient, admin, day)  # committed by this worker, not the other
    else:
        next(steps, None)
    expected = free_now(db, doctor_id, day)
    assert expected != before
    assert eventually(look, expected) == expected


def closed_clinic(db, doctor, admin):
    directory.deactivate_clinic(actor=admin, clinic=doctor.clinic)
    db.session.commit()


def doctor_left(db, doctor, admin):
    directory.deactivate_doctor(actor=admin, doctor=doctor, reason="Moved away", now=utcnow())
    db.session.commit()


@pytest.mark.parametrize("change", [closed_clinic, doctor_left], ids=lambda c: c.__name__)
def test_a_doctor_no_longer_bookable_elsewhere_is_gone_once_the_notice_arrives(
    change, other_worker, db, doctor, admin
):
    day, doctor_id = a_working_day(doctor), doctor.id
    assert shown_by(other_worker, doctor_id, day)
    change(db, doctor, admin)
    status = eventually(lambda: page_of(other_worker, doctor_id, day).status_code, 404)
    assert status == 404


def test_new_booking_rules_show_in_every_worker(other_worker, db, doctor, admin):
    far, doctor_id = a_working_day(doctor, ahead=10), doctor.id
    assert shown_by(other_worker, doctor_id, far)
    services.update_booking_settings(
        actor=admin, min_notice_minutes=60, horizon_days=2, cancel_cutoff_hours=24
    )
    db.session.commit()
    assert eventually(lambda: shown_by(other_worker, doctor_id, far), []) == []


def test_a_change_written_straight_to_the_database_is_noticed(app, other_worker, db, doctor):
    # An import or a console session bypasses the portal; the database's triggers do not.
    day = a_working_day(doctor)
    assert shown_by(other_worker, doctor.id, day)
    console = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with console.begin() as connection:
        connection.execute(
            text("UPDATE doctors SET accepting_patients = false WHERE id = :id"),
            {"id": doctor.id},
        )
    console.dispose()
    assert eventually(lambda: shown_by(other_worker, doctor.id, day), []) == []


def terminate_listener(app):
    admin = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        ended = connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND query IN (:listen, 'SELECT 1')"
            ),
            {"listen": f"LISTEN {notices.CHANNEL}"},
        ).all()
    admin.dispose()
    return len(ended)


def test_a_worker_that_lost_its_notices_reads_the_database_until_it_hears_them_again(
    app, other_worker, db, doctor, patient
):
    from tests.booking.test_slot_reuse import book

    day = a_working_day(doctor)
    watch = other_worker.extensions[notices.EXTENSION]
    doctor_id = doctor.id
    look = lambda: shown_by(other_worker, doctor_id, day)  # noqa: E731
    caught_up(other_worker)
    before = look()
    assert worker_queries(other_worker, look) == 0

    assert terminate_listener(app) >= 1
    assert watch.wait_until_not_listening(), "the worker should see its connection go"
    # Deaf for now: each look reads the database, so a booking made meanwhile shows.
    taken = before[0]
    book(db, doctor, patient, datetime.fromisoformat(taken))
    assert taken not in look()
    assert worker_queries(other_worker, look) > 0

    assert watch.wait_until_listening(), "the worker should listen again"
    caught_up(other_worker)
    look()
    assert worker_queries(other_worker, look) == 0


def test_a_source_read_while_a_notice_came_is_not_kept(other_worker, doctor):
    watch = other_worker.extensions[notices.EXTENSION]
    caught_up(other_worker)
    kept, token = watch.lookup(doctor.id)
    assert kept is None
    assert token is not None
    watch.forget({doctor.id})  # the notice of a change committed during the read
    watch.keep(doctor.id, "what the read saw", token)
    assert watch.lookup(doctor.id)[0] is None
    _, token = watch.lookup(doctor.id)
    watch.keep(doctor.id, "a read with no change during it", token)
    assert watch.lookup(doctor.id)[0] == "a read with no change during it"


def test_a_worker_told_to_keep_no_sources_reads_the_doctor_every_time(app, backend, doctor):
    if backend != "postgresql":
        pytest.skip("SQLite sends no notices: there every request reads the database")
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    worker = create_app(config_for(url, SLOT_SOURCE_CACHE_SIZE=0))
    day, doctor_id = a_working_day(doctor), doctor.id
    look = lambda: shown_by(worker, doctor_id, day)  # noqa: E731
    try:
        look()
        assert [worker_queries(worker, look) for _ in range(3)] == [1, 1, 1]
    finally:
        with worker.app_context():
            _db.engine.dispose()


def test_after_a_notice_only_the_source_is_read_again(other_worker, db, doctor, admin):
    day, doctor_id = a_working_day(doctor), doctor.id
    look = lambda: shown_by(other_worker, doctor_id, day)  # noqa: E731
    caught_up(other_worker)
    look()
    # A change that leaves the free times alone: the doctor and the rules are read
    # again, the strip of free times this worker computed still serves.
    directory.update_doctor(actor=admin, doctor=doctor, bio="Now also sees children.")
    db.session.commit()
    deadline = clock.monotonic() + 5
    count = 0
    while count == 0 and clock.monotonic() < deadline:
        count = worker_queries(other_worker, look)
    assert count == 1, "the notice should make the worker read the doctor again, once"
    assert worker_queries(other_worker, look) == 0


def test_a_forked_worker_starts_with_nothing_kept_and_listens_on_its_own(other_worker, doctor):
    # gunicorn --preload forks workers from a process that may have served already.
    watch = other_worker.extensions[notices.EXTENSION]
    caught_up(other_worker)
    _, token = watch.lookup(doctor.id)
    watch.keep(doctor.id, "kept by the parent", token)
    child = os.fork()
    if child == 0:  # the worker: report through the exit code, run nothing of pytest
        status = 1
        try:
            if watch.lookup(doctor.id)[0] is None and watch.wait_until_listening():
                _, token = watch.lookup(doctor.id)
                watch.keep(doctor.id, "kept by the worker", token)
                status = 0 if watch.lookup(doctor.id)[0] == "kept by the worker" else 2
        finally:
            os._exit(status)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert watch.lookup(doctor.id)[0] == "kept by the parent"
