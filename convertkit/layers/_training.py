"""The spec form of Caffe's per-blob training parameters for kinds other than the convolutions: a mixin that
writes ``meta["caffe.training"]`` as the spec key ``training`` (a list of :class:`BlobTraining`), as Convolution
and Deconvolution do."""

from __future__ import annotations

from typing import Any, ClassVar

from .. import specfields
from .deconvolution.core import TRAINING, BlobTraining

__all__ = ["TrainingSpec"]


class TrainingSpec:
    """Spec ``training`` <-> ``meta["caffe.training"]``; ``training_blobs`` is the most blobs a layer has."""

    __slots__ = ()
    spec_meta_keys: ClassVar[tuple[str, ...]] = (TRAINING,)
    training_blobs: ClassVar[int] = 2

    def to_spec(self) -> dict[str, Any]:
        out = specfields.spec_of(self)  # type: ignore[arg-type]
        training = self.meta.get(TRAINING, ())  # type: ignore[attr-defined]
        if training:
            out["training"] = [t.to_spec() for t in training]
        return out

    @classmethod
    def from_spec(cls, spec: dict[str, Any], base_dir: str) -> Any:
        training = tuple(BlobTraining.from_spec(t) for t in spec.get("training", ()))
        fields = {k: v for k, v in spec.items() if k != "training"}
        return specfields.from_fields(cls, fields, base_dir, meta={TRAINING: training} if training else {})  # type: ignore[arg-type]

    @classmethod
    def spec_schema(cls) -> dict[str, Any]:
        schema = specfields.schema_of(cls)  # type: ignore[arg-type]
        schema["properties"]["training"] = {
            "type": "array",
            "items": BlobTraining.spec_schema(),
            "maxItems": cls.training_blobs,
        }
        return schema
