"""Languages: the switcher, remembering a choice, and a complete French catalog."""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po
from sqlalchemy import select

from portal.auth.models import User

ROOT = Path(__file__).resolve().parent.parent


def test_the_browser_language_is_used_by_default(client):
    page = client.get("/login", headers={"Accept-Language": "fr-FR,fr;q=0.9"}).text
    assert '<html lang="fr">' in page
    assert "Se connecter" in page


def test_the_language_switch_turns_the_page_french(client):
    response = client.post("/language", data={"lang": "fr", "next": "/login"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    page = client.get("/login").text
    assert '<html lang="fr">' in page
    assert "Mot de passe" in page


def test_an_unknown_language_changes_nothing(client):
    client.post("/language", data={"lang": "xx", "next": "/login"})
    assert '<html lang="en">' in client.get("/login").text


def test_the_switch_never_redirects_off_the_site(client):
    response = client.post("/language", data={"lang": "fr", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"


def test_a_signed_in_users_choice_is_remembered(app, auth, client, db, patient):
    auth.login(patient.user)
    client.post("/language", data={"lang": "fr", "next": "/patient"})
    db.session.expire_all()
    assert db.session.scalar(select(User.locale).where(User.id == patient.user.id)) == "fr"
    other_device = app.test_client()
    other_device.post(
        "/login", data={"email": patient.user.email, "password": "correct-horse-battery"}
    )
    page = other_device.get("/patient", headers={"Accept-Language": "en"}).text
    assert "Rendez-vous à venir" in page


def test_the_french_catalog_covers_every_string_in_the_code(tmp_path):
    template = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(template),
            "--no-location",
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with template.open("rb") as handle:
        wanted = {message.id for message in read_po(handle) if message.id}
    with (ROOT / "translations/fr/LC_MESSAGES/messages.po").open("rb") as handle:
        catalog = read_po(handle)
    missing = sorted(str(msgid) for msgid in wanted if not _translated(catalog, msgid))
    assert missing == []


def _translated(catalog, msgid):
    message = catalog.get(msgid)
    if message is None or message.fuzzy:
        return False
    if isinstance(message.string, tuple):
        return all(message.string)
    return bool(message.string)
