"""``--target opencv`` writes a 1-D / 3-D Deconvolution as Reshapes around a 2-D ConvTranspose
(``convertkit.passes.as_2d``): OpenCV 4.x's ONNX ConvTranspose is 2-D only.  Seeded configurations (strides, pads
incl. asymmetric, output_padding, dilation, groups, bias) run equal to the NumPy reference in onnxruntime and in
OpenCV's ONNX importer, and import back as the one 1-D / 3-D layer with the same values; ``portable`` stays compact.
"""

from __future__ import annotations

import os
import random

import numpy as np
import onnx
import pytest

import convertkit as ck
from convertkit.check import random_inputs
from convertkit.errors import ConvertkitError
from convertkit.formats.onnx_import import from_onnx
from convertkit.portability import defects_hit
from convertkit.reference.interpreter import run_model
from convertkit.runtime import RUNNERS

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def _config(rank: int, seed: int) -> ck.Model:
    """A random small Deconvolution of ``rank`` spatial axes that the layer rules take (seeded)."""
    rng = random.Random(seed * 10 + rank)
    while True:
        group = rng.choice([1, 1, 2])
        channels, out = group * rng.choice([1, 2]), group * rng.choice([1, 2])
        spatial = tuple(rng.randint(2, 4) for _ in range(rank))
        kernel = tuple(rng.randint(1, 3) for _ in range(rank))
        strides = tuple(rng.randint(1, 3) for _ in range(rank))
        dilations = tuple(rng.choice([1, 1, 2]) for _ in range(rank))
        pads = tuple(rng.randint(0, 2) for _ in range(2 * rank))
        output_padding = tuple(rng.randint(0, max(s, d) - 1) for s, d in zip(strides, dilations, strict=True))
        bias = rng.random() < 0.7
        try:
            model = ck.Model(
                [
                    ck.Input(name="x", shape=(rng.choice([1, 2]), channels, *spatial)),
                    ck.Deconvolution(
                        name="y",
                        input="x",
                        out_channels=out,
                        kernel_shape=kernel,
                        strides=strides,
                        dilations=dilations,
                        padding=ck.Padding(pads=pads),
                        output_padding=output_padding,
                        group=group,
                        bias_term=bias,
                        weight=ck.Filler(type="gaussian", std=0.5, seed=seed),
                        bias=ck.Filler(type="uniform", min=-1, max=1, seed=seed + 1) if bias else None,
                    ),
                ]
            )
            model.types  # noqa: B018 - the shape rules hold (an output row at least)
        except ConvertkitError:
            continue
        return model


CONFIGS = [(rank, seed) for rank in (1, 3) for seed in range(8)]


def _explicit(rank: int, name: str) -> ck.Model:
    """Hand-picked corners the seeded sample may miss."""
    corners = {
        # groups, output_padding past the stride (below the dilation), asymmetric pads
        "grouped_dilated": dict(
            channels=4, out_channels=6, group=2, kernel_shape=(3,) * rank, strides=(1,) * rank,
            dilations=(3,) * rank, padding=ck.Padding(pads=(2,) * rank + (0,) * rank), output_padding=(2,) * rank,
        ),
        # a begin pad that crops every row some tap reaches (that tap does nothing)
        "cropped_tap": dict(
            channels=2, out_channels=2, group=1, kernel_shape=(3,) * rank, strides=(1,) * rank,
            dilations=(1,) * rank, padding=ck.Padding(pads=(3,) * rank + (0,) * rank), output_padding=(0,) * rank,
        ),
        # an output_shape past the scatter (Deconvolution -> Pad -> Bias on the 2-D layer)
        "output_shape": dict(
            channels=2, out_channels=2, group=1, kernel_shape=(2,) * rank, strides=(2,) * rank,
            dilations=(1,) * rank, padding=ck.Padding(convention="onnx_output_shape", output_shape=(9,) * rank),
            output_padding=(0,) * rank,
        ),
    }  # fmt: skip
    fields = dict(corners[name])
    channels = fields.pop("channels")
    return ck.Model(
        [
            ck.Input(name="x", shape=(1, channels, *(3,) * rank)),
            ck.Deconvolution(
                name="y",
                input="x",
                weight=ck.Filler(type="gaussian", std=0.5, seed=3),
                bias=ck.Filler(type="uniform", min=-1, max=1, seed=4),
                **fields,
            ),
        ]
    )


CORNERS = [(rank, name) for rank in (1, 3) for name in ("grouped_dilated", "cropped_tap", "output_shape")]


def _runs_equal(model: ck.Model, proto: onnx.ModelProto, atol: float = 1e-5) -> dict[str, float]:
    feeds = random_inputs(model, 0)
    expected = run_model(model, feeds)
    errors = {}
    for runtime in ("onnxruntime", "opencv"):
        why = RUNNERS[runtime].missing()
        if why is not None:
            pytest.skip(why)
        got = RUNNERS[runtime].run(proto, feeds, model)
        for name in model.outputs:
            assert got[name].shape == expected[name].shape, runtime
            np.testing.assert_allclose(got[name], expected[name], atol=atol, rtol=0, err_msg=runtime)
            errors[runtime] = float(np.abs(got[name] - expected[name]).max())
    return errors


@pytest.mark.parametrize("rank, seed", CONFIGS + CORNERS)
def test_opencv_target_writes_nd_deconvolution_in_2d_and_runs_equal(rank, seed):
    model = _config(rank, seed) if isinstance(seed, int) else _explicit(rank, seed)
    proto = ck.to_onnx(model, target="opencv")
    ops = [n.op_type for n in proto.graph.node]
    assert ops.count("ConvTranspose") == 1 and ops[0] == "Reshape" and ops[-1] == "Reshape", ops
    for value in (*proto.graph.input, *proto.graph.output):  # the graph keeps its 3-D / 5-D input and output
        assert len(value.type.tensor_type.shape.dim) == rank + 2
    assert defects_hit(proto, "opencv") == []
    _runs_equal(model, proto)

    back = from_onnx(proto)
    (layer,) = [la for la in back.layers if la.kind != "Input"]
    assert layer.kind == "Deconvolution" and layer.spatial_rank == rank and not layer.meta
    (original,) = [la for la in model.layers if la.kind == "Deconvolution"]
    assert layer.name == original.name and layer.out_channels == original.out_channels
    assert layer.group == original.group and layer.bias_term == original.bias_term
    feeds = random_inputs(model, 0)
    np.testing.assert_allclose(run_model(back, feeds)["y"], run_model(model, feeds)["y"], atol=1e-6, rtol=0)


@pytest.mark.parametrize("rank", [1, 3])
def test_portable_and_onnxruntime_targets_keep_the_compact_form(rank):
    model = _config(rank, 0)
    for target in ("portable", "onnxruntime"):
        proto = ck.to_onnx(model, target=target)
        assert [n.op_type for n in proto.graph.node if n.op_type != "Pad"] == ["ConvTranspose"], target


def test_3d_fold_by_hand():
    """One input voxel row: out[o] = sum_i x[i] * w[o + pad - i * stride] — the folded weight's entries by hand."""
    from convertkit.layers.deconvolution.forms import depth_folded

    w = np.arange(1, 4, dtype=np.float32).reshape(1, 1, 3, 1, 1)  # taps 1, 2, 3
    folded = depth_folded(w, depth=2, out_depth=4, kernel=3, stride=2, dilation=1, pad=1)
    # row i = 0 scatters taps to -1, 0, 1 (crop 1): o 0 <- tap 1 (2), o 1 <- tap 2 (3); i = 1: o 1, 2, 3 <- 1, 2, 3
    assert folded[:, :, 0, 0].tolist() == [[2, 3, 0, 0], [0, 1, 2, 3]]


def test_example_deconv3d_asymmetric_runs_equal_in_opencv():
    model = ck.load(os.path.join(EXAMPLES, "deconv3d_asymmetric.json"))
    assert defects_hit(ck.to_onnx(model), "opencv")  # portable: the 3-D ConvTranspose (the matrix's xfail row)
    proto = ck.to_onnx(model, target="opencv")
    assert defects_hit(proto, "opencv") == []
    _runs_equal(model, proto)
    back = from_onnx(proto)
    assert [la.kind for la in back.layers] == ["Input", "Deconvolution"]
    feeds = random_inputs(model, 0)
    np.testing.assert_allclose(run_model(back, feeds)["up3d"], run_model(model, feeds)["up3d"], atol=1e-6, rtol=0)


def test_a_changed_folded_weight_stays_2d():
    """A tap of the folded weight that no 3-D kernel gives (edited after export): not convertkit's form."""
    model = ck.load(os.path.join(EXAMPLES, "deconv3d_asymmetric.json"))
    proto = ck.to_onnx(model, target="opencv")
    (conv,) = [n for n in proto.graph.node if n.op_type == "ConvTranspose"]
    (init,) = [i for i in proto.graph.initializer if i.name == conv.input[1]]
    w = onnx.numpy_helper.to_array(init).copy()
    w[w == 0] = 1.0  # a zero of the fold becomes a tap
    init.CopyFrom(onnx.numpy_helper.from_array(w, init.name))
    back = from_onnx(proto)
    assert [la.kind for la in back.layers] == ["Input", "Reshape", "Deconvolution", "Reshape"]


def test_a_huge_folded_weight_is_refused_with_the_way_out(monkeypatch):
    from convertkit.passes import as_2d

    monkeypatch.setattr(as_2d, "MAX_FOLDED_WEIGHTS", 100)
    model = ck.Model(
        [
            ck.Input(name="x", shape=(1, 2, 6, 4, 4)),
            ck.Deconvolution(
                name="up", input="x", out_channels=2, kernel_shape=(2, 2, 2), strides=(2, 2, 2),
                weight=ck.Filler(type="gaussian", seed=1),
            ),
        ]
    )  # fmt: skip
    with pytest.raises(ck.ConvertkitError, match=r"layer 'up'.*2-D form for OpenCV.*--target portable"):
        ck.to_onnx(model, target="opencv")
