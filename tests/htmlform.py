"""What a browser would post from a page's form, read from the HTML alone.

Used to send a form back exactly as it is shown (an agent who opens an
entry and saves it unchanged), without knowing how the service builds it.
"""

from __future__ import annotations

from html.parser import HTMLParser

SKIPPED_TYPES = {"submit", "button", "reset", "image", "file"}


class _FormReader(HTMLParser):
    def __init__(self, action: str | None):
        super().__init__(convert_charrefs=True)
        self.wanted = action
        self.inside = False
        self.done = False
        self.pairs: list[tuple[str, str]] = []
        self._select: str | None = None
        self._option: dict | None = None
        self._select_pairs: list[tuple[str, str]] = []
        self._first_option: tuple[str, str] | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if (
            tag == "form"
            and not self.done
            and (a.get("method") or "").lower() == "post"
        ):
            if self.wanted is None or a.get("action") == self.wanted:
                self.inside = True
            return
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type", "text") not in SKIPPED_TYPES:
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.pairs.append((name, a.get("value", "on" if a.get("type") else "")))
        elif tag == "select" and name:
            self._select = name
            self._select_pairs = []
            self._first_option = None
        elif tag == "option" and self._select:
            self._option = a
            self._text = []
        elif tag == "textarea" and name:
            self._textarea = name
            self._text = []

    def handle_data(self, data):
        if self._textarea is not None or self._option is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "form" and self.inside:
            self.inside = False
            self.done = True
        elif tag == "textarea" and self._textarea is not None:
            text = "".join(self._text)
            # A browser drops the one line break right after <textarea>.
            text = text.removeprefix("\n")
            self.pairs.append((self._textarea, text))
            self._textarea = None
        elif tag == "option" and self._option is not None:
            value = self._option.get("value", "".join(self._text).strip())
            if self._first_option is None:
                self._first_option = (self._select, value)
            if "selected" in self._option:
                self._select_pairs.append((self._select, value))
            self._option = None
        elif tag == "select" and self._select:
            self.pairs.extend(self._select_pairs or [self._first_option])
            self._select = None


def posted_pairs(html: str, action: str | None = None) -> list[tuple[str, str]]:
    """(name, value) of each input the first post form (or the one with that
    action) would send, in page order, buttons left out."""
    reader = _FormReader(action)
    reader.feed(html)
    return [p for p in reader.pairs if p is not None]
