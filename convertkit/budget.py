"""The memory budget: what a model's tensors need, checked before anything large is allocated.

Before the NumPy reference runs or an exporter materialises weights, the bytes it will need are computed from the
model's static types (every shape is known once a :class:`~convertkit.ir.Model` exists) and compared with the
budget: by default a fraction of the memory available when the check runs, or what the caller sets
(``--max-memory`` on the command line, :func:`memory_budget` in Python).  A model over budget is refused with
the amount, the layer that needs the most and the way out, instead of an allocation that takes minutes and
swaps, or dies.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from .errors import MemoryBudgetError, ValidationError
from .ir import Model

__all__ = [
    "DEFAULT_FRACTION",
    "MemoryBudgetWarning",
    "Estimate",
    "estimate",
    "require",
    "memory_budget",
    "budget",
    "parse_size",
    "format_bytes",
    "available_memory",
]

#: The share of the available memory convertkit allows itself when no budget is set.
DEFAULT_FRACTION = 0.75

_LIMIT: ContextVar[int | None] = ContextVar("convertkit_memory_budget", default=None)
_UNITS = {"": 1, "b": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12, "ki": 2**10, "mi": 2**20, "gi": 2**30,
          "ti": 2**40}  # fmt: skip
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?)?b?\s*$", re.IGNORECASE)
_ITEMSIZE = {"float32": 4, "float64": 8}


def parse_size(text: str) -> int:
    """Bytes from ``"4G"``, ``"512MB"``, ``"1.5GiB"`` or a plain number of bytes (decimal units; ``Ki`` binary)."""
    m = _SIZE.match(str(text))
    if not m:
        raise ValidationError(f"memory size {text!r} is not a size: write e.g. 4G, 512M, 1.5GiB or a number of bytes")
    value = float(m.group(1)) * _UNITS[(m.group(2) or "").lower()]
    if value < 1:
        raise ValidationError(f"memory size {text!r} must be at least one byte")
    return int(value)


def format_bytes(n: float) -> str:
    """``537 MB``, ``1.3 GB``, ``2.0 PB`` (decimal units, as :func:`parse_size` reads them)."""
    for unit, size in (("PB", 10**15), ("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value >= 100 else f"{value:.1f} {unit}"
    return f"{int(n)} B"


def available_memory() -> int | None:
    """Bytes the system can give without swapping (Linux ``MemAvailable``; else free physical pages)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def budget() -> tuple[int | None, str]:
    """The budget in bytes (None: unknown, nothing is refused) and where it comes from, for messages."""
    set_limit = _LIMIT.get()
    if set_limit is not None:
        return set_limit, f"--max-memory {format_bytes(set_limit)}"
    available = available_memory()
    if available is None:
        return None, "unknown"
    return int(available * DEFAULT_FRACTION), (
        f"{DEFAULT_FRACTION:.0%} of the {format_bytes(available)} available; raise it with --max-memory"
    )


@contextlib.contextmanager
def memory_budget(nbytes: int | str | None) -> Iterator[None]:
    """Within the block, check against ``nbytes`` (an int or a size such as ``"4G"``; None: the default)."""
    value = parse_size(nbytes) if isinstance(nbytes, str) else nbytes
    token = _LIMIT.set(value)
    try:
        yield
    finally:
        _LIMIT.reset(token)


from .errors import MemoryBudgetWarning  # noqa: E402, F401  (defined without dependencies; re-exported here)


@dataclass(frozen=True)
class Estimate:
    """What a model needs: ``parameters`` (every weight materialised), ``reference`` (the NumPy reference's peak:
    the values alive at once, plus the running layer's parameters and a workspace as large as its outputs) and
    the layer that needs the most (its name, kind and bytes)."""

    parameters: int
    reference: int
    largest_layer: str
    largest_bytes: int
    largest_what: str
    #: the layer with the most parameter bytes, and how many (what an export needs most for)
    heaviest_layer: str = ""
    heaviest_bytes: int = 0

    def export(self) -> int:
        """An exporter holds the materialised weights and the file's copy of them."""
        return 2 * self.parameters


def _count(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def estimate(model: Model) -> Estimate:
    """The bytes ``model`` needs, from its static types (nothing is allocated)."""
    last_use: dict[str, int] = {}
    for index, layer in enumerate(model.layers):
        for v in layer.inputs:
            last_use[v] = index
    keep = set(model.outputs)
    live = 0
    peak = 0
    parameters = 0
    largest = ("", 0, "")
    heaviest = ("", 0)
    alive: dict[str, int] = {}
    for index, layer in enumerate(model.layers):
        in_types = model.input_types(layer)
        itemsize = _ITEMSIZE.get(in_types[0].dtype if in_types else "float32", 4)
        params = sum(_count(s) for s in layer.parameter_shapes(in_types)) * itemsize
        parameters += params
        if params > heaviest[1]:
            heaviest = (f"layer {layer.name!r} ({layer.kind})", params)
        out_bytes = 0
        for v in layer.outputs:
            t = model.types[v]
            out_bytes += _count(t.shape) * _ITEMSIZE.get(t.dtype, 4)
        # the outputs, a workspace of their size (or the kernel's own, where it says one), and the parameters, on
        # top of what is alive
        workspace = max(out_bytes, layer.reference_workspace(in_types))
        peak = max(peak, live + out_bytes + workspace + params)
        if out_bytes + params > largest[1]:
            outs = ", ".join(f"{v}:{model.types[v]}" for v in layer.outputs)
            what = f"output {outs} ({format_bytes(out_bytes)})"
            if params:
                what += f" and parameters ({format_bytes(params)})"
            largest = (f"layer {layer.name!r} ({layer.kind})", out_bytes + params, what)
        for v in layer.outputs:
            alive[v] = _count(model.types[v].shape) * _ITEMSIZE.get(model.types[v].dtype, 4)
            live += alive[v]
        for v in layer.inputs:
            if last_use.get(v) == index and v not in keep and v in alive:
                live -= alive.pop(v)
    return Estimate(parameters, peak, largest[0], largest[1], largest[2], heaviest[0], heaviest[1])


def require(model: Model, purpose: str) -> Estimate:
    """Refuse ``purpose`` (``"reference"`` or ``"export"``) when its estimate exceeds the budget."""
    est = estimate(model)
    limit, source = budget()
    need = est.reference if purpose == "reference" else est.export()
    if limit is not None and need > limit:
        if purpose == "reference":
            what = "running the NumPy reference"
            largest = (
                f"the largest is {est.largest_layer}: {est.largest_what} — declare smaller input shapes or kernels"
            )
        else:
            what = "materialising the weights for export"
            largest = (
                f"the heaviest is {est.heaviest_layer} with {format_bytes(est.heaviest_bytes)} of parameters — "
                "check its kernel size and channels"
            )
        raise MemoryBudgetError(
            f"{what} needs about {format_bytes(need)}, over the memory budget of {format_bytes(limit)} ({source}); "
            + largest
        )
    return est
