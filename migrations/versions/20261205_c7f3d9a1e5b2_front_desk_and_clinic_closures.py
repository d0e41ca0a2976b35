"""Who booked each visit, and the days a clinic is closed.

appointments.booked_by_id names the user who booked (the patient, or staff booking on
a patient's behalf); visits booked before it stay unnamed. clinic_closures holds a
clinic's closed days (public holidays): no slot is offered on them, and triggers give
every doctor of the clinic a new schedule version when they change
(portal/directory/schedule_version.py creates the same triggers for databases built
from the models).

Revision ID: c7f3d9a1e5b2
Revises: a7c3e9f1d2b4
Create Date: 2026-12-05 06:45:00.000000

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = 'c7f3d9a1e5b2'
down_revision = 'a7c3e9f1d2b4'
branch_labels = None
depends_on = None

# As portal/directory/schedule_version.py makes them for create_all today.
CLOSURES_POSTGRESQL = [
    """
CREATE OR REPLACE FUNCTION portal_clinic_closures_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE doctors SET schedule_version = CAST(random() * 4611686018427387904 AS bigint)
        WHERE id IN (SELECT id FROM doctors WHERE clinic_id IN (SELECT clinic_id FROM new_rows)
                     ORDER BY id FOR NO KEY UPDATE);
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE doctors SET schedule_version = CAST(random() * 4611686018427387904 AS bigint)
        WHERE id IN (SELECT id FROM doctors
                     WHERE clinic_id IN (SELECT clinic_id FROM new_rows
                                         UNION SELECT clinic_id FROM old_rows)
                     ORDER BY id FOR NO KEY UPDATE);
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE doctors SET schedule_version = CAST(random() * 4611686018427387904 AS bigint)
        WHERE id IN (SELECT id FROM doctors WHERE clinic_id IN (SELECT clinic_id FROM old_rows)
                     ORDER BY id FOR NO KEY UPDATE);
    ELSE
        UPDATE doctors SET schedule_version = CAST(random() * 4611686018427387904 AS bigint)
        WHERE id IN (SELECT id FROM doctors ORDER BY id FOR NO KEY UPDATE);
    END IF;
    RETURN NULL;
END
$$
""",
    "CREATE TRIGGER schedule_version_clinic_closures_insert AFTER INSERT ON clinic_closures REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION portal_clinic_closures_changed()",
    "CREATE TRIGGER schedule_version_clinic_closures_update AFTER UPDATE ON clinic_closures REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION portal_clinic_closures_changed()",
    "CREATE TRIGGER schedule_version_clinic_closures_delete AFTER DELETE ON clinic_closures REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION portal_clinic_closures_changed()",
    "CREATE TRIGGER schedule_version_clinic_closures_truncate AFTER TRUNCATE ON clinic_closures FOR EACH STATEMENT EXECUTE FUNCTION portal_clinic_closures_changed()",
]

CLOSURES_POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS schedule_version_clinic_closures_insert ON clinic_closures",
    "DROP TRIGGER IF EXISTS schedule_version_clinic_closures_update ON clinic_closures",
    "DROP TRIGGER IF EXISTS schedule_version_clinic_closures_delete ON clinic_closures",
    "DROP TRIGGER IF EXISTS schedule_version_clinic_closures_truncate ON clinic_closures",
    "DROP FUNCTION IF EXISTS portal_clinic_closures_changed()",
]

CLOSURES_SQLITE = [
    "CREATE TRIGGER schedule_version_clinic_closures_insert AFTER INSERT ON clinic_closures BEGIN UPDATE doctors SET schedule_version = random() WHERE clinic_id = NEW.clinic_id; END",
    "CREATE TRIGGER schedule_version_clinic_closures_update AFTER UPDATE ON clinic_closures BEGIN UPDATE doctors SET schedule_version = random() WHERE clinic_id IN (OLD.clinic_id, NEW.clinic_id); END",
    "CREATE TRIGGER schedule_version_clinic_closures_delete AFTER DELETE ON clinic_closures BEGIN UPDATE doctors SET schedule_version = random() WHERE clinic_id = OLD.clinic_id; END",
]

CLOSURES_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS schedule_version_clinic_closures_insert",
    "DROP TRIGGER IF EXISTS schedule_version_clinic_closures_update",
    "DROP TRIGGER IF EXISTS schedule_version_clinic_closures_delete",
]


# SQLite rebuilds the appointments table to add a foreign key, and its triggers go with
# it: they are created again, as revision 4f4a266e66a0 made them.
SQLITE_APPOINTMENT_TRIGGERS = [
    "CREATE TRIGGER schedule_version_appointments_insert AFTER INSERT ON appointments "
    "BEGIN UPDATE doctors SET schedule_version = random() WHERE id = NEW.doctor_id; END",
    "CREATE TRIGGER schedule_version_appointments_update AFTER UPDATE ON appointments "
    "BEGIN UPDATE doctors SET schedule_version = random() "
    "WHERE id IN (OLD.doctor_id, NEW.doctor_id); END",
    "CREATE TRIGGER schedule_version_appointments_delete AFTER DELETE ON appointments "
    "BEGIN UPDATE doctors SET schedule_version = random() WHERE id = OLD.doctor_id; END",
]


def _restore_sqlite_appointment_triggers():
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_APPOINTMENT_TRIGGERS:
            op.execute(statement)


def upgrade():
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('booked_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_appointments_booked_by_id_users'), 'users', ['booked_by_id'], ['id']
        )
    _restore_sqlite_appointment_triggers()
    op.create_table(
        'clinic_closures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('clinic_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('reason', sa.String(length=120), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['clinic_id'], ['clinics.id'],
            name=op.f('fk_clinic_closures_clinic_id_clinics'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_closures')),
        sa.UniqueConstraint('clinic_id', 'day', name='uq_clinic_closures_clinic_day'),
    )
    statements = CLOSURES_POSTGRESQL if op.get_bind().dialect.name == "postgresql" else CLOSURES_SQLITE
    for statement in statements:
        op.execute(statement)


def downgrade():
    drops = (
        CLOSURES_POSTGRESQL_DROP if op.get_bind().dialect.name == "postgresql" else CLOSURES_SQLITE_DROP
    )
    for statement in drops:
        op.execute(statement)
    op.drop_table('clinic_closures')
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_appointments_booked_by_id_users'), type_='foreignkey')
        batch_op.drop_column('booked_by_id')
    _restore_sqlite_appointment_triggers()
