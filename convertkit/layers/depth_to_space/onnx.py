"""ONNX facet of ``DepthToSpace``: ``DepthToSpace`` (mode DCR / CRD, opset >= 11), ``SpaceToDepth`` (DCR), and
CRD space_to_depth as ``Reshape -> Transpose -> Reshape`` (ONNX has no CRD SpaceToDepth; it is the chain
``torch.onnx.export`` writes for ``PixelUnshuffle``, read back by :mod:`convertkit.passes.subpixel`)."""

from __future__ import annotations

from ...codec.onnx import OnnxEmitter, OnnxNode
from ...errors import ValidationError
from ...ir import TensorType
from ...registry import OnnxFacet
from ..reshape.onnx import write_reshape
from .core import PERMUTATIONS, DepthToSpace, split_shape

OP_TYPES = ("DepthToSpace", "SpaceToDepth")


def write(layer: DepthToSpace, ctx: OnnxEmitter, types: list[TensorType]) -> None:
    r = layer.blocksize
    if layer.to_space:
        ctx.add_node("DepthToSpace", [layer.input], [layer.output], name=layer.name, blocksize=r, mode=layer.mode)
    elif layer.mode == "DCR":
        ctx.add_node("SpaceToDepth", [layer.input], [layer.output], name=layer.name, blocksize=r)
    else:
        x = types[0]
        (out,) = layer.infer(types)
        split = ctx.fresh(f"{layer.name}.split")
        moved = ctx.fresh(f"{layer.name}.moved")
        write_reshape(
            ctx,
            ctx.fresh(f"{layer.name}.split"),
            layer.input,
            split,
            split_shape(layer.direction, layer.mode, r, x.shape),
        )
        ctx.add_node(
            "Transpose", [split], [moved], name=layer.name, perm=list(PERMUTATIONS[(layer.direction, layer.mode)])
        )
        write_reshape(ctx, ctx.fresh(f"{layer.name}.merge"), moved, layer.output, out.shape)


def read(node: OnnxNode) -> DepthToSpace:
    r = int(node.attr("blocksize", 0))
    if r < 1:
        raise node.error(f"blocksize must be >= 1, got {r}", ValidationError)
    if node.op_type == "SpaceToDepth":
        return DepthToSpace(
            name=node.name, input=node.value(0), output=node.output_names[0], blocksize=r, direction="space_to_depth"
        )
    mode = node.attr("mode", "DCR")
    mode = mode.decode() if isinstance(mode, bytes) else str(mode)
    return DepthToSpace(name=node.name, input=node.value(0), output=node.output_names[0], blocksize=r, mode=mode)


#: This kind's ONNX facet, registered in the package's ``__init__``.
FACET: OnnxFacet[DepthToSpace] = OnnxFacet(write=write, op_types=OP_TYPES, read=read)
