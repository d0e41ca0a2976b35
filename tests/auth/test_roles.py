"""Each role sees its own pages and navigation; everything else is refused."""

import pytest

from portal.admin.services import dashboard_counts
from portal.auth.models import Role
from portal.db import utcnow
from portal.errors import NotAllowed

PAGES = {"/admin/": Role.ADMIN, "/doctor": Role.DOCTOR, "/patient": Role.PATIENT}


@pytest.fixture
def signed_in(auth, make_user, make_doctor, make_patient):
    def sign_in(role):
        user = make_user(role)
        if role == Role.DOCTOR:
            make_doctor(user=user)
        elif role == Role.PATIENT:
            make_patient(user=user)
        assert auth.login(user).status_code == 303
        return user

    return sign_in


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("path", list(PAGES))
def test_role_home_pages_are_only_for_their_role(client, signed_in, role, path):
    signed_in(role)
    response = client.get(path)
    if PAGES[path] == role:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert "Not allowed" in response.text
        assert "<main" in response.text


@pytest.mark.parametrize("path", list(PAGES))
def test_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        (Role.ADMIN, "Dashboard", ["My schedule", "My appointments"]),
        (Role.DOCTOR, "My schedule", ["Dashboard", "My appointments"]),
        (Role.PATIENT, "My appointments", ["Dashboard", "My schedule"]),
    ],
)
def test_navigation_shows_only_what_the_role_may_use(client, signed_in, role, shown, hidden):
    signed_in(role)
    page = client.get("/account/password").text
    nav = page[page.index("<nav") : page.index("</nav>")]
    assert shown in nav
    for label in hidden:
        assert label not in nav


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.PATIENT])
def test_the_dashboard_service_refuses_other_roles(db, make_user, role):
    with pytest.raises(NotAllowed):
        dashboard_counts(actor=make_user(role), now=utcnow())


def test_unknown_pages_answer_a_friendly_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.text


TWO_FACTOR_PAGES = [
    ("get", "/account/two-factor"),
    ("post", "/account/two-factor/set-up"),
    ("post", "/account/two-factor/confirm"),
    ("post", "/account/two-factor/recovery-codes"),
    ("post", "/account/two-factor/disable"),
]


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(("method", "path"), TWO_FACTOR_PAGES)
def test_two_factor_pages_are_for_staff_only(client, signed_in, role, method, path):
    signed_in(role)
    response = getattr(client, method)(path, data={})
    if role == Role.PATIENT:
        assert response.status_code == 404
    else:
        # Staff reach the page; an empty form is refused inline, never with a 5xx.
        assert response.status_code in {200, 303, 422}, (method, path, response.status_code)


@pytest.mark.parametrize(("method", "path"), TWO_FACTOR_PAGES)
def test_visitors_are_sent_to_sign_in_from_two_factor_pages(client, method, path):
    response = getattr(client, method)(path, data={})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
