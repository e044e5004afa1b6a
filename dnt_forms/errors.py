"""Exceptions of dnt-forms: one root class, small subclasses."""

from __future__ import annotations


class DntFormsError(Exception):
    """Root of every error raised on purpose by dnt-forms."""


class SchemaProblem:
    """One problem found in a schema: where (JSON Pointer) and what."""

    def __init__(self, path: str, message: str, keyword: str | None = None):
        self.path = path
        self.message = message
        self.keyword = keyword
        # The name of the Table Schema field the path points into, if any:
        # "/fields/11" alone tells an admin little.
        self.field: str | None = None

    @property
    def place(self) -> str:
        where = self.path or "/"
        return f"{where} (champ « {self.field} »)" if self.field else where

    def __str__(self) -> str:
        return f"{self.place} : {self.message}"

    def __repr__(self) -> str:
        return f"SchemaProblem({self.path!r}, {self.message!r})"


class InvalidSchemaError(DntFormsError):
    """A form schema that cannot be used; carries every problem found."""

    def __init__(self, problems: list[SchemaProblem], warnings=None):
        self.problems = problems
        self.warnings = warnings or []
        lines = "\n".join(f"- {p}" for p in problems)
        super().__init__(f"Schéma refusé ({len(problems)} problème(s)) :\n{lines}")


class SchemaNotFoundError(DntFormsError):
    """No form with that slug."""


class EntryNotFoundError(DntFormsError):
    """No entry with that id, or not one the caller may see."""


class EntryInvalidError(DntFormsError):
    """An entry that fails validation; carries the errors by JSON Pointer."""

    def __init__(self, errors: list[dict]):
        self.errors = errors
        super().__init__(f"{len(errors)} erreur(s) dans l'entrée")


class DuplicateEntryError(DntFormsError):
    """An entry whose natural key is already taken by another entry."""

    def __init__(self, errors: list[dict], existing_id: int | None):
        self.errors = errors
        self.existing_id = existing_id
        super().__init__("Une entrée avec la même clé existe déjà")


class FormClosedError(DntFormsError):
    """The form accepts no new entries."""


class FormNotOpenError(DntFormsError):
    """The form exists but is not open to this account's organisation."""


class RevisionConflictError(DntFormsError):
    """Someone else changed the entry since the caller read it."""

    def __init__(self, current_revision: int):
        self.current_revision = current_revision
        super().__init__(
            f"L'entrée a été modifiée entre-temps (révision {current_revision})."
        )


class StoreBusyError(DntFormsError):
    """The private store stayed locked by a long write (a bulk import) beyond
    the busy timeout: nothing was written, the same request can be sent again."""

    MESSAGE = (
        "Le service est momentanément occupé par une importation de données : "
        "rien n'a été enregistré. Vos saisies sont gardées ; renvoyez-les dans "
        "une minute."
    )

    def __init__(self):
        super().__init__(self.MESSAGE)

    def errors(self) -> list[dict]:
        """The error as a form page lists it: about the page, no field."""
        return [{"path": "", "message": self.MESSAGE, "field": None}]


def is_busy(exc: BaseException) -> bool:
    """SQLite's "database is locked", however it was wrapped."""
    return "database is locked" in str(exc)
