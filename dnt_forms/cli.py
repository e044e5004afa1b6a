"""The `dnt-forms` command line (see INTERFACE.md)."""

from __future__ import annotations

import gettext
import logging
import os
import sys
from pathlib import Path

import click

from .config import base_url
from .errors import DntFormsError, InvalidSchemaError

logger = logging.getLogger(__name__)

DEFAULT_ADMIN_EMAIL = "admin@localhost"


def _app(create: bool = False, existing: bool = False):
    """The app on the instance, which is created if missing.

    Run from the wrong folder, a command would start a new empty instance
    there and then report the form or account as missing: one that only
    acts on what exists (`existing`) refuses, the others say so first.
    """
    from . import create_app
    from .config import instance_path

    folder = instance_path()
    missing = not (folder / "private.db").exists()
    if existing and missing:
        _fail(
            f"aucune instance dans {folder} : lancez la commande depuis le dossier "
            "du service, ou indiquez le dossier de l'instance avec DNT_FORMS_INSTANCE."
        )
    if not create and missing:
        click.echo(
            f"avertissement : aucune instance dans {folder}, une nouvelle y est "
            "créée (indiquez le dossier de l'instance avec DNT_FORMS_INSTANCE).",
            err=True,
        )
    return create_app()


class CommandError(click.ClickException):
    """A failed command, told in French on stderr."""

    def show(self, file=None) -> None:
        click.echo(f"Erreur : {self.format_message()}", err=True)


def _fail(message: str) -> None:
    raise CommandError(message)


def _path(**kwargs) -> click.Path:
    """click.Path named in French: click names it when this module is
    imported, before main() points gettext at the French catalogue."""
    kind = click.Path(**kwargs)
    if not kwargs.get("dir_okay", True):
        kind.name = "fichier"
    elif not kwargs.get("file_okay", True):
        kind.name = "dossier"
    else:
        kind.name = "chemin"
    return kind


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Journal détaillé.")
def cli(verbose: bool) -> None:
    """dnt-forms : formulaires partagés, saisis une fois, réutilisés partout."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@cli.command("init")
def init_command() -> None:
    """Crée l'instance (bases, configuration, clé secrète) si elle manque."""
    app = _app(create=True)
    click.echo(f"Instance prête : {app.instance_path}")


@cli.group("org")
def org_group() -> None:
    """Organisations (communes, intercommunalités, départements…)."""


@org_group.command("create")
@click.argument("code")
@click.argument("name")
def org_create_command(code: str, name: str) -> None:
    """Crée une organisation identifiée par son SIREN ou son code INSEE."""
    from .admin.actions import ORG_CODE_HELP
    from .auth import find_org, valid_org_code
    from .db import db
    from .models import Organisation

    code = code.strip().upper()
    if not valid_org_code(code):
        _fail(f"Code « {code} » invalide : {ORG_CODE_HELP}.")
    app = _app()
    with app.app_context():
        if find_org(code):
            _fail(f"L'organisation {code} existe déjà.")
        db.session.add(Organisation(code=code, name=name.strip()))
        db.session.commit()
    click.echo(f"Organisation {code} créée : {name}")


@cli.group("user")
def user_group() -> None:
    """Comptes des agents, gestionnaires et administrateurs."""


@user_group.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "manager", "agent"]), required=True)
@click.option("--org", "org_code", help="Code de l'organisation du compte.")
@click.option(
    "--forms", help="Formulaires gérés (gestionnaire), séparés par des virgules."
)
@click.option(
    "--password-stdin", is_flag=True, help="Lit le mot de passe sur l'entrée standard."
)
def user_create_command(email, role, org_code, forms, password_stdin) -> None:
    """Crée un compte ; sans mot de passe, affiche un lien à usage unique."""
    from .auth import (
        create_user,
        find_user,
        make_one_time_link,
        password_problem,
    )

    email = email.strip().lower()
    if "@" not in email:
        _fail(f"Adresse « {email} » invalide : il manque « @ ».")
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        problem = password_problem(password)
        if problem:
            _fail(problem)

    app = _app()
    with app.app_context():
        if find_user(email):
            _fail(f"Le compte {email} existe déjà.")
        org = _organisation(org_code) if org_code else None
        _check_forms_exist(_split(forms))
        user = create_user(email, role, org, password, _split(forms))
        click.echo(f"Compte {email} créé ({role}).")
        if org is None and role == "agent":
            click.echo(
                "Attention : ce compte n'a pas d'organisation ; ses entrées seront "
                "publiées sans producteur (_organisation vide)."
            )
        if password is None:
            token = make_one_time_link(user)
            click.echo("Lien à usage unique pour choisir le mot de passe :")
            click.echo(_link(app, token))


@user_group.command("link")
@click.argument("email")
def user_link_command(email) -> None:
    """Affiche un nouveau lien à usage unique pour (re)choisir le mot de passe."""
    from .auth import make_one_time_link

    app = _app(existing=True)
    with app.app_context():
        user = _account(email)
        token = make_one_time_link(user)
    click.echo(f"Lien à usage unique pour {email} :")
    click.echo(_link(app, token))


@user_group.command("disable")
@click.argument("email")
def user_disable_command(email) -> None:
    """Désactive un compte : ses sessions se ferment, ses jetons sont refusés."""
    from .admin.actions import set_active

    app = _app(existing=True)
    with app.app_context():
        user = _account(email)
        changed = set_active(user, False)
    if changed:
        click.echo(
            f"Compte {email} désactivé : ses sessions sont fermées et ses jetons "
            "d'API refusés."
        )
    else:
        click.echo(f"Le compte {email} était déjà désactivé.")


@user_group.command("enable")
@click.argument("email")
def user_enable_command(email) -> None:
    """Réactive un compte désactivé."""
    from .admin.actions import set_active

    app = _app(existing=True)
    with app.app_context():
        user = _account(email)
        changed = set_active(user, True)
    if changed:
        click.echo(f"Compte {email} réactivé.")
    else:
        click.echo(f"Le compte {email} était déjà actif.")


def _check_forms_exist(slugs: list[str]) -> None:
    from .db import db
    from .models import Form

    known = set(db.session.execute(db.select(Form.slug)).scalars())
    unknown = [s for s in slugs if s not in known]
    if unknown:
        _fail(f"Formulaire(s) inconnu(s) : {', '.join(unknown)}.")


def _account(email: str):
    """The account with that address (inside an app context), or a clean failure."""
    from .auth import find_user

    user = find_user(email)
    if user is None:
        _fail(f"Aucun compte {email}.")
    return user


def _organisation(code: str):
    """The organisation with that code (inside an app context), or a clean failure."""
    from .auth import find_org

    org = find_org(code.strip().upper())
    if org is None:
        _fail(
            f"Organisation {code} inconnue : créez-la avec "
            f"« dnt-forms org create {code} NOM »."
        )
    return org


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _link(app, token: str) -> str:
    return f"{base_url(app.config, app.instance_path)}/connexion/lien/{token}"


@cli.group("token")
def token_group() -> None:
    """Jetons de l'API JSON."""


@token_group.command("create")
@click.argument("email")
@click.option("--scope", type=click.Choice(["read", "write"]), default="write")
@click.option("--forms", help="Limite le jeton à ces formulaires (virgules).")
def token_create_command(email, scope, forms) -> None:
    """Crée un jeton d'API, affiché seul sur la dernière ligne."""
    from .auth import create_token

    app = _app(existing=True)
    with app.app_context():
        user = _account(email)
        _check_forms_exist(_split(forms))
        token = create_token(user, scope, _split(forms))
    click.echo(
        f"Jeton ({scope}) pour {email}, à garder secret : il ne sera plus affiché."
    )
    click.echo(token)


@token_group.command("revoke")
@click.argument("email")
def token_revoke_command(email) -> None:
    """Révoque tous les jetons d'un compte."""
    from .auth import revoke_tokens

    app = _app(existing=True)
    with app.app_context():
        user = _account(email)
        count = revoke_tokens(user)
    click.echo(f"{count} jeton(s) révoqué(s) pour {email}.")


@cli.group("schema")
def schema_group() -> None:
    """Schémas des formulaires : vérifier, importer, publier, clore, réserver."""


def _print_warnings(warnings) -> None:
    for warning in warnings:
        click.echo(f"avertissement : {warning}")


def _print_problems(exc: InvalidSchemaError) -> None:
    _print_warnings(exc.warnings)
    click.echo(f"Schéma refusé : {len(exc.problems)} problème(s).", err=True)
    for problem in exc.problems:
        click.echo(f"erreur : {problem}", err=True)


TO_COMPLETE_HELP = (
    "Si des entrées existantes ne respectent plus la nouvelle version, les "
    "passer « à compléter » au lieu de refuser la publication."
)


def _print_migration(exc, slug: str) -> None:
    """The entries a new version would break, each error, then a clean failure
    that says what became of the version and how to publish it anyway."""
    for failure in exc.plan.failures[:50]:
        for error in failure.errors:
            where = error.get("title") or error["path"] or "entrée"
            click.echo(
                f"  entrée {failure.entry_id} : {where} : {error['message']}", err=True
            )
    if len(exc.plan.failures) > 50:
        click.echo(f"  … et {len(exc.plan.failures) - 50} autres entrées", err=True)
    number = exc.plan.new.number
    _fail(
        f"{exc} La version {number} reste en brouillon ; "
        f"« dnt-forms schema publish {slug} --to-complete » la publie en passant "
        "ces entrées « à compléter »."
    )


def _print_changes(installed) -> None:
    """What the published version changed, and what became of the entries."""
    plan = installed.plan
    if plan is None or plan.old is None:
        return
    for change in plan.changes:
        click.echo(f"changement : {change}")
    if plan.failures:
        click.echo(f"{len(plan.failures)} entrée(s) passée(s) « à compléter ».")


@schema_group.command("check")
@click.argument("file", type=_path(dir_okay=False))
def schema_check_command(file) -> None:
    """Vérifie un schéma ; code 1 et la liste des problèmes s'il est refusé."""
    from .schemas import load_file

    try:
        loaded = load_file(file)
    except InvalidSchemaError as exc:
        _print_problems(exc)
        sys.exit(1)
    _print_warnings(loaded.warnings)
    kind = "Table Schema" if loaded.kind == "tableschema" else "JSON Schema"
    click.echo(f"Schéma valide ({kind}), {len(loaded.warnings)} avertissement(s).")


@schema_group.command("import")
@click.argument("file", type=_path(dir_okay=False))
@click.option("--slug", help="Identifiant du formulaire.")
@click.option("--draft", is_flag=True, help="Importe comme brouillon, sans publier.")
@click.option("--to-complete", is_flag=True, help=TO_COMPLETE_HELP)
def schema_import_command(file, slug, draft, to_complete) -> None:
    """Installe un JSON Schema ou un Table Schema comme nouvelle version."""
    from .migrate import MigrationRefused
    from .publish import sync_form
    from .schemas import load_file
    from .schemas.versions import install

    try:
        loaded = load_file(file)
        slug = loaded.slug(stem=Path(file).stem, explicit=slug)
        app = _app()
        with app.app_context():
            try:
                installed = install(
                    loaded, slug, draft=draft, origin=str(file), to_complete=to_complete
                )
            except MigrationRefused as exc:
                _print_migration(exc, slug)
            _print_changes(installed)
            sync_form(app.extensions["dnt_public"], installed.form)
    except InvalidSchemaError as exc:
        _print_problems(exc)
        sys.exit(1)
    _print_warnings(loaded.warnings)
    # An unchanged schema keeps its version, published or not.
    state = "publié" if installed.version.published else "brouillon"
    outcome = "installé" if installed.changed else "inchangé"
    click.echo(f"Formulaire {outcome}, version {installed.version.number} ({state}) :")
    click.echo(slug)


@schema_group.command("publish")
@click.argument("slug")
@click.option("--to-complete", is_flag=True, help=TO_COMPLETE_HELP)
def schema_publish_command(slug, to_complete) -> None:
    """Publie la dernière version brouillon d'un formulaire."""
    from .migrate import MigrationRefused
    from .publish import sync_form
    from .schemas.versions import get_form, publish_latest

    app = _app(existing=True)
    with app.app_context():
        try:
            form = get_form(slug)
            in_use = form.current_version
            version = publish_latest(slug, to_complete=to_complete)
            sync_form(app.extensions["dnt_public"], get_form(slug))
        except MigrationRefused as exc:
            _print_migration(exc, slug)
        except DntFormsError as exc:
            _fail(str(exc))
    if in_use == version.number:
        click.echo(f"{slug} : version {version.number} déjà en usage, rien à publier.")
    else:
        click.echo(f"{slug} : version {version.number} publiée.")


@schema_group.command("close")
@click.argument("slug")
def schema_close_command(slug) -> None:
    """Clôt un formulaire : plus de nouvelles entrées, données toujours publiées."""
    from .publish import sync_form
    from .schemas.versions import close

    app = _app(existing=True)
    with app.app_context():
        try:
            form = close(slug)
            sync_form(app.extensions["dnt_public"], form)
        except DntFormsError as exc:
            _fail(str(exc))
    click.echo(f"{slug} : clos aux nouvelles entrées.")


@schema_group.command("restrict")
@click.argument("slug")
@click.option(
    "--orgs",
    required=True,
    help="Codes des organisations, séparés par des virgules ; « » l'ouvre à toutes.",
)
def schema_restrict_command(slug, orgs) -> None:
    """Réserve un formulaire à des organisations (ou l'ouvre à toutes)."""
    from .admin.actions import restrict_form, split_codes, unknown_org_codes
    from .schemas.versions import get_form

    codes = [code.upper() for code in split_codes(orgs)]
    app = _app(existing=True)
    with app.app_context():
        try:
            form = get_form(slug)
        except DntFormsError as exc:
            _fail(str(exc))
        unknown = unknown_org_codes(codes)
        if unknown:
            _fail(
                f"Organisation(s) inconnue(s) : {', '.join(unknown)} ; créez-les avec "
                "« dnt-forms org create CODE NOM »."
            )
        restrict_form(form, codes)
    if codes:
        click.echo(f"{slug} : réservé à {', '.join(sorted(set(codes)))}.")
    else:
        click.echo(f"{slug} : ouvert à toutes les organisations.")


@cli.command("publish")
@click.option("--rebuild", is_flag=True, required=True, help="Reconstruit public.db.")
def publish_command(rebuild) -> None:
    """Reconstruit public.db depuis la base de référence."""
    from .publish import sync_all

    app = _app(existing=True)
    with app.app_context():
        count = sync_all(app.extensions["dnt_public"], rebuild=True)
    click.echo(f"public.db reconstruite : {count} formulaire(s).")


@cli.command("import")
@click.argument("slug")
@click.argument("file", type=_path(dir_okay=False, exists=True))
@click.option(
    "--user", "email", help="Compte (et donc organisation) auteur des entrées."
)
@click.option(
    "--org",
    "org_code",
    help="Organisation productrice des entrées (par défaut : celle du compte).",
)
@click.option(
    "--report",
    type=_path(dir_okay=False),
    help="Écrit le rapport d'erreurs (CSV) dans ce fichier si l'import est refusé.",
)
def import_command(slug, file, email, org_code, report) -> None:
    """Charge un fichier CSV ou XLSX dans un formulaire : tout ou rien."""
    from .entries import form_for_admin
    from .imports import ImportRefused, import_file
    from .tabular import UnreadableFile, open_table

    app = _app(existing=True)
    with app.app_context():
        user = _account(email) if email else None
        org = _organisation(org_code) if org_code else None
        opened = form_for_admin(slug)
        try:
            table = open_table(Path(file))
        except UnreadableFile as exc:
            _fail(f"{file} : {exc}.")
        try:
            if sys.stderr.isatty():
                with click.progressbar(
                    length=table.size or 0,
                    label="Import",
                    file=sys.stderr,
                    show_pos=True,
                ) as bar:
                    result = import_file(
                        opened, Path(file), user, bar.update, table, org
                    )
            else:
                result = import_file(opened, Path(file), user, None, table, org)
        except ImportRefused as refused:
            for problem in refused.problems[:50]:
                click.echo(f"  {problem}", err=True)
            if len(refused.problems) > 50:
                click.echo(f"  … et {len(refused.problems) - 50} autres", err=True)
            if report:
                Path(report).write_text(refused.report_csv(), encoding="utf-8-sig")
                click.echo(f"Rapport : {report}", err=True)
            _fail(f"{refused} ({refused.rows} ligne(s) lue(s)).")
    click.echo(f"{result.created} entrée(s) importée(s) dans « {slug} ».")


@cli.command("export")
@click.argument("slug")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "xlsx", "json"]),
    default="csv",
    show_default=True,
)
@click.option("-o", "--output", type=_path(dir_okay=False), help="Fichier écrit.")
@click.option(
    "--all-fields",
    is_flag=True,
    help="Ajoute les champs non publiés (fichier à ne pas diffuser).",
)
def export_command(slug, fmt, output, all_fields) -> None:
    """Écrit les entrées publiées d'un formulaire (CSV, XLSX ou JSON)."""
    from .entries import form_for_admin
    from .exports import export, left_out, left_out_note, write_csv, write_json

    app = _app(existing=True)
    with app.app_context():
        opened = form_for_admin(slug)
        note = left_out_note(left_out(opened, fmt))
        if note:
            click.echo(f"avertissement : {note}.", err=True)
        if output:
            count = export(opened, fmt, Path(output), all_fields)
            click.echo(f"{count} entrée(s) écrite(s) dans {output}.", err=True)
        elif fmt == "xlsx":
            _fail("le format xlsx s'écrit dans un fichier : ajoutez -o FICHIER.xlsx")
        else:
            write = write_json if fmt == "json" else write_csv
            write(opened, sys.stdout, all_fields)


@cli.command("backup")
@click.argument("dest", type=_path(file_okay=False))
def backup_command(dest) -> None:
    """Copie cohérente des bases de l'instance, service en marche."""
    from .backup import backup

    app = _app(existing=True)
    with app.app_context():
        written = backup(Path(dest))
    for path in written:
        click.echo(f"Copie : {path}")


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
def serve_command(host, port, workers) -> None:
    """Lance le service (formulaires, API et Datasette) sur un seul port."""
    from .serve import prepare, run_gunicorn

    logging.getLogger("dnt_forms").setLevel(logging.INFO)
    base = f"http://{host}:{port}"
    for line in prepare(base):
        click.echo(line)
    click.echo(
        f"Service sur {base}/ — données publiées sur {base}/data/ (Ctrl-C pour arrêter)"
    )
    run_gunicorn(host, port, workers)


def _french_click() -> None:
    """click words its help and usage errors through gettext's global
    domain: point it at the French catalogue shipped in translations/
    (messages click has and the catalogue lacks stay in English)."""
    from .i18n import TRANSLATIONS

    gettext.bindtextdomain("click", str(TRANSLATIONS))
    gettext.textdomain("click")
    # gettext picks the language from the environment at each call; the
    # command speaks French whatever the machine's locale.
    os.environ["LANGUAGE"] = "fr"


def main() -> None:
    """Console entry point: click's own usage errors in French too."""
    _french_click()
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Interrompu.", err=True)
        sys.exit(1)
    except click.UsageError as exc:
        hint = f" (voir « {exc.ctx.command_path} --help »)" if exc.ctx else ""
        click.echo(f"Erreur d'utilisation{hint} : {exc.format_message()}", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except DntFormsError as exc:
        click.echo(f"Erreur : {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
