"""Reference ONNX ConvTranspose in NumPy: N-D, grouped, dilated, padded, float32 and float64.

Two implementations of the same maths live here:

* :func:`conv_transpose_scatter` is the plain oracle.  For every input pixel it multiplies the kernel by the
  pixel and adds the product into the output at ``stride`` offsets, then crops ``pads`` and appends
  ``output_padding`` rows, then adds the bias.  It is slow and obviously right; tests use it.
* :func:`conv_transpose` is the fast path.  It splits the output by *phase*: along an axis with stride ``s``
  the output rows ``r, r + s, r + 2s, ...`` (one residue ``r``) receive contributions only from the kernel taps
  ``k`` with ``(r + pad_begin - k * dilation) % s == 0``, each reading the input shifted by a fixed offset.
  One GEMM multiplies every tap with the input at once (``Y = W^T x`` over a zero-padded input whose spatial
  axes are flattened); each phase is then the sum of its taps' rows of ``Y``, each shifted by its offset:
  contiguous slice-adds, and no product spent on a tap that misses the phase.  Depthwise layers (one channel
  per group), where that GEMM would be an outer product, multiply-add per tap instead.

Both take attributes under their ONNX names.  ``output_shape`` and ``auto_pad`` are turned into explicit
pads by :mod:`convertkit.shapes`, which follows current onnxruntime.

Index convention used throughout: output row ``o`` of an axis is row ``o + pad_begin`` of the un-cropped
scatter, and input row ``i`` with kernel tap ``k`` lands on scatter row ``i * stride + k * dilation``.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from convertkit import shapes
from convertkit.errors import ValidationError

from ._arguments import FLOAT_DTYPES, WindowGeometry

__all__ = ["conv_transpose", "conv_transpose_scatter"]

_AUTO_PADS = ("NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER")


@dataclass(frozen=True)
class _Geometry(WindowGeometry):
    """A ConvTranspose call resolved to per-axis integers: Conv's geometry plus the rows appended at the end."""

    output_padding: tuple[int, ...]

    @property
    def scatter_spatial(self) -> tuple[int, ...]:
        """Extent of the un-cropped scatter per axis: ``s * (i - 1) + k_eff``."""
        return tuple(
            shapes.conv_transpose_full_size(i, k, s, d)
            for i, k, s, d in zip(self.input_spatial, self.kernel, self.strides, self.dilations, strict=True)
        )


# ----------------------------------------------------------------------------------------------------------------
# Public functions
# ----------------------------------------------------------------------------------------------------------------


def conv_transpose(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    *,
    strides: Sequence[int] | None = None,
    pads: Sequence[int] | None = None,
    dilations: Sequence[int] | None = None,
    group: int = 1,
    output_padding: Sequence[int] | None = None,
    output_shape: Sequence[int] | None = None,
    auto_pad: str = "NOTSET",
    kernel_shape: Sequence[int] | None = None,
) -> np.ndarray:
    """ONNX ConvTranspose, vectorised by output phase.

    Parameters
    ----------
    x : numpy.ndarray
        Input of shape ``(N, C, *spatial)``, float32 or float64.  Any number of spatial axes (at least one).
    w : numpy.ndarray
        Weights of shape ``(C, M / group, *kernel)``; cast to ``x.dtype``.
    b : numpy.ndarray, optional
        Bias of shape ``(M,)``; cast to ``x.dtype``.
    strides, dilations : sequence of int, optional
        One positive value per spatial axis; default all ones.
    pads : sequence of int, optional
        ``(begin_0, ..., begin_n, end_0, ..., end_n)``, non-negative; default zeros.  Ignored when
        ``output_shape`` is given (as the ONNX text says); not allowed together with ``auto_pad`` other than
        NOTSET.
    group : int
        Number of groups; must divide ``C``.
    output_padding : sequence of int, optional
        Rows appended at the end of each axis before the end pads are cropped (they hold the bias only);
        non-negative, default zeros, and below ``max(stride, dilation)`` on every axis (PyTorch's rule, which the
        layer applies too); onnxruntime refuses ``>= stride``.
    output_shape : sequence of int, optional
        Requested spatial output size (without N and M).  Converted to pads with
        :func:`convertkit.shapes.onnx_output_shape_pads`; a size past the scatter gets bias-only rows at the end
        (onnxruntime accepts at most ``stride - 1`` such rows).
    auto_pad : {"NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"}
        Converted to pads with :func:`convertkit.shapes.onnx_auto_pad_pads`.
    kernel_shape : sequence of int, optional
        When given it must equal ``w.shape[2:]``.

    Returns
    -------
    numpy.ndarray
        ``(N, M, *out)`` with ``out = s * (i - 1) + output_padding + d * (k - 1) + 1 - pad_begin - pad_end``,
        dtype of ``x``.

    Raises
    ------
    convertkit.errors.ValidationError
        When an input or attribute breaks a rule of the operator; the message names the rule and the values.
    """
    x, w, b, geometry = _prepare(
        x, w, b, strides, pads, dilations, group, output_padding, output_shape, auto_pad, kernel_shape
    )
    return _phase_conv_transpose(x, w, b, geometry)


def conv_transpose_resolved(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    *,
    strides: Sequence[int],
    pads: Sequence[int],
    dilations: Sequence[int],
    group: int,
    output_padding: Sequence[int],
) -> np.ndarray:
    """:func:`conv_transpose` on a layer's resolved geometry (``Deconvolution.geometry``).

    There ``output_padding`` also carries the rows past the scatter that an ``output_shape`` asks for, which may
    reach the stride; the user-facing rule ``output_padding < max(stride, dilation)`` was applied to what the user
    wrote, when the layer was built.
    """
    x, w, b, geometry = _prepare(
        x, w, b, strides, pads, dilations, group, output_padding, None, "NOTSET", None, resolved=True
    )
    return _phase_conv_transpose(x, w, b, geometry)


def conv_transpose_scatter(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    *,
    strides: Sequence[int] | None = None,
    pads: Sequence[int] | None = None,
    dilations: Sequence[int] | None = None,
    group: int = 1,
    output_padding: Sequence[int] | None = None,
    output_shape: Sequence[int] | None = None,
    auto_pad: str = "NOTSET",
    kernel_shape: Sequence[int] | None = None,
) -> np.ndarray:
    """ONNX ConvTranspose by plain scatter-add: the slow, obviously right oracle for tests.

    Same parameters, result and errors as :func:`conv_transpose`.  The steps are: scatter every input pixel
    times the kernel into the un-cropped output at ``pixel * stride`` (taps ``dilation`` apart), append
    ``output_padding`` zero rows at the end of each axis, crop ``pads``, add the bias.
    """
    x, w, b, geometry = _prepare(
        x, w, b, strides, pads, dilations, group, output_padding, output_shape, auto_pad, kernel_shape
    )
    scatter = _scatter_every_pixel(x, w, geometry)
    out = _append_output_padding_and_crop(scatter, geometry)
    return _add_bias(out, b)


# ----------------------------------------------------------------------------------------------------------------
# Validation and attribute resolution (shared by both implementations)
# ----------------------------------------------------------------------------------------------------------------


def _prepare(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    strides: Sequence[int] | None,
    pads: Sequence[int] | None,
    dilations: Sequence[int] | None,
    group: int,
    output_padding: Sequence[int] | None,
    output_shape: Sequence[int] | None,
    auto_pad: str,
    kernel_shape: Sequence[int] | None,
    *,
    resolved: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, _Geometry]:
    """Check the arrays and attributes, resolve pads, and return arrays in ``x.dtype`` plus the geometry.

    The arguments are the public functions' own, in their order (as :func:`conv_transpose` declares them).
    """
    x, w, b = _check_arrays(x, w, b)
    rank = x.ndim - 2
    kernel = tuple(int(k) for k in w.shape[2:])
    if kernel_shape is not None and tuple(int(k) for k in kernel_shape) != kernel:
        raise ValidationError(
            f"ConvTranspose: kernel_shape {list(kernel_shape)} must equal the weight's spatial shape {list(kernel)}"
        )
    strides_t = _per_axis("strides", strides, rank, 1, minimum=1)
    dilations_t = _per_axis("dilations", dilations, rank, 1, minimum=1)
    output_padding_t = _per_axis("output_padding", output_padding, rank, 0, minimum=0)
    axis = shapes.output_padding_violation(output_padding_t, strides_t, dilations_t)
    if axis is not None and not resolved:
        raise ValidationError(
            f"ConvTranspose: output_padding must be smaller than stride or dilation (the layer's rule, PyTorch's), "
            f"but on axis {axis} output_padding {output_padding_t[axis]} >= stride {strides_t[axis]} and >= "
            f"dilation {dilations_t[axis]}; for more rows past the scatter give output_shape or pad the result"
        )
    group = _check_group_and_channels(x, w, b, group)
    input_spatial = tuple(int(i) for i in x.shape[2:])
    pads_begin, pads_end, output_padding_t = _resolve_pads(
        input_spatial, kernel, strides_t, dilations_t, output_padding_t, pads, output_shape, auto_pad
    )
    output_spatial = tuple(
        shapes.conv_transpose_output_size(i, k, s, pb, pe, d, op)
        for i, k, s, d, pb, pe, op in zip(
            input_spatial, kernel, strides_t, dilations_t, pads_begin, pads_end, output_padding_t, strict=False
        )
    )
    for axis, size in enumerate(output_spatial):
        if size < 0:
            raise ValidationError(
                f"ConvTranspose: output size of spatial axis {axis} is {size} < 0: "
                f"stride*(in-1) + output_padding + dilation*(kernel-1) + 1 - pad_begin - pad_end = "
                f"{strides_t[axis]}*({input_spatial[axis]}-1) + {output_padding_t[axis]} + "
                f"{dilations_t[axis]}*({kernel[axis]}-1) + 1 - {pads_begin[axis]} - {pads_end[axis]}"
            )
    geometry = _Geometry(
        group=group,
        in_channels=int(x.shape[1]),
        out_channels=int(w.shape[1]) * group,
        input_spatial=input_spatial,
        kernel=kernel,
        strides=strides_t,
        dilations=dilations_t,
        pads_begin=pads_begin,
        pads_end=pads_end,
        output_padding=output_padding_t,
        output_spatial=output_spatial,
    )
    return x, w, b, geometry


def _check_arrays(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    x = np.asarray(x)
    w = np.asarray(w)
    if x.dtype not in FLOAT_DTYPES:
        raise ValidationError(f"ConvTranspose: x must be float32 or float64, not {x.dtype}")
    if x.ndim < 3:
        raise ValidationError(f"ConvTranspose: x must have rank >= 3 (N, C, spatial...), got shape {list(x.shape)}")
    if w.ndim != x.ndim:
        raise ValidationError(
            f"ConvTranspose: w must have the rank of x ({x.ndim}), got shape {list(w.shape)} "
            f"for x of shape {list(x.shape)}"
        )
    if any(i < 1 for i in x.shape[2:]):
        raise ValidationError(f"ConvTranspose: spatial sizes of x must be >= 1, got x shape {list(x.shape)}")
    if any(k < 1 for k in w.shape[2:]):
        raise ValidationError(f"ConvTranspose: kernel sizes must be >= 1, got w shape {list(w.shape)}")
    w = w.astype(x.dtype, copy=False)
    if b is not None:
        b = np.asarray(b).astype(x.dtype, copy=False)
    return x, w, b


def _per_axis(name: str, value: Sequence[int] | None, rank: int, default: int, *, minimum: int) -> tuple[int, ...]:
    if value is None:
        return (default,) * rank
    values = tuple(int(v) for v in value)
    if len(values) != rank:
        raise ValidationError(f"ConvTranspose: {name} needs one value per spatial axis ({rank}), got {list(values)}")
    if any(v < minimum for v in values):
        rule = "positive" if minimum == 1 else "non-negative"
        raise ValidationError(f"ConvTranspose: {name} must be {rule}, got {list(values)}")
    return values


def _check_group_and_channels(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, group: int) -> int:
    group = int(group)
    channels = int(x.shape[1])
    if group < 1:
        raise ValidationError(f"ConvTranspose: group must be >= 1, got {group}")
    if channels % group != 0:
        raise ValidationError(f"ConvTranspose: input channels C={channels} must be divisible by group={group}")
    if int(w.shape[0]) != channels:
        raise ValidationError(
            f"ConvTranspose: w.shape[0]={w.shape[0]} must equal the input channels C={channels} "
            f"(w is (C, M/group, *kernel))"
        )
    out_channels = int(w.shape[1]) * group
    if b is not None and b.shape != (out_channels,):
        raise ValidationError(
            f"ConvTranspose: bias must have shape (M,) = ({out_channels},) with M = w.shape[1] * group = "
            f"{w.shape[1]} * {group}, got {list(b.shape)}"
        )
    return group


def _resolve_pads(
    input_spatial: tuple[int, ...],
    kernel: tuple[int, ...],
    strides: tuple[int, ...],
    dilations: tuple[int, ...],
    output_padding: tuple[int, ...],
    pads: Sequence[int] | None,
    output_shape: Sequence[int] | None,
    auto_pad: str,
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """Turn ``pads`` / ``auto_pad`` / ``output_shape`` into explicit ``(pads_begin, pads_end, output_padding)``."""
    rank = len(input_spatial)
    if auto_pad not in _AUTO_PADS:
        raise ValidationError(f"ConvTranspose: auto_pad must be one of {', '.join(_AUTO_PADS)}, not {auto_pad!r}")
    per_axis = list(zip(input_spatial, kernel, strides, dilations, output_padding, strict=True))
    if output_shape is not None:
        spatial = _spatial_output_shape(output_shape, rank)
        resolved = [
            shapes.onnx_output_shape_pads(i, k, s, d, op, o, auto_pad)
            for (i, k, s, d, op), o in zip(per_axis, spatial, strict=True)
        ]
    elif auto_pad != "NOTSET":
        if pads is not None and any(int(p) != 0 for p in pads):
            raise ValidationError(
                f"ConvTranspose: explicit pads {list(pads)} cannot be combined with auto_pad={auto_pad}"
            )
        resolved = [shapes.onnx_auto_pad_pads(i, k, s, d, op, auto_pad) for (i, k, s, d, op) in per_axis]
    else:
        explicit = _per_axis("pads", pads, 2 * rank, 0, minimum=0)
        resolved = [(explicit[a], explicit[rank + a], output_padding[a]) for a in range(rank)]
    pads_begin, pads_end, output_padding = (tuple(int(v) for v in column) for column in zip(*resolved, strict=True))
    return pads_begin, pads_end, output_padding


def _spatial_output_shape(output_shape: Sequence[int], rank: int) -> tuple[int, ...]:
    values = tuple(int(v) for v in output_shape)
    if len(values) != rank:
        # The ONNX text says output_shape excludes N and C; onnxruntime rejects a full shape too.
        raise ValidationError(
            f"ConvTranspose: output_shape needs one size per spatial axis ({rank}, without N and C), "
            f"got {list(output_shape)}"
        )
    if any(v < 0 for v in values):
        raise ValidationError(f"ConvTranspose: output_shape must be non-negative, got {list(output_shape)}")
    return values


# ----------------------------------------------------------------------------------------------------------------
# The scatter oracle
# ----------------------------------------------------------------------------------------------------------------


def _scatter_every_pixel(x: np.ndarray, w: np.ndarray, g: _Geometry) -> np.ndarray:
    """Un-cropped scatter ``(N, M, *scatter_spatial)``: each input pixel times the kernel, added at its offset."""
    batch = x.shape[0]
    in_per_group, out_per_group = g.in_per_group, g.out_per_group
    x_grouped = x.reshape(batch, g.group, in_per_group, *g.input_spatial)
    # (group, C/group, M/group * prod(kernel)): one small matrix per group maps a pixel's channels to a patch.
    w_grouped = w.reshape(g.group, in_per_group, out_per_group * int(np.prod(g.kernel)))
    scatter = np.zeros((batch, g.out_channels, *g.scatter_spatial), dtype=x.dtype)
    for pixel in np.ndindex(*g.input_spatial):
        values = x_grouped[(slice(None),) * 3 + pixel]  # (N, group, C/group)
        patch = np.einsum("ngc,gcp->ngp", values, w_grouped).reshape(batch, g.out_channels, *g.kernel)
        window = tuple(
            slice(i * s, i * s + d * (k - 1) + 1, d)
            for i, s, d, k in zip(pixel, g.strides, g.dilations, g.kernel, strict=True)
        )
        scatter[(slice(None),) * 2 + window] += patch
    return scatter


def _append_output_padding_and_crop(scatter: np.ndarray, g: _Geometry) -> np.ndarray:
    """Append ``output_padding`` zero rows at the end of each axis, then drop ``pads_begin`` / ``pads_end`` rows."""
    padded = np.pad(scatter, [(0, 0), (0, 0)] + [(0, op) for op in g.output_padding])
    crop = tuple(slice(pb, pb + o) for pb, o in zip(g.pads_begin, g.output_spatial, strict=True))
    return np.ascontiguousarray(padded[(slice(None),) * 2 + crop])


def _add_bias(out: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    if b is not None:
        out += b.reshape((1, -1) + (1,) * (out.ndim - 2))
    return out


# ----------------------------------------------------------------------------------------------------------------
# The fast path: output phases summed from one GEMM by shifted slices
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _AxisPhase:
    """Output rows ``residue, residue + stride, ...`` of one axis and the kernel taps that reach them.

    Output row ``residue + stride * q`` receives tap ``taps[j]`` applied to input row ``q + offsets[j]``.
    """

    residue: int
    count: int
    taps: tuple[int, ...]
    offsets: tuple[int, ...]


def _axis_phases(out_size: int, kernel: int, stride: int, dilation: int, pad_begin: int) -> list[_AxisPhase]:
    """Split one output axis into its ``stride`` phases (fewer when the axis is shorter than the stride)."""
    phases = []
    for residue in range(min(stride, out_size)):
        # Scatter row of output row residue + stride*q is residue + pad_begin + stride*q; tap k of input row i
        # lands on i*stride + k*dilation, so i = q + (residue + pad_begin - k*dilation) / stride when divisible.
        shifts = [(k, residue + pad_begin - k * dilation) for k in range(kernel)]
        taps = tuple(k for k, shift in shifts if shift % stride == 0)
        offsets = tuple(shift // stride for k, shift in shifts if shift % stride == 0)
        count = len(range(residue, out_size, stride))
        phases.append(_AxisPhase(residue, count, taps, offsets))
    return phases


#: Elements of the per-chunk work array (the GEMM result, or a depthwise phase sum): 4 MiB of float32.
#: Big enough that each GEMM runs at full BLAS speed, small enough to bound the scratch memory.
_CHUNK_ELEMENTS = 1 << 20

#: Scratch buffers up to this size are kept per thread between calls.  On virtual machines a first-touch page
#: fault costs microseconds per 4 KiB page, so re-allocating the work arrays on every call costs as much as
#: the arithmetic; reusing them removes that.  Larger buffers are allocated per call and released.
_SCRATCH_KEEP_BYTES = 32 << 20


class _ScratchPool(threading.local):
    """Per-thread work buffers, by name; a call never hands one of them back to its caller."""

    def __init__(self) -> None:
        self.buffers: dict[tuple[str, np.dtype], np.ndarray] = {}

    def array(self, name: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        size = int(np.prod(shape))
        key = (name, np.dtype(dtype))
        buffer = self.buffers.get(key)
        if buffer is None or buffer.size < size:
            buffer = np.empty(size, dtype=dtype)
            if buffer.nbytes <= _SCRATCH_KEEP_BYTES:
                self.buffers[key] = buffer
        return buffer[:size].reshape(shape)


_SCRATCH = _ScratchPool()


@dataclass(frozen=True)
class _PaddedInput:
    """``x`` inside a zero border wide enough that every tap of every phase reads in bounds.

    Spatial axes are addressed flat: ``flat[n, c, p]`` with ``p = sum(row * flat_strides[axis])``.  A tap's
    input window for a block of phase rows is then one contiguous slice of ``flat``; along the inner axes it
    runs on past the phase's ``count`` into the next row, and those extra columns are cropped at the end.
    """

    flat: np.ndarray  # (N, C, prod(padded))
    padded: tuple[int, ...]
    low: tuple[int, ...]

    @property
    def flat_strides(self) -> tuple[int, ...]:
        return tuple(int(np.prod(self.padded[axis + 1 :])) for axis in range(len(self.padded)))

    def tap_start(self, offsets: tuple[int, ...]) -> int:
        """Flat position of input row ``offsets`` (unpadded coordinates): where phase row 0 of the tap reads."""
        return sum((o + lo) * stride for o, lo, stride in zip(offsets, self.low, self.flat_strides, strict=True))


def _pad_input(x: np.ndarray, phases_per_axis: list[list[_AxisPhase]]) -> _PaddedInput:
    low, high = [], []
    for axis, phases in enumerate(phases_per_axis):
        offsets = [o for p in phases for o in p.offsets] or [0]
        longest = max(p.count for p in phases)
        low.append(max(0, -min(offsets)))
        # Enough rows for the largest offset with the longest phase (a row block spans all phases at once),
        # plus, on the first axis, one spare row for the inner axes' windows that run past the last row.
        high.append(max(0, max(offsets) + longest - x.shape[2 + axis]) + (1 if axis == 0 else 0))
    padded = tuple(lo + i + hi for lo, i, hi in zip(low, x.shape[2:], high, strict=True))
    array = _SCRATCH.array("x_padded", (*x.shape[:2], *padded), x.dtype)
    array.fill(0)
    interior = tuple(slice(lo, lo + i) for lo, i in zip(low, x.shape[2:], strict=True))
    array[(slice(None),) * 2 + interior] = x
    return _PaddedInput(array.reshape(*x.shape[:2], -1), padded, tuple(low))


@dataclass(frozen=True)
class _Chunk:
    """A block of work: a range of batch items and a range of phase rows along the first spatial axis."""

    batch: slice
    rows: range


def _chunks(batch: int, rows: int, elements_per_row: int) -> list[_Chunk]:
    """Cover ``batch x rows`` with blocks of about ``_CHUNK_ELEMENTS`` elements (whole rows, at least one)."""
    rows_per_chunk = max(1, _CHUNK_ELEMENTS // max(1, elements_per_row))
    if rows_per_chunk >= rows:
        per_chunk = max(1, rows_per_chunk // max(1, rows))
        return [_Chunk(slice(n, min(n + per_chunk, batch)), range(rows)) for n in range(0, batch, per_chunk)]
    # Equal row blocks: a short last block would run a GEMM too small to be efficient.
    count = -(-rows // rows_per_chunk)
    size = -(-rows // count)
    return [_Chunk(slice(n, n + 1), range(r, min(r + size, rows))) for n in range(batch) for r in range(0, rows, size)]


@dataclass(frozen=True)
class _PhaseTap:
    """One tap combination of a phase: its flat kernel index and the flat input position of phase row 0."""

    kernel_index: int
    start: int


def _phase_taps(phase: tuple[_AxisPhase, ...], kernel: tuple[int, ...], xp: _PaddedInput) -> list[_PhaseTap]:
    taps = []
    for choice in itertools.product(*(range(len(p.taps)) for p in phase)):
        kernel_index = int(np.ravel_multi_index(tuple(p.taps[j] for p, j in zip(phase, choice, strict=True)), kernel))
        start = xp.tap_start(tuple(p.offsets[j] for p, j in zip(phase, choice, strict=True)))
        taps.append(_PhaseTap(kernel_index, start))
    return taps


def _phase_conv_transpose(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, g: _Geometry) -> np.ndarray:
    batch = x.shape[0]
    out = np.empty((batch, g.out_channels, *g.output_spatial), dtype=x.dtype)
    if out.size == 0:
        return out
    phases_per_axis = [
        _axis_phases(o, k, s, d, pb)
        for o, k, s, d, pb in zip(g.output_spatial, g.kernel, g.strides, g.dilations, g.pads_begin, strict=True)
    ]
    xp = _pad_input(x, phases_per_axis)
    phases = [(phase, _phase_taps(phase, g.kernel, xp)) for phase in itertools.product(*phases_per_axis)]
    bias = None if b is None else b.reshape(g.group, -1, 1)
    if g.group == g.in_channels == g.out_channels:
        _depthwise_phases(xp, w, bias, g, phases, out)
    else:
        _shift_add_phases(xp, w, bias, g, phases, out)
    return out


def _row_block(xp: _PaddedInput, phases: list, chunk: _Chunk) -> tuple[int, int]:
    """First padded row and row count of the input rows that the chunk's phase rows read, over all phases."""
    offsets = [o + xp.low[0] for phase, _taps in phases for o in phase[0].offsets] or [0]
    first_row = chunk.rows.start + min(offsets)
    # One extra row: the inner axes' flat windows of the last phase row run past its end.
    return first_row, len(chunk.rows) + max(offsets) - min(offsets) + 1


def _write_phase(
    out: np.ndarray,
    phase_sum: np.ndarray,
    bias: np.ndarray | None,
    phase: tuple[_AxisPhase, ...],
    strides: tuple[int, ...],
    chunk: _Chunk,
    rows: range,
    xp: _PaddedInput,
) -> None:
    """Add the bias and store a phase sum ``(n, group, M/group, rows * row_length)`` in its strided place."""
    if bias is not None:
        phase_sum += bias
    n = phase_sum.shape[0]
    full = phase_sum.reshape(n, -1, len(rows), *xp.padded[1:])
    cropped = full[(slice(None),) * 3 + tuple(slice(0, p.count) for p in phase[1:])]
    out[_phase_view(phase, strides, chunk.batch, rows)] = cropped


def _write_bias_only(
    out: np.ndarray,
    bias: np.ndarray | None,
    phase: tuple[_AxisPhase, ...],
    strides: tuple[int, ...],
    chunk: _Chunk,
    rows: range,
) -> None:
    """Phase rows no tap reaches (dilation skips them, or output_padding put them past the scatter)."""
    target = out[_phase_view(phase, strides, chunk.batch, rows)]
    target[...] = 0 if bias is None else bias.reshape((-1,) + (1,) * len(phase))


def _phase_view(phase: tuple[_AxisPhase, ...], strides: tuple[int, ...], batch: slice, rows: range) -> tuple:
    """Index of ``out`` holding phase rows ``rows`` (first axis) of a phase: every ``stride``-th output row."""
    first = phase[0].residue + strides[0] * rows.start
    spatial = [slice(first, first + strides[0] * (len(rows) - 1) + 1, strides[0])]
    spatial += [slice(p.residue, None, s) for p, s in zip(phase[1:], strides[1:], strict=True)]
    return (batch, slice(None), *spatial)


def _phases_with_taps(
    out: np.ndarray, bias: np.ndarray | None, g: _Geometry, phases: list, chunk: _Chunk
) -> Iterator[tuple[tuple[_AxisPhase, ...], list[_PhaseTap], range]]:
    """The phases with rows in the chunk and taps to sum, with those rows; rows no tap reaches get the bias here."""
    for phase, taps in phases:
        rows = range(chunk.rows.start, min(chunk.rows.stop, phase[0].count))
        if not rows:
            continue
        if not taps:
            _write_bias_only(out, bias, phase, g.strides, chunk, rows)
            continue
        yield phase, taps, rows


def _shift_add_phases(
    xp: _PaddedInput, w: np.ndarray, bias: np.ndarray | None, g: _Geometry, phases: list, out: np.ndarray
) -> None:
    """General groups: ``Y = W^T x`` for every tap in one GEMM, then each phase sums its taps' shifted rows of Y.

    ``Y[n, group, tap, m, p]`` is tap ``tap`` of output channel ``m`` applied to flat input position ``p``.
    Output row ``q`` of a phase is ``sum over its taps of Y[..., tap, :, start(tap) + q]``: contiguous
    slice-adds, and no product of the GEMM is wasted on a tap that misses the phase.
    """
    batch, dtype = out.shape[0], out.dtype
    in_per_group, out_per_group = g.in_per_group, g.out_per_group
    kernel_size = int(np.prod(g.kernel))
    row_length = xp.flat_strides[0]
    # (group, tap * M/group, C/group): the GEMM's left operand, rows ordered (tap, output channel).
    w_taps = w.reshape(g.group, in_per_group, out_per_group, kernel_size).transpose(0, 3, 2, 1)
    w_taps = np.ascontiguousarray(w_taps).reshape(g.group, kernel_size * out_per_group, in_per_group)
    x_grouped = xp.flat.reshape(batch, g.group, in_per_group, -1)
    longest = max(phase[0].count for phase, _taps in phases)
    per_row = kernel_size * g.out_channels * row_length
    for chunk in _chunks(batch, longest, per_row):
        first_row, block_rows = _row_block(xp, phases, chunk)
        n = chunk.batch.stop - chunk.batch.start
        block = x_grouped[:, :, :, first_row * row_length : (first_row + block_rows) * row_length][chunk.batch]
        y = _SCRATCH.array("taps_times_input", (n, g.group, kernel_size * out_per_group, block.shape[-1]), dtype)
        np.matmul(w_taps, block, out=y)
        y = y.reshape(n, g.group, kernel_size, out_per_group, -1)
        for phase, taps, rows in _phases_with_taps(out, bias, g, phases, chunk):
            length = len(rows) * row_length
            phase_sum = _SCRATCH.array("phase_sum", (n, g.group, out_per_group, length), dtype)
            for j, tap in enumerate(taps):
                begin = tap.start + (rows.start - first_row) * row_length
                window = y[:, :, tap.kernel_index, :, begin : begin + length]
                if j == 0:
                    np.copyto(phase_sum, window)
                else:
                    phase_sum += window
            _write_phase(out, phase_sum, bias, phase, g.strides, chunk, rows, xp)


def _depthwise_phases(
    xp: _PaddedInput, w: np.ndarray, bias: np.ndarray | None, g: _Geometry, phases: list, out: np.ndarray
) -> None:
    """Depthwise layers (one input and one output channel per group): per-channel multiply-add per tap.

    A GEMM per group would be a rank-1 outer product here, so each phase instead sums
    ``w[c, tap] * x[n, c, start(tap) + q]`` over its taps with broadcast multiplies on flat input slices.
    """
    batch, dtype = out.shape[0], out.dtype
    row_length = xp.flat_strides[0]
    channel_weights = w.reshape(g.in_channels, -1)  # (C, prod(kernel))
    longest = max(phase[0].count for phase, _taps in phases)
    for chunk in _chunks(batch, longest, g.in_channels * row_length):
        n = chunk.batch.stop - chunk.batch.start
        for phase, taps, rows in _phases_with_taps(out, bias, g, phases, chunk):
            length = len(rows) * row_length
            phase_sum = _SCRATCH.array("phase_sum", (n, g.in_channels, length), dtype)
            product = _SCRATCH.array("product", (n, g.in_channels, length), dtype)
            for j, tap in enumerate(taps):
                begin = tap.start + rows.start * row_length
                window = xp.flat[chunk.batch, :, begin : begin + length]
                weight = channel_weights[:, tap.kernel_index : tap.kernel_index + 1]
                if j == 0:
                    np.multiply(window, weight, out=phase_sum)
                else:
                    np.multiply(window, weight, out=product)
                    phase_sum += product
            _write_phase(out, phase_sum.reshape(n, g.group, 1, length), bias, phase, g.strides, chunk, rows, xp)
