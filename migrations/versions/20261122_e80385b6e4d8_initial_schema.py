"""Initial schema: accounts, directory, weekly hours, time off, appointments, audit.

Appointments carry the guarantee against double booking: a partial unique index on
(doctor, start, seat) for active appointments on every database, and on PostgreSQL an
exclusion constraint that refuses overlapping active appointments of one doctor unless
they are seats of the same slot (same start).

Revision ID: e80385b6e4d8
Revises: 
Create Date: 2026-11-22 02:27:40.814362

"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'e80385b6e4d8'
down_revision = None
branch_labels = None
depends_on = None


ACTIVE = "status <> 'cancelled'"


def _now_for(bind):
    # SQLite keeps instants as naive UTC, as the models do.
    now = datetime.now(UTC)
    return now.replace(tzinfo=None) if bind.dialect.name == "sqlite" else now


def upgrade():
    op.create_table('clinics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('address', sa.String(length=255), nullable=False),
    sa.Column('city', sa.String(length=120), nullable=False),
    sa.Column('postal_code', sa.String(length=20), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinics'))
    )
    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clinics_city'), ['city'], unique=False)

    op.create_table('departments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('translations', sa.JSON(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_departments')),
    sa.UniqueConstraint('code', name=op.f('uq_departments_code'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=72), nullable=True),
    sa.Column('full_name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('admin', 'doctor', 'patient')", name=op.f('ck_users_role_known')),
    sa.CheckConstraint('email = lower(email)', name=op.f('ck_users_email_lower')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('entity_type', sa.String(length=40), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('ip_address', sa.String(length=45), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_events_actor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index('ix_audit_events_created', ['created_at'], unique=False)
        batch_op.create_index('ix_audit_events_entity', ['entity_type', 'entity_id'], unique=False)

    op.create_table('booking_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('min_notice_minutes', sa.Integer(), nullable=False),
    sa.Column('horizon_days', sa.Integer(), nullable=False),
    sa.Column('cancel_cutoff_hours', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('cancel_cutoff_hours >= 0', name=op.f('ck_booking_settings_cutoff_not_negative')),
    sa.CheckConstraint('horizon_days BETWEEN 1 AND 730', name=op.f('ck_booking_settings_horizon_range')),
    sa.CheckConstraint('id = 1', name=op.f('ck_booking_settings_single_row')),
    sa.CheckConstraint('min_notice_minutes >= 0', name=op.f('ck_booking_settings_notice_not_negative')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_booking_settings_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_settings'))
    )
    op.bulk_insert(
        sa.table(
            "booking_settings",
            sa.column("id", sa.Integer),
            sa.column("min_notice_minutes", sa.Integer),
            sa.column("horizon_days", sa.Integer),
            sa.column("cancel_cutoff_hours", sa.Integer),
            sa.column("updated_at", sa.DateTime(timezone=True)),
        ),
        [{"id": 1, "min_notice_minutes": 120, "horizon_days": 90, "cancel_cutoff_hours": 24,
          "updated_at": _now_for(op.get_bind())}],
    )
    op.create_table('doctors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=40), nullable=False),
    sa.Column('license_number', sa.String(length=40), nullable=False),
    sa.Column('qualifications', sa.Text(), nullable=False),
    sa.Column('experience_years', sa.Integer(), nullable=False),
    sa.Column('consultation_fee', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('bio', sa.Text(), nullable=False),
    sa.Column('translations', sa.JSON(), nullable=False),
    sa.Column('max_appointments_per_day', sa.Integer(), nullable=True),
    sa.Column('accepting_patients', sa.Boolean(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('slot_minutes', sa.Integer(), nullable=False),
    sa.Column('seats_per_slot', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('max_appointments_per_day IS NULL OR max_appointments_per_day >= 1', name=op.f('ck_doctors_daily_max_positive')),
    sa.CheckConstraint('seats_per_slot >= 1', name=op.f('ck_doctors_seats_positive')),
    sa.CheckConstraint('slot_minutes BETWEEN 5 AND 480', name=op.f('ck_doctors_slot_minutes_range')),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_doctors_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_doctors_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_doctors')),
    sa.UniqueConstraint('license_number', name=op.f('uq_doctors_license_number')),
    sa.UniqueConstraint('user_id', name=op.f('uq_doctors_user_id'))
    )
    with op.batch_alter_table('doctors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_doctors_clinic_id'), ['clinic_id'], unique=False)

    op.create_table('patients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.Column('blood_group', sa.String(length=3), nullable=True),
    sa.Column('allergies', sa.Text(), nullable=False),
    sa.Column('emergency_contact', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("blood_group IS NULL OR blood_group IN ('A+', 'A-', 'B+', 'B-', 'AB+', 'AB-', 'O+', 'O-')", name=op.f('ck_patients_blood_group_known')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_patients_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patients')),
    sa.UniqueConstraint('user_id', name=op.f('uq_patients_user_id'))
    )
    op.create_table('appointments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('doctor_id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seat', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by_id', sa.Integer(), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('confirmed', 'cancelled', 'completed', 'no_show')", name=op.f('ck_appointments_status_known')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_appointments_ends_after_start')),
    sa.CheckConstraint('seat >= 1', name=op.f('ck_appointments_seat_positive')),
    sa.ForeignKeyConstraint(['cancelled_by_id'], ['users.id'], name=op.f('fk_appointments_cancelled_by_id_users')),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_appointments_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['doctor_id'], ['doctors.id'], name=op.f('fk_appointments_doctor_id_doctors')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_appointments_patient_id_patients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointments'))
    )
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.create_index('ix_appointments_clinic_starts', ['clinic_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_appointments_doctor_starts', ['doctor_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_appointments_patient_starts', ['patient_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_appointments_starts', ['starts_at'], unique=False)
        batch_op.create_index('uq_appointments_active_seat', ['doctor_id', 'starts_at', 'seat'], unique=True, sqlite_where=sa.text(ACTIVE), postgresql_where=sa.text(ACTIVE))

    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE appointments ADD CONSTRAINT ex_appointments_doctor_overlap "
            "EXCLUDE USING gist (doctor_id WITH =, tstzrange(starts_at, ends_at) WITH &&, "
            f"starts_at WITH <>) WHERE ({ACTIVE})"
        )

    op.create_table('care_assignments',
    sa.Column('doctor_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['doctor_id'], ['doctors.id'], name=op.f('fk_care_assignments_doctor_id_doctors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_care_assignments_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('doctor_id', 'patient_id', name=op.f('pk_care_assignments'))
    )
    with op.batch_alter_table('care_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_assignments_patient_id'), ['patient_id'], unique=False)

    op.create_table('doctor_departments',
    sa.Column('doctor_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_doctor_departments_department_id_departments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['doctor_id'], ['doctors.id'], name=op.f('fk_doctor_departments_doctor_id_doctors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('doctor_id', 'department_id', name=op.f('pk_doctor_departments'))
    )
    with op.batch_alter_table('doctor_departments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_doctor_departments_department_id'), ['department_id'], unique=False)

    op.create_table('time_off_periods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('doctor_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_time_off_periods_ends_after_start')),
    sa.ForeignKeyConstraint(['doctor_id'], ['doctors.id'], name=op.f('fk_time_off_periods_doctor_id_doctors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_time_off_periods'))
    )
    with op.batch_alter_table('time_off_periods', schema=None) as batch_op:
        batch_op.create_index('ix_time_off_periods_doctor_starts', ['doctor_id', 'starts_at'], unique=False)

    op.create_table('weekly_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('doctor_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('end_time', sa.Time(), nullable=False),
    sa.CheckConstraint('end_time > start_time', name=op.f('ck_weekly_hours_end_after_start')),
    sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_weekly_hours_weekday_range')),
    sa.ForeignKeyConstraint(['doctor_id'], ['doctors.id'], name=op.f('fk_weekly_hours_doctor_id_doctors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_weekly_hours'))
    )
    with op.batch_alter_table('weekly_hours', schema=None) as batch_op:
        batch_op.create_index('ix_weekly_hours_doctor_weekday', ['doctor_id', 'weekday'], unique=False)



def downgrade():
    with op.batch_alter_table('weekly_hours', schema=None) as batch_op:
        batch_op.drop_index('ix_weekly_hours_doctor_weekday')

    op.drop_table('weekly_hours')
    with op.batch_alter_table('time_off_periods', schema=None) as batch_op:
        batch_op.drop_index('ix_time_off_periods_doctor_starts')

    op.drop_table('time_off_periods')
    with op.batch_alter_table('doctor_departments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_doctor_departments_department_id'))

    op.drop_table('doctor_departments')
    with op.batch_alter_table('care_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_assignments_patient_id'))

    op.drop_table('care_assignments')
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_index('uq_appointments_active_seat', sqlite_where=sa.text(ACTIVE), postgresql_where=sa.text(ACTIVE))
        batch_op.drop_index('ix_appointments_starts')
        batch_op.drop_index('ix_appointments_patient_starts')
        batch_op.drop_index('ix_appointments_doctor_starts')
        batch_op.drop_index('ix_appointments_clinic_starts')

    op.drop_table('appointments')
    op.drop_table('patients')
    with op.batch_alter_table('doctors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_doctors_clinic_id'))

    op.drop_table('doctors')
    op.drop_table('booking_settings')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_entity')
        batch_op.drop_index('ix_audit_events_created')
        batch_op.drop_index(batch_op.f('ix_audit_events_actor_id'))

    op.drop_table('audit_events')
    op.drop_table('users')
    op.drop_table('departments')
    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clinics_city'))

    op.drop_table('clinics')
