"""Admins add departments, edit them inline (English and French side by side) and
deactivate or reactivate them."""

from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.directory.models import Department


def departments(db):
    db.session.rollback()
    return {d.code: d for d in db.session.scalars(select(Department))}


def test_the_list_shows_inactive_departments_marked(as_admin, make_department):
    make_department(code="cardiology", name="Cardiology")
    make_department(code="old-dept", name="Old department", is_active=False)
    page = as_admin.get("/admin/departments")
    assert "Cardiology" in page.text
    old = page.text.split('id="department-')[2]
    assert "Old department" in old
    assert "Inactive" in old
    assert "Reactivate" in old


def test_an_admin_adds_a_department_with_its_french_name(as_admin, db):
    response = as_admin.post(
        "/admin/departments",
        data={
            "code": "Dermatology",
            "name": "Dermatology",
            "description": "Skin",
            "name_fr": "Dermatologie",
        },
    )
    assert response.status_code == 303
    department = departments(db)["dermatology"]
    assert department.translations == {"fr": {"name": "Dermatologie"}}
    assert "Department Dermatology added." in as_admin.get(response.headers["Location"]).text


def test_a_taken_code_is_refused_and_nothing_is_added(as_admin, db, make_department):
    make_department(code="cardiology", name="Cardiology")
    response = as_admin.post("/admin/departments", data={"code": "cardiology", "name": "Heart"})
    assert response.status_code == 422
    assert "Another department already uses this code." in response.text
    assert len(departments(db)) == 1


def test_edit_swaps_in_a_form_with_both_languages(htmx, as_admin, make_department):
    department = make_department(
        code="cardiology", name="Cardiology", translations={"fr": {"name": "Cardiologie"}}
    )
    response = htmx.get(f"/admin/departments/{department.id}/edit")
    assert response.status_code == 200
    assert "<html" not in response.text
    assert response.text.strip().startswith(f'<li id="department-{department.id}"')
    assert 'value="Cardiologie"' in response.text
    assert "English" in response.text
    assert "French" in response.text
    assert "HX-Request" in response.headers["Vary"]


def test_saving_returns_the_row(htmx, as_admin, db, make_department):
    department = make_department(code="cardiology", name="Cardiology")
    prefix = f"department{department.id}-"
    response = htmx.post(
        f"/admin/departments/{department.id}",
        data={
            prefix + "code": "cardiology",
            prefix + "name": "Heart",
            prefix + "name_fr": "Cœur",
            prefix + "description_fr": "Le cœur",
        },
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert f'<li id="department-{department.id}"' in response.text
    assert "<form" in response.text  # the row's deactivate button
    assert 'hx-swap-oob="innerHTML"' in response.text
    assert "Department Heart saved." in response.text
    saved = departments(db)["cardiology"]
    assert (saved.name, saved.translations) == (
        "Heart",
        {"fr": {"name": "Cœur", "description": "Le cœur"}},
    )
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "department.updated"))
    assert event.changes["name"] == ["Cardiology", "Heart"]


def test_a_bad_edit_returns_the_form_with_422(htmx, as_admin, db, make_department):
    department = make_department(code="cardiology", name="Cardiology")
    prefix = f"department{department.id}-"
    response = htmx.post(
        f"/admin/departments/{department.id}",
        data={prefix + "code": "Not a code!", prefix + "name": ""},
    )
    assert response.status_code == 422
    assert "<html" not in response.text
    assert "This field is required." in response.text
    assert "Use 2 to 40 lower-case letters, digits or hyphens." in response.text
    assert departments(db)["cardiology"].name == "Cardiology"


def test_cancel_returns_the_row(htmx, as_admin, make_department):
    department = make_department(name="Cardiology")
    response = htmx.get(f"/admin/departments/{department.id}")
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "Cardiology" in response.text


def test_without_javascript_the_edit_page_and_save_work(as_admin, db, make_department):
    department = make_department(code="cardiology", name="Cardiology")
    page = as_admin.get(f"/admin/departments/{department.id}/edit")
    assert "<html" in page.text
    prefix = f"department{department.id}-"
    response = as_admin.post(
        f"/admin/departments/{department.id}",
        data={prefix + "code": "cardiology", prefix + "name": "Heart"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/departments"


def test_deactivate_and_reactivate_return_the_row(htmx, as_admin, db, make_department):
    department = make_department(code="cardiology", name="Cardiology")
    response = htmx.post(f"/admin/departments/{department.id}/deactivate")
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "Inactive" in response.text
    assert "Reactivate" in response.text
    assert departments(db)["cardiology"].is_active is False
    response = htmx.post(f"/admin/departments/{department.id}/reactivate")
    assert "Inactive" not in response.text
    assert departments(db)["cardiology"].is_active is True
