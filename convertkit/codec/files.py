"""Reading and writing the files formats live in, with one-line errors; writes are atomic.

:func:`write_atomically` writes every file of one output (an ONNX model, a prototxt and its caffemodel, a spec) to a
temporary name in its target folder and renames them into place only when all are written: a failed or interrupted
run (Ctrl-C included) leaves nothing at the output paths and no temporaries.  A target that exists and is not a
regular file (a pipe, ``/dev/null``) is written directly.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping
from typing import BinaryIO

from ..errors import ConvertkitError, FormatError

__all__ = ["read_text", "write_atomically"]


def read_text(path: str, not_text: Callable[[UnicodeDecodeError], ConvertkitError]) -> str:
    """The UTF-8 text of ``path``; an unreadable file is a :class:`FormatError`, a binary one ``not_text(exc)``."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as exc:
        raise FormatError(f"cannot read {path!r}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise not_text(exc) from exc


def _regular_or_absent(path: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        return True


Content = bytes | str | Callable[[BinaryIO], None]


def write_atomically(files: Mapping[str, Content]) -> None:
    """Write ``{path: content}`` so that either every file is replaced or none is.

    ``content`` is bytes, str (written as UTF-8) or a function writing to a binary file (a big file streamed:
    a caffemodel layer by layer, ONNX external data tensor by tensor).
    """
    import tempfile  # (with random, shutil) only where a file is written, not to read or validate one

    pending: list[tuple[str, str]] = []
    path = next(iter(files), "")
    try:
        for path, content in files.items():
            data = content.encode("utf-8") if isinstance(content, str) else content
            write = data if callable(data) else (lambda f, data=data: f.write(data))
            if os.path.isdir(path):
                raise FormatError(f"cannot write {path!r}: it is a directory; give a file name")
            if not _regular_or_absent(path):
                with open(path, "wb") as f:  # a pipe or device: nothing to replace atomically
                    write(f)
                continue
            folder = os.path.dirname(os.path.abspath(path))
            fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".convertkit-tmp", dir=folder)
            pending.append((tmp, path))
            with os.fdopen(fd, "wb") as f:
                write(f)
        for tmp, path in pending:
            os.replace(tmp, path)
        pending.clear()
    except OSError as exc:
        raise FormatError(f"cannot write {path!r}: {exc.strerror or exc}") from exc
    finally:  # also on KeyboardInterrupt: no temporaries are left behind
        for tmp, _ in pending:
            try:
                os.unlink(tmp)
            except OSError:
                pass
