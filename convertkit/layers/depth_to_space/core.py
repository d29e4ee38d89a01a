"""``DepthToSpace``: sub-pixel rearrangement of channels into ``blocksize x blocksize`` spatial blocks, or back.

One kind with a ``direction`` field, not two: ``space_to_depth`` is the inverse permutation of ``depth_to_space``
with the same ``mode`` (one shape rule, one reference), and the stock Caffe forms share one one-hot kernel — the
Deconvolution that scatters channels into blocks and the Convolution that gathers them back carry the same
array (:func:`one_hot_kernel`).  Both modes exist in both directions (PyTorch's ``PixelUnshuffle`` is CRD).

With ``r = blocksize``, ``C' = C / r^2`` (depth_to_space) and ``0 <= i, j < r``:

- ``DCR`` (ONNX's default, TensorFlow): ``out[c, h*r + i, w*r + j] = in[(i*r + j)*C' + c, h, w]``
- ``CRD`` (PyTorch ``PixelShuffle``): ``out[c, h*r + i, w*r + j] = in[c*r^2 + i*r + j, h, w]``

``space_to_depth`` maps the other way (ONNX ``SpaceToDepth`` is the DCR order).  ONNX: ``DepthToSpace`` (mode),
``SpaceToDepth`` (DCR), and for CRD space_to_depth the ``Reshape -> Transpose -> Reshape`` chain PyTorch writes.
Caffe has no such layer; :mod:`convertkit.passes.subpixel` writes one-hot Deconvolution / Convolution forms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ...ir import TensorType, UnaryLayer
from .._fields import is_int

__all__ = ["DepthToSpace", "MODES", "DIRECTIONS", "one_hot_kernel", "split_shape", "PERMUTATIONS"]

MODES: tuple[str, ...] = ("DCR", "CRD")
DIRECTIONS: tuple[str, ...] = ("depth_to_space", "space_to_depth")

#: The transpose of the 6-D view :func:`split_shape` gives, per (direction, mode).
PERMUTATIONS: dict[tuple[str, str], tuple[int, ...]] = {
    ("depth_to_space", "DCR"): (0, 3, 4, 1, 5, 2),
    ("depth_to_space", "CRD"): (0, 1, 4, 2, 5, 3),
    ("space_to_depth", "DCR"): (0, 3, 5, 1, 2, 4),
    ("space_to_depth", "CRD"): (0, 1, 3, 5, 2, 4),
}


def split_shape(direction: str, mode: str, r: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The 6-D view of a 4-D ``shape`` that :data:`PERMUTATIONS` transposes (ONNX's DepthToSpace definition)."""
    n, c, h, w = shape
    if direction == "space_to_depth":
        return (n, c, h // r, r, w // r, r)
    if mode == "DCR":
        return (n, r, r, c // (r * r), h, w)
    return (n, c // (r * r), r, r, h, w)


def one_hot_kernel(mode: str, r: int, channels: int, grouped: bool) -> np.ndarray:
    """The one-hot kernel of the stock Caffe forms, for ``channels`` = C' (the side with fewer channels).

    Indexed ``[deep, shallow, i, j]`` (a Deconvolution's ``(C_in, C_out / group, r, r)``, a Convolution's
    ``(C_out, C_in / group, r, r)``): 1 where deep channel ``d`` holds shallow channel ``c`` at block tap
    ``(i, j)`` — CRD ``d = c*r^2 + i*r + j`` (``grouped``: group = C', shape ``(C'*r^2, 1, r, r)``), DCR
    ``d = (i*r + j)*C' + c`` (dense, ``(C'*r^2, C', r, r)``).
    """
    deep = channels * r * r
    kernel = np.zeros((deep, 1 if grouped else channels, r, r), dtype=np.float32)
    for c in range(channels):
        for i in range(r):
            for j in range(r):
                d = c * r * r + i * r + j if mode == "CRD" else (i * r + j) * channels + c
                kernel[d, 0 if grouped else c, i, j] = 1.0
    return kernel


@dataclass(frozen=True, slots=True, kw_only=True)
class DepthToSpace(UnaryLayer):
    """Rearrange ``input`` (N, C, H, W) by ``blocksize`` in ``mode`` order, in ``direction``."""

    kind: ClassVar[str] = "DepthToSpace"
    blocksize: int = field(metadata={"schema": {"minimum": 1}})
    mode: str = field(default="DCR", metadata={"schema": {"enum": list(MODES)}})
    direction: str = field(default="depth_to_space", metadata={"schema": {"enum": list(DIRECTIONS)}})

    def __post_init__(self) -> None:
        self._check_io()
        if not is_int(self.blocksize) or int(self.blocksize) < 1:
            raise self.error(f"blocksize must be an integer >= 1, got {self.blocksize!r}")
        object.__setattr__(self, "blocksize", int(self.blocksize))
        if self.mode not in MODES:
            raise self.error(f"mode must be DCR or CRD, got {self.mode!r}")
        if self.direction not in DIRECTIONS:
            raise self.error(f"direction must be depth_to_space or space_to_depth, got {self.direction!r}")

    @property
    def to_space(self) -> bool:
        return self.direction == "depth_to_space"

    def infer(self, inputs: list[TensorType]) -> list[TensorType]:
        x = self.spatial_input(inputs, 2, "DepthToSpace needs")
        n, c, h, w = x.shape
        r = self.blocksize
        if self.to_space:
            if c % (r * r):
                raise self.error(
                    f"depth_to_space needs channels divisible by blocksize^2 = {r * r}, but input "
                    f"{self.input!r} has {c} channels; use a blocksize whose square divides {c}"
                )
            return [TensorType((n, c // (r * r), h * r, w * r), x.dtype)]
        if h % r or w % r:
            raise self.error(
                f"space_to_depth needs height and width divisible by blocksize {r}, but input {self.input!r} is "
                f"{h}x{w}; crop or pad it to multiples of {r} first"
            )
        return [TensorType((n, c * r * r, h // r, w // r), x.dtype)]

    def reference(self, inputs: list[np.ndarray], types: list[TensorType]) -> list[np.ndarray]:
        (x,) = inputs
        (out,) = self.infer(types)
        view = x.reshape(split_shape(self.direction, self.mode, self.blocksize, x.shape))
        moved = view.transpose(PERMUTATIONS[(self.direction, self.mode)])
        return [np.ascontiguousarray(moved.reshape(out.shape))]
