"""The Spanish translation in Chromium: a signer on a phone from a code link to the receipt
and the audit page, and staff pages on a desktop, all with a browser that asks for Spanish.
No English word may show (the petition's own text is written in Spanish here), and the
numbers the signing script writes follow the Spanish plural. Screenshots go to
$COUNTERSIGN_SHOTS_DIR when it is set, for a person to look at."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from organizing.models import Role
from petition.codes import code_batch_create
from petition.services import petition_publish
from tests.browser.axe import assert_accessible
from tests.browser.conftest import sign_in
from tests.factories import MembershipFactory, PetitionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Words that appear in the English messages and never in Spanish ones: one of them on a
# page means a message is missing from the catalogue, or is not marked for translation.
ENGLISH = re.compile(
    r"\b(the|your|you|and|with|this|of|to|is|sign|signature|signatures|petition|code|codes|"
    r"receipt|withdraw|verified|goal|batch|batches|key|keys|log|more|not|yet)\b",
    re.IGNORECASE,
)
# Names that are the same in every language.
NAMES = re.compile(
    r"Countersign|English|K7Q2M-9XW4H|RFC \d+|JSON|PDF|CSV|UTC|\S*/\S*"  # and addresses
)

SPANISH_PETITION = {
    "title": "Dos descansos pagados de quince minutos en cada turno de noche del almacén",
    "summary": "Desde marzo el turno de noche perdió sus dos descansos pagados. Pedimos que "
    "vuelvan el mes que viene, para todos los equipos de noche.",
    "demands": "1. Devolver los dos descansos pagados.\n2. Pagar las horas perdidas.",
    "addressed_to": "La dirección del almacén",
    "goal": 500,
    "campaign__name": "Personal de noche del almacén",
    "campaign__employer_name": "Almacenes Ejemplo",
}


def _spanish(browser, width, height):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="es")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.problems = []
    page.on("pageerror", lambda exc: page.problems.append(str(exc)))
    return page


def _english_words(page) -> list[str]:
    text = NAMES.sub(" ", page.locator("body").inner_text())
    lines = [line for line in text.splitlines() if ENGLISH.search(line)]
    return lines


def _shot(page, name: str) -> None:
    folder = os.environ.get("COUNTERSIGN_SHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _check(page, name: str) -> None:
    assert page.locator("html").get_attribute("lang") == "es"
    english = _english_words(page)
    assert english == [], f"English on {name}: {english}"
    assert_accessible(page, name)
    _shot(page, name)


@pytest.fixture
def phone(browser):
    page = _spanish(browser, 390, 844)
    yield page
    page.context.close()


@pytest.fixture
def desk(browser):
    page = _spanish(browser, 1280, 900)
    yield page
    page.context.close()


def test_a_signer_signs_and_gets_a_receipt_in_spanish(live_server, phone):
    petition = petition_publish(petition=PetitionFactory(**SPANISH_PETITION))
    code = code_batch_create(petition=petition, level="in_person", size=10)[1][0]

    phone.goto(f"{live_server.url}/p/{petition.slug}/")
    expect(phone.get_by_role("link", name="Firma esta petición")).to_be_visible()
    _check(phone, "es-petition")

    phone.goto(f"{live_server.url}/p/{petition.slug}/#code={code}&level=in_person")
    expect(phone.get_by_role("button", name="Recibir mi credencial")).to_be_visible()
    phone.get_by_role("button", name="Recibir mi credencial").click()
    expect(phone.locator("#step-credential")).to_be_visible()
    expect(phone.locator("#step-credential")).to_contain_text("Tu credencial está lista")
    _check(phone, "es-credential")

    phone.locator("#sign-now").click()
    expect(phone.locator("#step-done")).to_be_visible()
    expect(phone.locator("#step-done")).to_contain_text("Gracias: tu firma cuenta")
    count = phone.locator("#count")
    expect(count.locator("[data-count-noun]")).to_have_text("firma verificada de una meta de 500")
    expect(count.locator("[data-remaining]")).to_have_text("Faltan 499 para llegar a la meta")
    _check(phone, "es-signed-receipt")

    phone.get_by_role("link", name="Comprobar que está en el registro público").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Comprueba el conteo tú mismo")
    # From the thank-you step the page checks the receipt this device kept at once.
    expect(phone.locator("#audit-result")).to_contain_text("Encontrada: tu firma está")
    expect(phone.locator("#audit-stored")).to_contain_text("Se rellenó con el comprobante")
    phone.locator("#audit-receipt").fill("A" * 43)
    phone.get_by_role("button", name="Comprobar en este dispositivo").click()
    expect(phone.locator("#audit-result")).to_contain_text("No está en el registro público")
    _check(phone, "es-audit")
    assert phone.problems == []


def test_a_wrong_code_is_refused_in_spanish(live_server, phone):
    petition = petition_publish(petition=PetitionFactory(**SPANISH_PETITION))
    phone.goto(f"{live_server.url}/p/{petition.slug}/#code=AAAAA-AAAAA&level=in_person")
    phone.get_by_role("button", name="Recibir mi credencial").click()
    expect(phone.locator("#sign-error")).to_have_text(
        "Este código no es válido. Revisa que esté bien escrito y que elegiste el tipo de "
        "código correcto."
    )
    _check(phone, "es-wrong-code")


def test_an_organizer_and_a_moderator_work_in_spanish(live_server, desk):
    membership = MembershipFactory(
        role=Role.ORGANIZER,
        campaign__name="Personal de noche del almacén",
        campaign__employer_name="Almacenes Ejemplo",
    )
    fields = {k: v for k, v in SPANISH_PETITION.items() if not k.startswith("campaign__")}
    petition = petition_publish(petition=PetitionFactory(campaign=membership.campaign, **fields))
    sign_in(desk, live_server, membership.user)

    desk.goto(f"{live_server.url}/staff/")
    expect(desk.get_by_role("heading", level=1)).to_have_text("Tus campañas")
    _check(desk, "es-staff-dashboard")

    desk.goto(f"{live_server.url}/staff/p/{petition.slug}/")
    expect(desk.get_by_role("link", name="Ver la página pública")).to_be_visible()
    _check(desk, "es-staff-petition")

    desk.goto(f"{live_server.url}/staff/c/{membership.campaign.slug}/moderation/")
    expect(desk.get_by_role("heading", name="Nombres y comentarios por revisar")).to_be_visible()
    _check(desk, "es-staff-moderation")

    desk.goto(f"{live_server.url}/staff/p/{petition.slug}/codes/")
    _check(desk, "es-staff-code-batches")

    desk.goto(f"{live_server.url}/staff/p/{petition.slug}/flyers/")
    _check(desk, "es-staff-flyers")
    assert desk.problems == []


def test_the_allauth_pages_staff_meet_speak_our_spanish(live_server, desk, phone):
    """allauth's own Spanish says "usted" and "clave" for a passkey; locale/allauth/ makes
    these pages say "tú" and "llave de acceso" like the rest of the site."""
    phone.goto(f"{live_server.url}/accounts/login/")
    expect(phone.get_by_role("link", name="¿Olvidaste tu contraseña?")).to_be_visible()
    _check(phone, "es-login")
    phone.get_by_role("link", name="¿Olvidaste tu contraseña?").click()
    expect(phone.get_by_role("button", name="Restablecer mi contraseña")).to_be_visible()
    _check(phone, "es-password-reset")

    membership = MembershipFactory(role=Role.MODERATOR)
    sign_in(desk, live_server, membership.user)
    desk.goto(f"{live_server.url}/accounts/2fa/")
    expect(desk.get_by_role("heading", name="Llaves de seguridad")).to_be_visible()
    _check(desk, "es-security")
