"""Reading the text files formats are written in (prototxt, JSON/YAML specs), with one-line errors."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import ConvertkitError, FormatError

__all__ = ["read_text"]


def read_text(path: str, not_text: Callable[[UnicodeDecodeError], ConvertkitError]) -> str:
    """The UTF-8 text of ``path``; an unreadable file is a :class:`FormatError`, a binary one ``not_text(exc)``."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as exc:
        raise FormatError(f"cannot read {path!r}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise not_text(exc) from exc
