"""The directory's version: one number that changes whenever a list of doctors may.

The lists of doctors (the API's, Find a doctor, a department's and a clinic's pages) are
kept under this version, read fresh in every request in one cheap query. That is only
right if every write that may change a list changes the version, in the same
transaction, whoever writes (the services, a Core or bulk statement, plain SQL), so the
database does it: triggers on clinics, departments, the doctors' departments, the
doctors' own rows (every column but the schedule version, which bookings change and no
list shows), the columns of their accounts that a list shows or filters on, and the
doctor of weekly hours (Find lists doctors who have some) give the single row of
directory_state a new random version. Random rather than counted: a version a
rolled-back transaction used can never come back holding other rows.

On PostgreSQL the triggers are deferred to the commit: a transaction takes the lock on
directory_state last, after any doctor's row lock it holds, so two writers cannot wait
for each other (a booking never takes it). TRUNCATE has its own statement trigger. On
SQLite one writer holds the whole database; its triggers run at once.

The migrations b5e1d7c3a9f2 and e3a9c5d1f7b4 (migrations/versions) create the same
table, row and triggers; tests build the schema from the models, so create_all installs
them through install() below.
"""

from sqlalchemy import DDL, event

# Every column of doctors but schedule_version (tests/api/test_directory_version.py
# checks this against the model: a new column belongs here).
DOCTOR_COLUMNS = (
    "id",
    "user_id",
    "clinic_id",
    "title",
    "license_number",
    "qualifications",
    "experience_years",
    "consultation_fee",
    "currency",
    "bio",
    "translations",
    "max_appointments_per_day",
    "accepting_patients",
    "is_active",
    "slot_minutes",
    "seats_per_slot",
    "created_at",
)
# What a list of doctors shows or filters on of their accounts.
USER_COLUMNS = ("id", "full_name", "search_name", "email", "is_active")
TABLES = {  # table: the UPDATE columns that change the version (None: any)
    "clinics": None,
    "departments": None,
    "doctor_departments": None,
    "doctors": DOCTOR_COLUMNS,
    "users": USER_COLUMNS,
    # Find a doctor lists the doctors who have weekly hours: a doctor's first interval
    # or last one changes the list; other changes of hours change free times only.
    "weekly_hours": ("doctor_id",),
}


def _events(table, columns):
    update = "UPDATE" if columns is None else "UPDATE OF " + ", ".join(columns)
    if table == "users":  # an account is listed once its doctor row is
        return update
    return f"INSERT OR {update} OR DELETE"


POSTGRESQL = [
    """
CREATE OR REPLACE FUNCTION portal_new_directory_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE directory_state SET version = CAST(random() * 4611686018427387904 AS bigint);
    RETURN NULL;
END
$$
""",
    *(
        f"CREATE CONSTRAINT TRIGGER directory_version_{table} AFTER {_events(table, columns)} "
        f"ON {table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
        "EXECUTE FUNCTION portal_new_directory_version()"
        for table, columns in TABLES.items()
    ),
    *(
        f"CREATE TRIGGER directory_version_{table}_truncate AFTER TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION portal_new_directory_version()"
        for table in TABLES
    ),
]

POSTGRESQL_DROP = [
    *(f"DROP TRIGGER IF EXISTS directory_version_{table} ON {table}" for table in TABLES),
    *(f"DROP TRIGGER IF EXISTS directory_version_{table}_truncate ON {table}" for table in TABLES),
    "DROP FUNCTION IF EXISTS portal_new_directory_version()",
]

# Built from the constants above only, never from input.
SQLITE = [
    f"CREATE TRIGGER directory_version_{table}_{action.split()[0].lower()} AFTER {action} "  # noqa: S608
    f"ON {table} BEGIN UPDATE directory_state SET version = random(); END"
    for table, columns in TABLES.items()
    for action in _events(table, columns).split(" OR ")
]

SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS directory_version_{table}_{action.split()[0].lower()}"
    for table, columns in TABLES.items()
    for action in _events(table, columns).split(" OR ")
]

# The single row, created with the table.
FIRST_ROW = "INSERT INTO directory_state (id, version) VALUES (1, 0)"


def install(table):
    """Create the row and the triggers whenever create_all builds directory_state (the
    tests do), after every table the triggers watch."""
    event.listen(table, "after_create", DDL(FIRST_ROW))
    for dialect, statements in (("postgresql", POSTGRESQL), ("sqlite", SQLITE)):
        for statement in statements:
            event.listen(table.metadata, "after_create", DDL(statement).execute_if(dialect=dialect))
    event.listen(
        table.metadata,
        "before_drop",
        DDL("DROP FUNCTION IF EXISTS portal_new_directory_version() CASCADE").execute_if(
            dialect="postgresql"
        ),
    )
