"""What a person sees: a real headless Chromium, driven with the keyboard only.

Needs Debian's chromium (/usr/bin/chromium). Without it these tests skip and
say so; `.ci/run` installs it and sets DNT_REQUIRE_BROWSER=1, which turns the
skip into a failure.
"""

import json
import os
import shutil

import pytest
import requests
from conftest import last_line

CHROMIUM = (
    os.environ.get("DNT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
)

FORM = {
    "title": "Prêt de matériel",
    "description": "Matériel que la commune prête aux associations.",
    "type": "object",
    "required": ["association", "tables", "livraison"],
    "properties": {
        "association": {
            "type": "string",
            "title": "Association",
            "x-purpose": "Savoir à qui le matériel est confié.",
        },
        "tables": {
            "type": "integer",
            "minimum": 1,
            "maximum": 50,
            "title": "Tables",
            "x-purpose": "Préparer le camion des services techniques.",
        },
        "montant": {
            "type": "number",
            "title": "Caution (euros)",
            "x-purpose": "Suivi comptable de la caution.",
        },
        "livraison": {
            "type": "boolean",
            "title": "Livraison",
            "x-purpose": "Prévoir un agent pour la livraison.",
        },
        "materiel": {
            "type": "array",
            "title": "Autre matériel",
            "items": {"type": "string", "enum": ["chaises", "barnum", "sono"]},
            "x-purpose": "Compléter la liste de chargement.",
        },
    },
}


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("DNT_REQUIRE_BROWSER"):
            pytest.fail(
                f"DNT_REQUIRE_BROWSER is set but Chromium is missing: {CHROMIUM}"
            )
        pytest.skip(
            "Debian's chromium is not installed (apt-get install chromium): "
            "the browser tests need a real browser"
        )
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield instance
        instance.close()


def tab_to(page, selector: str, limit: int = 60) -> None:
    """Press Tab until the element is focused: proves it is keyboard-reachable."""
    target = page.locator(selector)
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


def _send_with_keyboard(page) -> None:
    """Tab to the form's main button and press Enter: the page is sent."""
    tab_to(page, "main button.principal[value=envoyer]")
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _sign_in_with_keyboard(page, url: str) -> None:
    """Open a page, get sent to sign in, and sign in with the keyboard only."""
    page.goto(url)
    assert "/connexion" in page.url
    tab_to(page, "#email")
    page.keyboard.type("agent@paris.fr")
    page.keyboard.press("Tab")
    page.keyboard.type("mot-de-passe-agent")
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_keyboard_only_entry_with_a_fix(server, browser, tmp_path):
    path = tmp_path / "pret.json"
    path.write_text(json.dumps(FORM, ensure_ascii=False))
    slug = last_line(
        server.cli("schema", "import", str(path), "--slug", "pret-clavier")
    )

    page = browser.new_page(locale="fr-FR", java_script_enabled=False)
    _sign_in_with_keyboard(page, server.url(f"/formulaires/{slug}/"))
    assert page.url.endswith(f"/formulaires/{slug}/")
    assert page.locator("html").get_attribute("lang") == "fr"

    tab_to(page, "#champ-0")
    page.keyboard.type("Les Amis du Parc")
    tab_to(page, "#champ-1")
    page.keyboard.type("80")  # over the maximum: the server must say so
    tab_to(page, "#champ-2")
    page.keyboard.type("150,5")
    tab_to(page, "#champ-3")  # the required Oui/Non: Space picks "Oui"
    page.keyboard.press("Space")
    tab_to(page, "#champ-4-2")  # the second checkbox, "barnum"
    page.keyboard.press("Space")
    _send_with_keyboard(page)

    assert page.title().startswith("Erreur")
    summary = page.locator("#resume-erreurs")
    assert "Tables" in summary.inner_text()
    # A screen reader starts on the summary, not at the top of the page.
    assert page.evaluate("document.activeElement.id") == "resume-erreurs"
    # What was typed is still there.
    assert page.input_value("#champ-0") == "Les Amis du Parc"
    assert page.input_value("#champ-2") == "150,5"
    assert page.is_checked("#champ-4-2")

    # The summary link leads to the faulty field.
    tab_to(page, "#resume-erreurs a[href='#champ-1']")
    page.keyboard.press("Enter")
    assert page.url.endswith("#champ-1")
    tab_to(page, "#champ-1")
    page.keyboard.press("Control+A")
    page.keyboard.type("12")
    _send_with_keyboard(page)
    assert not page.title().startswith("Erreur"), page.content()[:2000]

    rows = requests.get(server.url(f"/data/public/{slug}.json?_shape=array")).json()
    assert len(rows) == 1
    row = rows[0]
    assert row["association"] == "Les Amis du Parc"
    assert row["tables"] == 12
    assert row["montant"] == 150.5
    assert row["livraison"] == 1
    assert json.loads(row["materiel"]) == ["barnum"]
    page.close()


def test_conditional_fields_show_and_hide_with_the_answer(server, browser):
    from conftest import corpus_path

    schema = corpus_path() / "jsonschema" / "rjsf-if-then-else.schema.json"
    if not schema.exists():
        pytest.skip(f"corpus absent ({schema.parent}): set DNT_CORPUS")
    slug = last_line(
        server.cli("schema", "import", str(schema), "--slug", "animaux-js")
    )

    page = browser.new_page(locale="fr-FR")
    page.goto(server.url("/connexion"))
    page.fill("#email", "agent@paris.fr")
    page.fill("#password", "mot-de-passe-agent")
    with page.expect_navigation():
        page.press("#password", "Enter")
    page.goto(server.url(f"/formulaires/{slug}/"))

    water = page.locator("input[name=water]").first
    assert not water.is_visible()  # no animal chosen yet
    page.check("input[name=animal][value=Fish]")
    assert water.is_visible()
    # Each branch offers its own foods: a fish's, then a cat's.
    worms = page.locator("input[name=food][value=worms]")
    meat = page.locator("input[name=food][value=meat]")
    assert worms.is_visible() and not meat.is_visible()
    page.check("input[name=food][value=worms]")
    page.check("input[name=animal][value=Cat]")
    assert not water.is_visible()
    assert meat.is_visible() and not worms.is_visible()
    # The fish's food, no longer offered, is no longer chosen either.
    assert not worms.is_checked()
    page.close()


NESTED = {
    "title": "Chantier",
    "description": "Travaux sur la voie publique.",
    "type": "object",
    "required": ["objet", "nature", "adresse"],
    "properties": {
        "objet": {"type": "string", "title": "Objet", "x-purpose": "Informer."},
        "nature": {
            "type": "string",
            "title": "Nature",
            "x-purpose": "Orienter vers le bon service.",
            "oneOf": [
                {"const": "voirie", "title": "Voirie"},
                {"const": "autre", "title": "Autre"},
            ],
        },
        "adresse": {
            "type": "object",
            "title": "Adresse du chantier",
            "x-purpose": "Prévenir les riverains.",
            "required": ["voie", "code_postal"],
            "properties": {
                "voie": {"type": "string", "title": "Voie", "x-purpose": "Localiser."},
                "code_postal": {
                    "type": "string",
                    "pattern": "^[0-9]{5}$",
                    "title": "Code postal",
                    "x-purpose": "Localiser.",
                    "examples": ["75004"],
                },
            },
        },
        "intervenants": {
            "type": "array",
            "title": "Intervenants",
            "x-purpose": "Savoir qui appeler.",
            "items": {
                "type": "object",
                "required": ["nom"],
                "properties": {
                    "nom": {"type": "string", "title": "Nom", "x-purpose": "Appeler."},
                    "role": {"type": "string", "title": "Rôle", "x-purpose": "Trier."},
                },
            },
        },
    },
    "if": {"properties": {"nature": {"const": "autre"}}},
    "then": {
        "properties": {
            "precision": {
                "type": "string",
                "title": "Précision",
                "x-purpose": "Comprendre la demande.",
            }
        },
        "required": ["precision"],
    },
}


def test_keyboard_only_with_group_list_and_condition(server, browser, tmp_path):
    path = tmp_path / "chantier.json"
    path.write_text(json.dumps(NESTED, ensure_ascii=False))
    slug = last_line(server.cli("schema", "import", str(path), "--slug", "chantier"))

    page = browser.new_page(locale="fr-FR")
    _sign_in_with_keyboard(page, server.url(f"/formulaires/{slug}/"))
    assert page.url.endswith(f"/formulaires/{slug}/")

    precision = page.locator("input[name=precision]")
    assert not precision.is_visible()  # its condition does not hold yet
    tab_to(page, "input[name=objet]")
    page.keyboard.type("Réfection du trottoir")
    tab_to(page, "input[name=nature][value=voirie]")
    page.keyboard.press("ArrowDown")  # moves to, and picks, "Autre"
    assert page.is_checked("input[name=nature][value=autre]")
    assert precision.is_visible()
    tab_to(page, "input[name=precision]")
    page.keyboard.type("Pose d'un potelet")
    tab_to(page, "input[name='adresse.voie']")
    page.keyboard.type("Rue de Rivoli")
    tab_to(page, "input[name='adresse.code_postal']")
    page.keyboard.type("7500")  # one digit short: the server must say so
    tab_to(page, "input[name='intervenants.0.nom']")
    page.keyboard.type("Entreprise Durand")
    # A second row, asked for with the keyboard (the server adds it).
    tab_to(page, "button[name=_ajouter_ligne]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.input_value("input[name='intervenants.0.nom']") == "Entreprise Durand"
    assert page.input_value("input[name='adresse.code_postal']") == "7500"
    # The focus is on the new row, not back at the top of the page.
    assert page.evaluate(
        "document.activeElement.querySelector(\"input[name='intervenants.1.nom']\")"
        " !== null"
    )
    tab_to(page, "input[name='intervenants.1.nom']", limit=3)
    page.keyboard.type("Services techniques")
    page.keyboard.press("Tab")
    page.keyboard.type("Contrôle")
    _send_with_keyboard(page)

    assert page.title().startswith("Erreur")
    summary = page.locator("#resume-erreurs")
    assert "Code postal" in summary.inner_text()
    assert page.input_value("input[name='intervenants.1.role']") == "Contrôle"
    assert page.input_value("input[name=precision]") == "Pose d'un potelet"
    link = summary.locator("a").first
    target = link.get_attribute("href")
    tab_to(page, f"#resume-erreurs a[href='{target}']")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.name") == "adresse.code_postal" or (
        page.url.endswith(target)
    )
    tab_to(page, "input[name='adresse.code_postal']")
    page.keyboard.press("Control+A")
    page.keyboard.type("75001")
    _send_with_keyboard(page)
    assert not page.title().startswith("Erreur"), page.content()[:2000]
    page.close()

    base = server.url(f"/data/public/{slug}")
    (row,) = requests.get(f"{base}.json?_shape=array").json()
    assert row["objet"] == "Réfection du trottoir"
    assert row["nature"] == "autre"
    assert row["precision"] == "Pose d'un potelet"
    assert row["adresse__voie"] == "Rue de Rivoli"
    assert row["adresse__code_postal"] == "75001"
    people = requests.get(
        server.url(f"/data/public/{slug}__intervenants.json?_shape=array")
    ).json()
    assert [(p["_position"], p["nom"], p["role"]) for p in people] == [
        (0, "Entreprise Durand", None),
        (1, "Services techniques", "Contrôle"),
    ]
    assert all(p["_entry_id"] == row["_id"] for p in people)


def test_variant_fields_show_once_the_variant_is_picked(server, browser, tmp_path):
    from test_variants import FORM as VARIANTS

    path = tmp_path / "subvention.json"
    path.write_text(json.dumps(VARIANTS, ensure_ascii=False))
    slug = last_line(server.cli("schema", "import", str(path), "--slug", "subv-js"))
    page = browser.new_page(locale="fr-FR")
    _sign_in_with_keyboard(page, server.url(f"/formulaires/{slug}/"))

    email = page.locator("input[name='contact.courriel']")
    street = page.locator("input[name='contact.adresse']")
    siret = page.locator("input[name='demandeur.siret']")
    assert not email.is_visible() and not street.is_visible()
    assert not siret.is_visible()
    page.check("input[name='contact._variante'][value='1']")
    assert street.is_visible() and not email.is_visible()
    page.check("input[name='demandeur.nature'][value='morale']")
    assert siret.is_visible()
    assert not page.locator("input[name='demandeur.nom']").is_visible()
    page.close()


def test_schema_editor_preview_follows_typing(server, browser):
    """The schema editor's preview refreshes as the administrator types."""
    page = browser.new_page(locale="fr-FR")
    page.goto(server.url("/connexion"))
    page.fill("#email", "admin@test.fr")
    page.fill("#password", "mot-de-passe-admin")
    with page.expect_navigation():
        page.press("#password", "Enter")
    page.goto(server.url("/admin/formulaires/nouveau"))
    schema = {
        "title": "Aperçu",
        "type": "object",
        "properties": {
            "lieu": {"type": "string", "title": "Lieu du marché", "x-purpose": "Plan."}
        },
    }
    page.fill("#schema", json.dumps(schema, ensure_ascii=False))
    page.locator("#schema").press("End")
    page.wait_for_selector("#apercu-vivant label:has-text('Lieu du marché')")
    assert "schéma valide" in page.inner_text("#apercu-etat")
    page.fill("#schema", '{"type": "object", "properties": {"a": {"type": "strin"}}}')
    page.locator("#schema").press("End")
    page.wait_for_selector("#apercu-vivant code:has-text('/properties/a/type')")
    assert "problème" in page.inner_text("#apercu-etat")
    page.close()
