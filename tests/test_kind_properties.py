"""Properties over random valid configurations of every layer kind (seeded, bounded; Deconvolution and Upsample
have their own sweeps in test_properties.py, and the adjoint identity is in test_convolution.py):

- the reference equals onnxruntime on the ONNX export (``convertkit.check``);
- spec -> JSON -> spec and ONNX -> IR -> ONNX are exact (the same spec dict, the same serialized model);
- the Caffe export, where the configuration has one (else a refusal convertkit raises on purpose), reads back to
  a model with the same reference numbers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import convertkit as ck
from convertkit.comparison import random_inputs
from convertkit.errors import UnsupportedError, ValidationError
from convertkit.formats.caffe import load_caffe, save_caffe
from convertkit.formats.onnx_import import from_onnx
from convertkit.formats.spec import model_from_spec, model_to_spec
from convertkit.reference.interpreter import run_model

SETTINGS = settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _weights(seed: int, std: float = 0.5) -> ck.Filler:
    return ck.Filler(type="gaussian", std=std, seed=seed)


def _values(shape: tuple[int, ...], seed: int, low: float = -1.0, high: float = 1.0) -> ck.Values:
    return ck.Values(array=np.random.default_rng(seed).uniform(low, high, shape).astype(np.float32))


shapes4 = st.tuples(st.integers(1, 2), st.integers(1, 4), st.integers(1, 7), st.integers(1, 7))


@st.composite
def convolution(draw: Any) -> tuple[tuple[int, ...], Callable[[], Any]]:
    g = draw(st.integers(1, 2))
    c, m = g * draw(st.integers(1, 2)), g * draw(st.integers(1, 2))
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    pads = tuple(draw(st.integers(0, 2)) for _ in range(4))
    hw = tuple(d[i] * (k[i] - 1) + 1 + draw(st.integers(0, 4)) for i in range(2))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    bias = draw(st.booleans())
    return (1, c, *hw), lambda: ck.Convolution(
        name="y", input="x", out_channels=m, kernel_shape=k, strides=s, dilations=d, pads=pads, group=g,
        bias_term=bias, weight=_weights(1), bias=_weights(2) if bias else None,
    )  # fmt: skip


@st.composite
def pooling(draw: Any) -> tuple[tuple[int, ...], Callable[[], Any]]:
    x = (1, draw(st.integers(1, 3)), draw(st.integers(2, 9)), draw(st.integers(2, 9)))
    method = draw(st.sampled_from(["max", "ave"]))
    if draw(st.integers(0, 4)) == 0:
        return x, lambda: ck.Pooling(name="y", input="x", method=method, global_pooling=True)
    k = (draw(st.integers(1, min(3, x[2]))), draw(st.integers(1, min(3, x[3]))))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    convention = draw(st.sampled_from(["caffe", "onnx"]))
    if convention == "caffe":
        p = (draw(st.integers(0, k[0] - 1)), draw(st.integers(0, k[1] - 1)))
        pads = p + p
        return x, lambda: ck.Pooling(
            name="y", input="x", method=method, kernel_shape=k, strides=s, pads=pads, convention="caffe"
        )
    pads = tuple(draw(st.integers(0, k[i % 2] - 1)) for i in range(4))
    ceil, cip = draw(st.booleans()), draw(st.booleans())
    return x, lambda: ck.Pooling(
        name="y", input="x", method=method, kernel_shape=k, strides=s, pads=pads, ceil_mode=ceil,
        count_include_pad=cip,
    )  # fmt: skip


@st.composite
def activation(draw: Any) -> tuple[tuple[int, ...], Callable[[], Any]]:
    function = draw(st.sampled_from(["relu", "leaky_relu", "sigmoid", "tanh", "elu", "abs"]))
    alpha = draw(st.sampled_from([0.01, 0.1, 0.5, 1.0, 2.0])) if function in ("leaky_relu", "elu") else None
    return draw(shapes4), lambda: ck.Activation(name="y", input="x", function=function, alpha=alpha)


@st.composite
def prelu(draw: Any) -> tuple[tuple[int, ...], Callable[[], Any]]:
    x = draw(shapes4)
    shared = draw(st.booleans())
    return x, lambda: ck.PReLU(
        name="y", input="x", slope=_values((1,) if shared else (x[1],), 3), channel_shared=shared
    )


@st.composite
def normalization(draw: Any) -> tuple[tuple[int, ...], Callable[[], Any]]:
    x = draw(shapes4)
    c = x[1]
    which = draw(st.sampled_from(["batchnorm", "batchnorm-affine", "scale", "scale-bias", "bias", "lrn", "lrn-within"]))
    if which.startswith("batchnorm"):
        affine = which.endswith("affine")
        factor = draw(st.sampled_from([1.0, 0.5, 999.98]))
        return x, lambda: ck.BatchNorm(
            name="y", input="x", mean=_values((c,), 4), variance=_values((c,), 5, 0.2, 2.0), scale_factor=factor,
            scale=_values((c,), 6) if affine else None, bias=_values((c,), 7) if affine else None,
        )  # fmt: skip
    if which.startswith("scale"):
        axis = draw(st.integers(1, 3))
        n = draw(st.integers(1, 4 - axis))
        shape = tuple(x[axis : axis + n])
        bias = which.endswith("bias")
        return x, lambda: ck.Scale(
            name="y", input_names=("x",), axis=axis, num_axes=n, scale=_values(shape, 8),
            bias=_values(shape, 9) if bias else None,
        )  # fmt: skip
    if which == "bias":
        return x, lambda: ck.Bias(name="y", input="x", bias=_values((c,), 10))
    size = draw(st.sampled_from([1, 3, 5]))
    alpha, beta = draw(st.sampled_from([1e-4, 0.1, 1.0])), draw(st.sampled_from([0.5, 0.75, 1.0]))
    region = "within_channel" if which == "lrn-within" else "across_channels"
    return x, lambda: ck.LRN(name="y", input="x", size=size, alpha=alpha, beta=beta, norm_region=region)


@st.composite
def arithmetic(draw: Any) -> tuple[tuple[int, ...], Callable[[], Any]]:
    x = draw(shapes4)
    which = draw(st.sampled_from(["power", "exp", "log"]))
    scale = draw(st.sampled_from([1.0, 0.5, -0.25, 2.0]))
    if which == "power":
        power = draw(st.sampled_from([1.0, 2.0, 3.0, 0.5, -1.0]))
        # shift 4 keeps shift + scale * x positive for standard-normal inputs (a fractional power of a negative
        # number is NaN everywhere, which says nothing)
        return x, lambda: ck.Power(name="y", input="x", power=power, scale=scale, shift=4.0)
    base = draw(st.sampled_from([-1.0, 2.0, 10.0, 0.5]))
    if which == "exp":
        return x, lambda: ck.Exp(name="y", input="x", base=base, scale=scale, shift=0.25)
    return x, lambda: ck.Log(name="y", input="x", base=base, scale=scale, shift=4.0)


@st.composite
def shape_kinds(draw: Any) -> tuple[tuple[int, ...], Callable[[], Any]]:
    x = draw(shapes4)
    which = draw(st.sampled_from(["flatten", "reshape", "inner_product", "softmax", "identity"]))
    if which == "flatten":
        axis = draw(st.integers(0, 3))
        end = draw(st.integers(axis, 3))
        return x, lambda: ck.Flatten(name="y", input="x", axis=axis, end_axis=end)
    if which == "reshape":
        # keep N, fold the rest into one -1, or swap the last two factors' product onto two axes
        form = draw(st.sampled_from([(0, -1), (0, 0, -1), (-1,), (0, x[1] * x[2], x[3])]))
        return x, lambda: ck.Reshape(name="y", input="x", shape=form)
    if which == "inner_product":
        axis = draw(st.integers(1, 3))
        n = draw(st.integers(1, 5))
        transpose, bias = draw(st.booleans()), draw(st.booleans())
        return x, lambda: ck.InnerProduct(
            name="y", input="x", num_output=n, axis=axis, transpose=transpose, bias_term=bias, weight=_weights(11),
            bias=_weights(12) if bias else None,
        )  # fmt: skip
    if which == "softmax":
        axis = draw(st.integers(1, 3))
        return x, lambda: ck.Softmax(name="y", input="x", axis=axis)
    return x, lambda: ck.Identity(name="y", input="x")


@st.composite
def wiring(draw: Any) -> tuple[tuple[int, ...], Callable[[], Any]]:
    x = draw(shapes4)
    which = draw(st.sampled_from(["pad", "crop", "slice"]))
    if which == "pad":
        pads = (
            0,
            0,
            draw(st.integers(0, 2)),
            draw(st.integers(0, 2)),
            0,
            0,
            draw(st.integers(0, 2)),
            draw(st.integers(0, 2)),
        )
        mode = draw(st.sampled_from(["constant", "edge", "reflect"]))
        if mode == "reflect":
            assume(max(pads[2], pads[6]) < x[2] and max(pads[3], pads[7]) < x[3])
        return x, lambda: ck.Pad(name="y", input="x", pads=pads, mode=mode, value=0.5 if mode == "constant" else 0.0)
    if which == "crop":
        h, w = draw(st.integers(1, x[2])), draw(st.integers(1, x[3]))
        offset = (draw(st.integers(0, x[2] - h)), draw(st.integers(0, x[3] - w)))
        return x, lambda: ck.Crop(name="y", input="x", shape=(h, w), axis=2, offset=offset)
    assume(x[1] >= 2)
    point = draw(st.integers(1, x[1] - 1))
    return x, lambda: ck.Slice(name="y", input="x", output_names=("y0", "y1"), axis=1, slice_points=(point,))


STRATEGIES = {
    "convolution": convolution(),
    "pooling": pooling(),
    "activation": activation(),
    "prelu": prelu(),
    "normalization": normalization(),
    "arithmetic": arithmetic(),
    "shape": shape_kinds(),
    "wiring": wiring(),
}


def _model(x: tuple[int, ...], make: Callable[[], Any]) -> ck.Model:
    try:
        layer = make()
        return ck.Model([ck.Input(name="x", shape=x), layer])
    except ValidationError:
        assume(False)  # a configuration the kind's rules refuse (they have tests of their own)
        raise


@pytest.mark.parametrize("family", list(STRATEGIES))
def test_random_configurations_are_exact_everywhere(family: str) -> None:
    @SETTINGS
    @given(STRATEGIES[family])
    def run(drawn: tuple[tuple[int, ...], Callable[[], Any]]) -> None:
        model = _model(*drawn)
        try:
            report = ck.check(model)
        except UnsupportedError:
            return  # no ONNX form runtimes agree on (e.g. a ceil_mode that drops a last window), refused with why
        assert report.passed, report.format()
        spec = model_to_spec(model)
        assert model_to_spec(model_from_spec(json.loads(json.dumps(spec)))) == spec
        first = ck.to_onnx(model)
        if _reads_back_as_other_kinds(model):
            # known gaps of the ONNX import (issue 13 completes round trips; tests/cases.py lists them as Gap rows):
            # a Scale beyond the channels (its bias Add no kind reads) or of one element (read as a Power), LRN within
            # channels (its chain reads back as Eltwise, Pooling and Power layers), and an
            # Exp whose outer factor base^shift (base != e) has no exact float32 shift (read as Exp + Power). Each
            # reads back with the same numbers (to float32 rounding), or is refused with the op it cannot read.
            try:
                back = from_onnx(first)
            except UnsupportedError as exc:
                assert "cannot import: Add" in str(exc), exc
            else:
                # the other kinds compute in their own order: equal to float32 rounding
                np.testing.assert_allclose(
                    ck.run(back)[model.outputs[0]], ck.run(model)[model.outputs[0]], rtol=1e-6, atol=1e-7
                )
        else:
            back = from_onnx(first)
            assert ck.to_onnx(back).SerializeToString() == first.SerializeToString()
        _caffe_reads_back_with_the_same_numbers(model)

    run()


def _reads_back_as_other_kinds(model: ck.Model) -> bool:
    layer = model.layers[-1]
    if layer.kind == "Exp":
        return layer.base != -1.0 and layer.shift != 0.0
    if layer.kind == "LRN":
        return layer.norm_region == "within_channel"  # its Mul/AveragePool/Pow chain reads back as those kinds
    if layer.kind == "Scale":
        x = model.types[model.inputs[0]]
        return (layer.axis, layer.num_axes) != (1, 1) or x.shape[1] == 1
    return False


def _caffe_reads_back_with_the_same_numbers(model: ck.Model) -> None:
    import tempfile
    import warnings

    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/m.prototxt"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # e.g. values written for a Caffe default
                save_caffe(model, path)
        except UnsupportedError:
            return  # a configuration stock Caffe cannot say, refused on purpose with its reason
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            back = load_caffe(path, weights=f"{folder}/m.caffemodel")
    feeds = random_inputs(model, 3)
    want = run_model(model, feeds)
    got = run_model(back, {back.inputs[0]: feeds[model.inputs[0]]})
    for name, value in want.items():
        match = got.get(name)
        if match is None:  # a model output copied under another name by the Caffe writer
            (match,) = [v for k, v in got.items() if v.shape == value.shape][:1]
        np.testing.assert_allclose(match, value, rtol=1e-5, atol=1e-5, equal_nan=True)
