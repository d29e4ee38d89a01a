"""Keras facet of ``Upsample``: ``UpSampling1D`` / ``UpSampling2D`` / ``UpSampling3D`` and ``Resizing``.

- ``UpSampling*D`` nearest repeats every row ``size`` times (``ops.repeat``, keras/src/layers/reshaping/
  up_sampling2d.py): output row ``i`` reads ``floor(i / f)`` — Resize nearest, asymmetric, floor.
- ``UpSampling2D`` bilinear and ``Resizing`` call ``tf.image.resize`` (antialias off), half-pixel centres:
  bilinear clamps at the borders (Resize linear, half_pixel); nearest reads ``floor((o + 0.5) * in / out)``
  (Resize nearest, tf_half_pixel_for_nn, floor); bicubic is refused (TensorFlow's ScaleAndTranslate differs
  from Resize cubic with a = -0.5 and exclude_outside by up to 7e-4, measured).  ``Resizing``'s
  crop_to_aspect_ratio / pad_to_aspect_ratio are exact only where the aspect ratio already is the target's
  (no crop, no pad); otherwise refused.
"""

from __future__ import annotations

from typing import Any

from ...codec.keras import KerasLayer
from ...ir import Layer
from ...registry import KerasFacet
from .core import Upsample

CLASS_NAMES = ("UpSampling1D", "UpSampling2D", "UpSampling3D", "Resizing")

#: tf.image.resize method -> Upsample fields.
_RESIZE: dict[str, dict[str, Any]] = {
    "bilinear": {"mode": "linear", "coordinate_transformation_mode": "half_pixel"},
    "nearest": {"mode": "nearest", "coordinate_transformation_mode": "tf_half_pixel_for_nn", "nearest_mode": "floor"},
}
#: Methods refused, with why (measured against tf.image.resize).
_REFUSED = {
    "bicubic": "TensorFlow's bicubic (ScaleAndTranslate, Keys a = -0.5) differs from Resize cubic with "
    "cubic_coeff_a -0.5 and exclude_outside 1 by up to 7e-4 (measured); no exact convertkit form is known yet",
}


def read(layer: KerasLayer) -> list[Layer]:
    layer.check_data_format()
    x, t = layer.only_input()
    n = layer.spatial_rank()
    spatial = t.shape[2:]
    if layer.class_name == "Resizing":
        if n != 2:
            raise layer.error(f"Resizing resizes images (rank 4), got rank {n + 2}")
        sizes = (int(layer.get("height")), int(layer.get("width")))
        for flag in ("crop_to_aspect_ratio", "pad_to_aspect_ratio"):
            if layer.get(flag) and sizes[0] * spatial[1] != sizes[1] * spatial[0]:
                raise layer.error(
                    f"{flag} crops or pads {list(spatial)} to the aspect ratio of {list(sizes)} before resizing; "
                    "convertkit converts it only where the ratios agree — resize without it, or Crop/Pad first"
                )
        layer.no_extra({"antialias": False})
        method = layer.get("interpolation", "bilinear")
        if method in _REFUSED:
            raise layer.error(f"interpolation {method!r}: {_REFUSED[method]}")
        if method not in _RESIZE:
            raise layer.error(
                f"interpolation {method!r} has no exact convertkit form (supported: {', '.join(_RESIZE)})"
            )
        return [Upsample(name=layer.name, input=x, output=layer.output, sizes=sizes, **_RESIZE[method])]
    size = layer.get("size", 2)
    factors = (int(size),) * n if isinstance(size, int) else tuple(int(v) for v in size)
    method = layer.get("interpolation", "nearest")
    if method == "nearest":
        fields: dict[str, Any] = {
            "mode": "nearest",
            "coordinate_transformation_mode": "asymmetric",
            "nearest_mode": "floor",
        }
    elif method in _REFUSED:
        raise layer.error(f"interpolation {method!r}: {_REFUSED[method]}")
    elif method in _RESIZE:
        fields = _RESIZE[method]
    else:
        raise layer.error(f"interpolation {method!r} has no exact convertkit form (supported: {', '.join(_RESIZE)})")
    return [
        Upsample(
            name=layer.name,
            input=x,
            output=layer.output,
            sizes=tuple(f * d for f, d in zip(factors, spatial, strict=True)),
            **fields,
        )
    ]


#: This kind's Keras facet, registered in the package's ``__init__``.
FACET: KerasFacet[Upsample] = KerasFacet(class_names=CLASS_NAMES, read=read)
