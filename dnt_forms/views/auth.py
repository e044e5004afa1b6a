"""Sign in, sign out, and one-time links to choose a password."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField

from ..auth import (
    check_password,
    clear_failures,
    consume_one_time_link,
    find_user,
    hash_password,
    password_problem,
    record_failure,
    sign_in,
    sign_in_wait,
    sign_out,
    use_one_time_link,
)
from ..db import db

logger = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = StringField("Adresse électronique")
    password = PasswordField("Mot de passe")


class SetPasswordForm(FlaskForm):
    password = PasswordField("Nouveau mot de passe")
    confirm = PasswordField("Confirmez le mot de passe")


def _safe_next(target: str | None) -> str:
    # Only a path of this site: an absolute URL here would let a crafted
    # link send people elsewhere after they sign in.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("views.index")


@bp.route("/connexion", methods=["GET", "POST"])
def login():
    form = LoginForm()
    errors = []
    if form.is_submitted():
        if not form.validate():
            errors.append(
                {
                    "anchor": "email",
                    "title": None,
                    "message": "Session expirée : renvoyez le formulaire.",
                }
            )
        elif wait := sign_in_wait(form.email.data or "", request.remote_addr):
            logger.warning(
                "sign-in refused: too many failures (%s)", request.remote_addr
            )
            return (
                render_template(
                    "auth/login.html",
                    form=form,
                    page_errors=[
                        {
                            "anchor": "email",
                            "title": None,
                            "message": "Trop de tentatives de connexion échouées. "
                            f"Réessayez dans {wait} minute{'s' if wait > 1 else ''}, "
                            "ou demandez un nouveau lien à votre administrateur.",
                        }
                    ],
                ),
                429,
            )
        else:
            email = form.email.data or ""
            user = find_user(email)
            if check_password(user, form.password.data or ""):
                clear_failures(email)
                sign_in(user)
                logger.info("account %s signed in", user.id)
                return redirect(_safe_next(request.args.get("suivant")))
            record_failure(email, request.remote_addr)
            errors.append(
                {
                    "anchor": "email",
                    "title": "Adresse électronique ou mot de passe",
                    "message": "Ils ne correspondent à aucun compte actif. Vérifiez-les "
                    "ou demandez un lien de connexion à votre administrateur.",
                }
            )
    return (
        render_template("auth/login.html", form=form, page_errors=errors),
        422 if errors else 200,
    )


@bp.route("/deconnexion", methods=["POST"])
def logout():
    sign_out()
    flash("Vous êtes déconnecté.", "succes")
    return redirect(url_for("auth.login"))


@bp.route("/connexion/lien/<token>", methods=["GET", "POST"])
def one_time_link(token):
    user = use_one_time_link(token)
    if user is None:
        # Said plainly: the person holds a link that once worked.
        return (
            render_template(
                "error.html",
                code=404,
                heading="Lien de connexion plus valable",
                text="Ce lien a déjà servi, a été remplacé par un lien plus récent "
                "ou a expiré. Demandez un nouveau lien à l'administrateur du "
                "service.",
            ),
            404,
        )

    form = SetPasswordForm()
    errors = []
    if form.is_submitted():
        password = form.password.data or ""
        problem = password_problem(password)
        if not form.validate():
            problem = "Session expirée : renvoyez le formulaire."
        elif not problem and password != form.confirm.data:
            problem = "Les deux mots de passe ne sont pas identiques."
        if problem:
            errors.append(
                {"anchor": "password", "title": "Mot de passe", "message": problem}
            )
        else:
            user.password_hash = hash_password(password)
            user.session_version += 1
            db.session.commit()
            consume_one_time_link(token)
            sign_in(user)
            flash("Mot de passe enregistré. Vous êtes connecté.", "succes")
            return redirect(url_for("views.index"))
    return (
        render_template(
            "auth/set_password.html", form=form, user=user, page_errors=errors
        ),
        422 if errors else 200,
    )
