"""Every page of every role, at phone and desktop widths, in English and French: nothing
scrolls sideways at 390 px and axe-core finds no WCAG A/AA violation."""

import pytest

from tests.e2e.journey import (
    DESKTOP,
    PHONE,
    axe_violations,
    build_world,
    new_page,
    page_width,
    sign_in,
)

pytestmark = pytest.mark.e2e


def pages_of(role, world):
    w = world
    visitor = [
        "/",
        "/find",
        f"/find?q={w.tag}",
        f"/doctors/{w.doctor_id}",
        f"/departments/{w.department_id}",
        f"/clinics/{w.clinic_id}",
        "/login",
        "/register",
    ]
    return {
        "visitor": visitor,
        "patient": [
            "/patient",
            "/find",
            f"/doctors/{w.doctor_id}",
            "/appointments",
            "/appointments?past=1",
            f"/appointments/{w.appointment_id}",
            f"/appointments/{w.appointment_id}/reschedule",
            "/profile",
            "/account/password",
        ],
        "doctor": [
            "/doctor",
            "/doctor/schedule",
            "/doctor/schedule?view=week",
            "/doctor/hours",
            "/doctor/time-off",
            "/my-patients",
            f"/my-patients/{w.patient_id}",
            "/account/password",
        ],
        "admin": [
            "/admin/",
            "/admin/doctors",
            "/admin/doctors/new",
            f"/admin/doctors/{w.doctor_id}/edit",
            "/admin/patients",
            "/admin/patients/new",
            f"/admin/patients/{w.patient_id}",
            "/admin/departments",
            f"/admin/departments/{w.department_id}",
            f"/admin/departments/{w.department_id}/edit",
            "/admin/clinics",
            "/admin/clinics/new",
            f"/admin/clinics/{w.clinic_id}/edit",
            "/admin/appointments",
            "/admin/settings",
            "/admin/audit",
        ],
    }[role]


@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"])
@pytest.mark.parametrize("role", ["visitor", "patient", "doctor", "admin"])
def test_every_page_fits_a_phone_and_passes_axe(browser, live_server, role, locale):
    world = build_world(live_server.app)
    page = new_page(browser, live_server, width=PHONE, locale=locale)
    if role != "visitor":
        sign_in(page, getattr(world, role))
    problems = []
    headers = {}
    for path in pages_of(role, world):
        page.set_viewport_size({"width": PHONE, "height": 844})
        response = page.goto(path)
        assert response.status == 200, path
        width = page_width(page)
        if width > PHONE:
            problems.append(f"{path}: {width} px wide at {PHONE} px")
        for found in axe_violations(page):
            problems.append(f"{path} at {PHONE} px: {found}")
        # The menu, opened, fits too.
        page.locator("details.site-menu > summary").click()
        page.wait_for_selector("details.site-menu[open]")
        if page_width(page) > PHONE:
            problems.append(f"{path}: {page_width(page)} px wide at {PHONE} px, menu open")
        page.set_viewport_size({"width": DESKTOP, "height": 900})
        page.wait_for_selector("details.site-menu.pinned[open]")
        # One header layout on every page: the same rows at the same heights.
        headers[path] = page.evaluate(
            """() => [...document.querySelectorAll('.site-header nav')]
                .map(nav => [nav.getAttribute('aria-label'),
                             Math.round(nav.getBoundingClientRect().top),
                             Math.round(nav.getBoundingClientRect().height)])"""
        )
        for found in axe_violations(page):
            problems.append(f"{path} at {DESKTOP} px: {found}")
    page.context.close()
    assert not problems, "\n".join(problems)
    layouts = {str(layout) for layout in headers.values()}
    assert len(layouts) == 1, headers
