"""Regenerate the caffemodels of the bad-input corpus: ``python tests/bad_inputs/make_caffe.py``.

Each pairs with ``caffe/good.prototxt`` (a 2 -> 2 channel k4 s2 p1 Deconvolution ``up``); CASES.yaml says what
convertkit must answer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from convertkit.codec.caffe import array_to_blob, pb

HERE = Path(__file__).parent / "caffe"


def _net(*layers: tuple[str, list[np.ndarray]]) -> bytes:
    net = pb.NetParameter()
    for name, blobs in layers:
        lp = net.layer.add()
        lp.name, lp.type = name, "Deconvolution"
        for b in blobs:
            lp.blobs.append(array_to_blob(b))
    return net.SerializeToString()


def main() -> None:
    good = _net(("up", [np.ones((2, 2, 4, 4), np.float32)]))
    files = {
        "truncated.weights.caffemodel": good[: len(good) // 2],
        "shape_mismatch.weights.caffemodel": _net(("up", [np.ones((2, 2, 3, 3), np.float32)])),
        "duplicate.weights.caffemodel": _net(
            ("up", [np.ones((2, 2, 4, 4), np.float32)]), ("up", [np.zeros((2, 2, 4, 4), np.float32)])
        ),
        "nan.weights.caffemodel": _net(("up", [np.full((2, 2, 4, 4), np.nan, np.float32)])),
    }
    for name, data in files.items():
        (HERE / name).write_bytes(data)
        print("wrote", HERE / name)


if __name__ == "__main__":
    main()
