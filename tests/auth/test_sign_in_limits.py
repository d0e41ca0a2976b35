"""Failed sign-ins are counted per account across both doors (the sign-in form and the
API token endpoint), tightly per account and address, loosely per account from
everywhere; and a guesser cannot lock the owner out of a device they signed in on."""

from tests.conftest import PASSWORD

WRONG = "wrong-password-1"


def _form(client, email, password=WRONG, address="203.0.113.7"):
    return client.post(
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def _token(client, email, password=WRONG, address="203.0.113.7"):
    return client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_the_form_and_the_token_endpoint_count_together(client, patient):
    email = patient.user.email
    for _attempt in range(3):
        assert _form(client, email).status_code == 422
    for _attempt in range(2):
        assert _token(client, email).status_code == 401
    # Five failures in all: both doors now refuse, even the right password.
    assert _form(client, email, PASSWORD).status_code == 429
    assert _token(client, email, PASSWORD).status_code == 429


def test_the_token_endpoint_counts_an_email_in_any_case(client, patient):
    for _attempt in range(5):
        assert _token(client, patient.user.email.upper()).status_code == 401
    assert _form(client, patient.user.email, PASSWORD).status_code == 429


def test_a_guesser_elsewhere_does_not_lock_the_owner_out_of_their_device(app, client, patient):
    email = patient.user.email
    # The owner signed in on this browser before: it is a known device for the account.
    assert _form(client, email, PASSWORD, address="198.51.100.1").status_code == 303
    client.post("/logout", environ_base={"REMOTE_ADDR": "198.51.100.1"})
    # Someone guesses from many addresses, far beyond the per-account limit.
    limit = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])
    guesser = app.test_client()
    refused = 0
    for number in range(limit + 10):
        status = _form(guesser, email, address=f"192.0.2.{number % 250}").status_code
        refused += status == 429
    assert refused > 0  # the account as a whole is now closed to new devices ...
    assert _form(app.test_client(), email, PASSWORD, address="192.0.2.99").status_code == 429
    # ... but the owner's own browser still gets in.
    assert _form(client, email, PASSWORD, address="198.51.100.1").status_code == 303


def test_one_address_is_stopped_after_a_few_guesses_at_one_account(app, patient):
    email = patient.user.email
    guesser = app.test_client()
    for _attempt in range(5):
        assert _form(guesser, email, address="192.0.2.1").status_code == 422
    assert _form(guesser, email, address="192.0.2.1").status_code == 429
    # The owner, from another address on a new device, can still sign in.
    assert _form(app.test_client(), email, PASSWORD, address="198.51.100.1").status_code == 303


def test_a_known_device_cookie_only_helps_its_own_account(app, client, patient, make_patient):
    other = make_patient()
    assert _form(client, patient.user.email, PASSWORD).status_code == 303
    client.post("/logout")
    limit = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])
    for number in range(limit + 5):
        _form(app.test_client(), other.user.email, address=f"192.0.2.{number % 250}")
    # This browser knows the first account, not the other one.
    assert _form(client, other.user.email, PASSWORD).status_code == 429
