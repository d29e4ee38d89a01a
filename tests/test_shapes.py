"""Shape arithmetic against formulas written out independently, and onnxruntime's measured behaviour."""

from __future__ import annotations

import pytest

from convertkit import shapes


def test_seed_example_sizes():
    # Seed: 5x5 -> conv k3 s2 valid -> 2x2, and 2x2 -> transposed -> 5x5.
    assert shapes.conv_output_size(5, 3, 2) == 2
    assert shapes.conv_transpose_output_size(2, 3, 2) == 5
    assert shapes.caffe_deconv_output_size(2, 3, 2, 0) == 5


def test_caffe_deconvolution_test_facts():
    # Caffe's test_deconvolution_layer: bottom 2x3x6x4, kernel 3, stride 2 -> top 2x4x13x9.
    assert shapes.caffe_deconv_output_size(6, 3, 2) == 13
    assert shapes.caffe_deconv_output_size(4, 3, 2) == 9


@pytest.mark.parametrize("i,k,s,pb,pe,d,op", [(4, 3, 2, 1, 0, 1, 1), (7, 5, 3, 2, 2, 2, 2), (1, 1, 1, 0, 0, 1, 0)])
def test_conv_transpose_inverts_conv_size(i, k, s, pb, pe, d, op):
    o = shapes.conv_transpose_output_size(i, k, s, pb, pe, d, op)
    assert o == s * (i - 1) + op + d * (k - 1) + 1 - pb - pe
    assert shapes.conv_output_size(o, k, s, pb, pe, d) == i


def test_onnx_auto_pad_matches_measured_onnxruntime():
    # Measured with onnxruntime 1.32 on i=3, k=3, s=2 (total pad 1): SAME_UPPER crops the end, SAME_LOWER the start.
    assert shapes.onnx_auto_pad_pads(3, 3, 2, 1, 0, "SAME_UPPER") == (0, 1, 0)
    assert shapes.onnx_auto_pad_pads(3, 3, 2, 1, 0, "SAME_LOWER") == (1, 0, 0)
    assert shapes.onnx_auto_pad_pads(3, 3, 2, 1, 0, "VALID") == (0, 0, 0)
    assert shapes.onnx_auto_pad_pads(3, 3, 2, 1, 1, "SAME_UPPER") == (1, 1, 1)
    # Kernel smaller than stride: onnxruntime keeps the unpadded size (5), not i * s (6).
    assert shapes.onnx_auto_pad_pads(3, 1, 2, 1, 0, "SAME_UPPER") == (0, 0, 0)


def test_onnx_output_shape_pads():
    assert shapes.onnx_output_shape_pads(3, 3, 2, 1, 0, 6) == (1, 0, 0)
    assert shapes.onnx_output_shape_pads(3, 3, 2, 1, 0, 6, "SAME_UPPER") == (0, 1, 0)
    assert shapes.onnx_output_shape_pads(3, 3, 2, 1, 0, 4) == (2, 1, 0)
    assert shapes.onnx_output_shape_pads(3, 3, 2, 1, 0, 8) == (0, 0, 1)


def test_tensorflow_conventions():
    # SAME, i=2, k=3, s=2, o=4: forward pads (0, 1) -> keep the first 4 of the 5-row scatter.
    assert shapes.tf_conv_transpose_pads(2, 3, 2, 1, 4, "SAME") == (0, 1, 0)
    # VALID, o = 6 > scatter 5: one zero row appended.
    assert shapes.tf_conv_transpose_pads(2, 3, 2, 1, 6, "VALID") == (0, 0, 1)
    assert shapes.tf_conv_transpose_pads(2, 3, 2, 1, 5, "VALID") == (0, 0, 0)
    # SAME with k=4, s=2, i=3, o=6: forward total (3-1)*2+4-6 = 2 -> (1, 1).
    assert shapes.tf_conv_transpose_pads(3, 4, 2, 1, 6, "SAME") == (1, 1, 0)
    with pytest.raises(ValueError, match="maps back"):
        shapes.tf_conv_transpose_pads(2, 3, 2, 1, 9, "SAME")


def test_pytorch_convention():
    assert shapes.pytorch_conv_transpose_pads(1, 1) == (1, 1, 1)
    assert shapes.conv_transpose_output_size(2, 3, 2, 1, 1, 1, 1) == 4


def test_resize_size():
    assert shapes.resize_output_size(5, 1.5) == 7
    assert shapes.resize_output_size(64, 8) == 512
