"""Protocol-buffer wire format, streamed: big messages (a caffemodel, an ONNX model) read and written one part
at a time, so a 500 MB file never sits in memory as bytes *and* as a parsed message *and* as arrays.

Only the wire format (https://protobuf.dev/programming-guides/encoding/) is handled here; messages are still
parsed by protobuf, one small part at a time.  Packed float/double payloads go straight between the file and
NumPy arrays (``readinto`` / ``write(memoryview)``), never through Python lists.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import BinaryIO

import numpy as np

from ..errors import FormatError

__all__ = ["VARINT", "I64", "LEN", "I32", "WireReader", "varint", "tag", "len_field_header"]

VARINT, I64, LEN, I32 = 0, 1, 2, 5

_LITTLE = sys.byteorder == "little"


def varint(value: int) -> bytes:
    """``value`` (>= 0, or a negative int64 as its 10-byte two's complement) as a base-128 varint."""
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def tag(field: int, wire_type: int) -> bytes:
    return varint((field << 3) | wire_type)


def len_field_header(field: int, length: int) -> bytes:
    """The key and length of a length-delimited field whose ``length`` payload bytes follow."""
    return tag(field, LEN) + varint(length)


class WireReader:
    """Reads fields from a binary file, bounded by ``end`` (a message's last byte + 1)."""

    def __init__(self, f: BinaryIO, source: str, end: int, pos: int = 0, kind: str = "protobuf message") -> None:
        self.f = f
        self.source = source
        self.end = end
        self.pos = pos
        self.kind = kind

    def sub(self, n: int) -> WireReader:
        """A reader of the next ``n`` bytes (a nested message); call :meth:`done` with it when read."""
        return WireReader(self.f, self.source, self.pos + n, self.pos, self.kind)

    def done(self, child: WireReader) -> None:
        if child.pos != child.end:
            raise self._fail("a nested message not read to its end")
        self.pos = child.pos

    def _fail(self, what: str) -> FormatError:
        return FormatError(f"{self.source!r} is not a {self.kind}: {what} at byte {self.pos}")

    def at_end(self) -> bool:
        return self.pos >= self.end

    def _byte(self) -> int:
        b = self.f.read(1)
        if not b:
            raise self._fail("unexpected end of file")
        self.pos += 1
        return b[0]

    def varint(self) -> int:
        shift = result = 0
        while True:
            b = self._byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7
            if shift > 63:
                raise self._fail("a varint longer than 10 bytes")

    def key(self) -> tuple[int, int]:
        """The next field's (number, wire type)."""
        k = self.varint()
        if k >> 3 == 0:
            raise self._fail("field number 0")
        return k >> 3, k & 7

    def length(self) -> int:
        n = self.varint()
        if self.pos + n > self.end:
            raise self._fail(f"a field of {n} bytes past the end of its message")
        return n

    def read(self, n: int) -> bytes:
        data = self.f.read(n)
        if len(data) != n:
            raise self._fail("unexpected end of file")
        self.pos += n
        return data

    def read_array(self, n: int, dtype: str) -> np.ndarray:
        """``n`` payload bytes as a new 1-D array of little-endian ``dtype`` ('f4', 'f8', 'u1'...)."""
        dt = np.dtype(dtype).newbyteorder("<")
        if n % dt.itemsize:
            raise self._fail(f"a packed field of {n} bytes, not a multiple of {dt.itemsize}")
        array = np.empty(n // dt.itemsize, dtype=dt)
        view = array.data.cast("B")
        got = 0
        while got < n:
            k = self.f.readinto(view[got:])  # type: ignore[attr-defined]
            if not k:
                raise self._fail("unexpected end of file")
            got += k
        self.pos += n
        return array if _LITTLE or dt.itemsize == 1 else array.astype(dt.newbyteorder("="))

    def raw_field(self, field: int, wire_type: int) -> bytes:
        """The whole field (key included) as bytes, to hand to protobuf with the rest of its message."""
        head = tag(field, wire_type)
        if wire_type == VARINT:
            return head + varint(self.varint())
        if wire_type == I64:
            return head + self.read(8)
        if wire_type == I32:
            return head + self.read(4)
        if wire_type == LEN:
            n = self.length()
            return head + varint(n) + self.read(n)
        raise self._fail(f"wire type {wire_type} (groups are not used by these formats)")

    def fields(self, handlers: dict[int, Callable[[int, int], None]], rest: bytearray) -> None:
        """Read to ``end``: a field with a handler calls it (number, wire type); others go to ``rest`` raw."""
        while not self.at_end():
            field, wire_type = self.key()
            handler = handlers.get(field)
            if handler is not None:
                handler(field, wire_type)
            else:
                rest += self.raw_field(field, wire_type)
        if self.pos != self.end:
            raise self._fail("a field running past the end of its message")
