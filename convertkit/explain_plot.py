"""The picture of ``convertkit explain --png / --svg``: one deconvolution's scatter, drawn with matplotlib.

Left, the input grid (one colour per input cell); right, the scatter before the pads crop: every input cell's
kernel placed at ``cell * stride`` in that cell's colour (dots on the taps when dilated), the overlap count per cell
shaded (and written when the grid is small), the output the pads keep outlined, the cropped border hatched and the
output_padding rows (bias only) marked.  matplotlib is an optional extra (``pip install 'convertkit[plot]'``) and
is imported only here, only when a picture is asked for.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import ConvertkitError, UnsupportedError
from .explain import Explanation, axis_contributions

__all__ = ["draw_scatter"]

#: Above this many input cells the kernel placements are not drawn (the shading still shows the overlaps).
_MAX_PLACEMENTS = 1024
#: Counts and cell names are written into cells up to this many per axis.
_MAX_LABELLED = 24


def _matplotlib() -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ConvertkitError(
            "drawing the scatter (--png / --svg) needs matplotlib, which is not installed: "
            "pip install 'convertkit[plot]'"
        ) from exc
    return Figure


def _integer_ticks(ax: Any, width: int, height: int, every: int = _MAX_LABELLED) -> None:
    """Every index on grids up to ``every`` cells, a few integers on larger ones."""
    from matplotlib.ticker import MaxNLocator

    for axis, size in ((ax.xaxis, width), (ax.yaxis, height)):
        if size <= every:
            axis.set_ticks(range(size))
        else:
            axis.set_major_locator(MaxNLocator(nbins=8, integer=True))


def _shade_cells(ax: Any, regions: tuple[tuple[int, int, int, int], ...], **style: Any) -> None:
    """A rectangle in ``style`` over the cells of each non-empty ``(y0, y1, x0, x1)`` region (ends exclusive)."""
    from matplotlib.patches import Rectangle

    for y0, y1, x0, x1 in regions:
        if y1 > y0 and x1 > x0:
            ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, **style))


def draw_scatter(explanation: Explanation, path: str, *, fmt: str | None = None) -> None:
    """Write the picture of ``explanation``'s scatter to ``path`` (``fmt`` ``png`` or ``svg``, else by suffix)."""
    d = explanation.data
    g = d.get("geometry")
    if g is None:
        raise UnsupportedError(f"layer {d['layer']!r}: no deconvolution form, so no scatter to draw")
    n = len(g["kernel_shape"])
    if n not in (1, 2):
        raise UnsupportedError(f"layer {d['layer']!r}: the picture covers 1-D and 2-D layers; this one is {n}-D")
    fmt = fmt or path.rsplit(".", 1)[-1].lower()
    if fmt not in ("png", "svg"):
        raise UnsupportedError(f"the picture is written as png or svg, not {fmt!r} ({path})")
    Figure = _matplotlib()
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch, Rectangle

    in_spatial = list(d["input_shape"][2:])
    axes = [
        (in_spatial[a], g["kernel_shape"][a], g["strides"][a], g["dilations"][a], g["pads"][a], g["pads"][n + a])
        + (g["output_padding"][a],)
        for a in range(n)
    ]
    if n == 1:
        axes.insert(0, (1, 1, 1, 1, 0, 0, 0))
    counts = []
    for i, k, s, dil, _, _, op in axes:
        per_row = [len(c) for c in axis_contributions(i, k, s, dil)] + [0] * op
        counts.append(np.array(per_row))
    overlap = np.outer(counts[0], counts[1])  # separable: products per cell = rows' pairs x columns' pairs
    rows, cols = overlap.shape
    (ih, kh, sh, dh, pbh, peh, oph), (iw, kw, sw, dw, pbw, pew, opw) = axes
    full_h, full_w = rows - oph, cols - opw
    out_h, out_w = d["output_shape"][2:] if n == 2 else (1, d["output_shape"][2])

    scale = 0.42 if max(rows, cols) <= 24 else 9.0 / max(rows, cols)
    fig = Figure(figsize=(max(7.0, cols * scale + (ih / max(rows, 1)) * 4 + 3.5), max(3.2, rows * scale + 1.8)))
    # The input panel keeps at least a fifth of the scatter's width, so a large layer's input stays visible.
    grid = fig.add_gridspec(1, 2, width_ratios=[max(iw, 2, cols / 5), max(cols, 4) * 1.6])
    ax_in, ax = fig.add_subplot(grid[0]), fig.add_subplot(grid[1])
    palette = colormaps["tab10"]
    cells = ih * iw

    def colour(index: int) -> Any:
        return palette(index % 10)

    # Input grid.
    ax_in.set_xlim(-0.5, iw - 0.5)
    ax_in.set_ylim(ih - 0.5, -0.5)
    for r in range(ih):
        for c in range(iw):
            idx = r * iw + c
            ax_in.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor=colour(idx), edgecolor="white", alpha=0.8))
            if cells <= 26:
                ax_in.text(c, r, "abcdefghijklmnopqrstuvwxyz"[idx], ha="center", va="center", fontsize=12)
    ax_in.set_aspect("equal")
    ax_in.set_title(f"input {ih}x{iw}" if n == 2 else f"input {iw}", fontsize=10)
    _integer_ticks(ax_in, iw, ih, every=8)

    # Scatter: overlap counts shaded.
    # The lighter 60% of Greys, so that counts and outlines stay readable on the most overlapped cells.
    shade = ListedColormap(colormaps["Greys"](np.linspace(0.0, 0.6, 256)))
    image = ax.imshow(overlap, cmap=shade, vmin=0, vmax=max(1, int(overlap.max())), interpolation="nearest")
    if max(rows, cols) <= _MAX_LABELLED:
        for r in range(rows):
            for c in range(cols):
                ax.text(c, r, str(overlap[r, c]), ha="center", va="center", fontsize=9, color="black")
    # Kernel placements at stride offsets, in the colour of their input cell, inset a little per cell.
    keh, kew = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    if cells <= _MAX_PLACEMENTS:
        for r in range(ih):
            for c in range(iw):
                idx = r * iw + c
                inset = 0.08 + 0.12 * ((r + c) % 3)
                y0, x0 = r * sh, c * sw
                ax.add_patch(
                    Rectangle(
                        (x0 - 0.5 + inset, y0 - 0.5 + inset),
                        kew - 2 * inset,
                        keh - 2 * inset,
                        fill=False,
                        edgecolor=colour(idx),
                        linewidth=2.0 if cells <= 64 else 0.8,
                    )
                )
                if dh > 1 or dw > 1:
                    ty = [y0 + t * dh for t in range(kh)]
                    tx = [x0 + t * dw for t in range(kw)]
                    yy, xx = np.meshgrid(ty, tx, indexing="ij")
                    # In the placement's corner of each tap cell, clear of the count in its middle.
                    ax.scatter(
                        xx.ravel() - 0.5 + inset + 0.1,
                        yy.ravel() - 0.5 + inset + 0.1,
                        s=14,
                        color=colour(idx),
                        zorder=3,
                    )
    # The cropped border hatched, output_padding rows marked, the kept output outlined.
    kept = Rectangle(
        (pbw - 0.5, pbh - 0.5), out_w, out_h, fill=False, edgecolor="black", linestyle="--", linewidth=2.5, zorder=4
    )
    cropped = (
        (0, pbh, 0, cols),
        (pbh + out_h, rows, 0, cols),
        (pbh, pbh + out_h, 0, pbw),
        (pbh, pbh + out_h, pbw + out_w, cols),
    )
    _shade_cells(ax, cropped, facecolor="dimgray", alpha=0.18, hatch="//", edgecolor="dimgray")
    output_padding_rows = ((full_h, rows, 0, cols), (0, full_h, full_w, cols))
    _shade_cells(ax, output_padding_rows, facecolor="orange", alpha=0.25, hatch="..", edgecolor="darkorange")
    ax.add_patch(kept)
    ax.set_xlim(-0.5, cols - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)
    _integer_ticks(ax, cols, rows)
    ax.set_xlabel("scatter column" if n == 2 else "scatter position")
    if n == 2:
        ax.set_ylabel("scatter row")
    size = f"{rows}x{cols}" if n == 2 else f"{cols}"
    ax.set_title(
        f"scatter {size} before the pads crop; output {out_h}x{out_w}"
        if n == 2
        else f"scatter {size} before the pads crop; output {out_w}",
        fontsize=10,
    )
    bar = fig.colorbar(image, ax=ax, fraction=0.035, pad=0.02, label="overlaps (products per cell)")
    top = int(overlap.max())
    bar.set_ticks(range(0, top + 1, max(1, top // 8)))
    handles = [
        Patch(facecolor="none", edgecolor="tab:blue", linewidth=2, label="kernel placement (input cell's colour)"),
        Patch(facecolor="none", edgecolor="black", linestyle="--", linewidth=2.5, label="output kept by the pads"),
    ]
    if (out_h, out_w) != (rows, cols):
        handles.append(
            Patch(facecolor="dimgray", alpha=0.18, hatch="//", edgecolor="dimgray", label="cropped by the pads")
        )
    if oph or opw:
        handles.append(
            Patch(
                facecolor="orange", alpha=0.25, hatch="..", edgecolor="darkorange", label="output_padding (bias only)"
            )
        )
    if cells > _MAX_PLACEMENTS:
        handles[0] = Patch(facecolor="none", edgecolor="none", label=f"{cells} placements not drawn")
    # Below the figure (the tight bounding box takes it in), clear of the axis labels in 1-D and 2-D alike.
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, fontsize=8, frameon=False)
    stride = "x".join(map(str, g["strides"]))
    kernel = "x".join(map(str, g["kernel_shape"]))
    fig.suptitle(
        f"{d['kind']} '{d['layer']}': kernel {kernel}, stride {stride}, dilation {'x'.join(map(str, g['dilations']))}, "
        f"pads {g['pads']}, output_padding {'x'.join(map(str, g['output_padding']))}",
        fontsize=10,
    )
    try:
        fig.savefig(path, format=fmt, bbox_inches="tight", dpi=110)
    except OSError as exc:
        raise ConvertkitError(f"cannot write the picture {path!r}: {exc.strerror or exc}") from exc
