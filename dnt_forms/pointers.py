"""JSON Pointers (RFC 6901): the paths errors and schema problems give."""

from __future__ import annotations


def escape(key) -> str:
    """One key as a pointer segment: "~" and "/" escaped."""
    return str(key).replace("~", "~0").replace("/", "~1")


def unescape(segment: str) -> str:
    return segment.replace("~1", "/").replace("~0", "~")


def pointer(parts) -> str:
    """A pointer from path parts: ("a", 0, "b/c") gives "/a/0/b~1c"."""
    return "".join("/" + escape(part) for part in parts)
