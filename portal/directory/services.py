"""Reading the directory: who practises where, and in which department."""

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from portal.auth.models import User
from portal.directory.models import Clinic, Department, Doctor, doctor_departments
from portal.extensions import db
from portal.pagination import paginate


def list_departments(*, include_inactive=False):
    """Departments, ordered by code."""
    statement = select(Department).order_by(Department.code)
    if not include_inactive:
        statement = statement.where(Department.is_active.is_(True))
    return db.session.scalars(statement).all()


def search_doctors(*, department_id=None, clinic_id=None, city=None, q=None, page=1, per_page=20):
    """Active doctors matching the filters, a page at a time, ordered by name."""
    statement = (
        select(Doctor)
        .join(Doctor.user)
        .join(Doctor.clinic)
        .where(Doctor.is_active.is_(True), User.is_active.is_(True), Clinic.is_active.is_(True))
        .options(joinedload(Doctor.user), joinedload(Doctor.clinic))
        .order_by(User.full_name, Doctor.id)
    )
    if department_id:
        statement = statement.where(
            Doctor.id.in_(
                select(doctor_departments.c.doctor_id).where(
                    doctor_departments.c.department_id == department_id
                )
            )
        )
    if clinic_id:
        statement = statement.where(Doctor.clinic_id == clinic_id)
    if city:
        statement = statement.where(Clinic.city.ilike(city.strip()))
    if q:
        pattern = "%" + q.strip().replace("\\", "").replace("%", "").replace("_", "") + "%"
        statement = statement.where(or_(User.full_name.ilike(pattern), Doctor.title.ilike(pattern)))
    return paginate(statement, page=page, per_page=per_page)
