"""Where each layer of a prototxt is: protobuf's text parser gives no positions, so the text is scanned.

:func:`scan_layers` walks the text-format tokens (strings, comments, braces) and records, for each top-level
``layer { }`` / ``layers { }`` block in order (the order of ``NetParameter.layer`` / ``.layers``), its first line,
the line of its ``name:`` and the token after its ``type:`` with that token's character span (a V1 ``type`` is an
enum identifier, which the parser refuses when ``caffe.proto`` lacks it, e.g. the FCN fork's ``CROP``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["LayerPosition", "scan_layers"]

_TOKEN = re.compile(
    r"""(?P<space>\s+)|(?P<comment>\#[^\n]*)|(?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')"""
    r"""|(?P<punct>[{}<>:\[\],;])|(?P<word>[^\s{}<>:\[\],;#"']+)"""
)


@dataclass
class LayerPosition:
    """One top-level layer block: ``block`` is ``layer`` or ``layers`` (V1); lines count from 1."""

    block: str
    line: int
    name_line: int | None = None
    type_token: str | None = None
    type_span: tuple[int, int] | None = None
    type_line: int | None = None

    @property
    def where(self) -> int:
        """The line that names the layer (its ``name:``), else the block's first line."""
        return self.name_line or self.line


def scan_layers(text: str) -> list[LayerPosition]:
    """Every top-level ``layer``/``layers`` block of ``text``, in order (see the module docstring)."""
    out: list[LayerPosition] = []
    line = 1
    depth = 0
    current: LayerPosition | None = None
    last_word: str | None = None  # the field name before a ':' or '{' at the current depth
    want: str | None = None  # 'name' or 'type' after a ':' at depth 1 of a layer block
    for m in _TOKEN.finditer(text):
        kind, tok = m.lastgroup, m.group()
        if kind == "space" or kind == "comment":
            line += tok.count("\n")
            continue
        if kind == "punct":
            if tok in "{<":
                if depth == 0 and last_word in ("layer", "layers"):
                    current = LayerPosition(block=last_word, line=line)
                    out.append(current)
                depth += 1
                last_word, want = None, None
            elif tok in "}>":
                depth = max(depth - 1, 0)
                if depth == 0:
                    current = None
                last_word, want = None, None
            elif tok == ":":
                if depth == 1 and current is not None and last_word in ("name", "type"):
                    want = last_word
            continue
        # a word or a string
        if want is not None and current is not None:
            if want == "name" and current.name_line is None:
                current.name_line = line
            elif want == "type" and current.type_token is None:
                current.type_token = tok
                current.type_span = (m.start(), m.end())
                current.type_line = line
            want, last_word = None, None
            continue
        last_word = tok if kind == "word" else None
    return out
