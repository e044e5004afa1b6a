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


def test_keyboard_only_entry_with_a_fix(server, browser, tmp_path):
    path = tmp_path / "pret.json"
    path.write_text(json.dumps(FORM, ensure_ascii=False))
    slug = last_line(
        server.cli("schema", "import", str(path), "--slug", "pret-clavier")
    )

    page = browser.new_page(locale="fr-FR", java_script_enabled=False)
    page.goto(server.url(f"/formulaires/{slug}/"))
    assert "/connexion" in page.url
    tab_to(page, "#email")
    page.keyboard.type("agent@paris.fr")
    page.keyboard.press("Tab")
    page.keyboard.type("mot-de-passe-agent")
    with page.expect_navigation():
        page.keyboard.press("Enter")
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
    tab_to(page, "main button.principal[value=envoyer]")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert page.title().startswith("Erreur")
    summary = page.locator("#resume-erreurs")
    assert "Tables" in summary.inner_text()
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
    tab_to(page, "main button.principal[value=envoyer]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
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
    page.check("input[name=animal][value=Cat]")
    assert not water.is_visible()
    assert page.locator("input[name=food]").first.is_visible()
    page.close()
