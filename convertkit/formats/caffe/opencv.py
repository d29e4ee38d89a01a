"""Run a Caffe net (prototxt + caffemodel) in OpenCV's dnn module: a real Caffe runtime as a peer.

OpenCV (``opencv-python-headless`` 4.x; 5.x dropped the Caffe reader) addresses outputs by *layer name* and
returns that layer's first top, so each requested blob must be the first top of the layer that writes it; its
Caffe reader names some layers (Convolution in 4.x) after their top instead, which the child resolves.

OpenCV runs in a child process (``_opencv_child.py``, the same Python) with the inputs and outputs as ``.npy``
files in a temporary folder: OpenCV crashes (a segmentation fault) on some inputs, and that must be a
:class:`~convertkit.errors.ConvertkitError` naming OpenCV, the net and the signal, never a dead convertkit.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from ... import layers as _layers  # noqa: F401  (registers the layer kinds)
from ...codec.caffe import CaffeLayer, read_prototxt
from ...codec.caffemodel import write_caffemodel
from ...comparison import CheckReport, compare, random_inputs
from ...errors import ConvertkitError, FormatError, UnsupportedError
from ...ir import Model
from ...registry import caffe_facet_for_type, caffe_readers

__all__ = ["run_opencv", "output_layer_names", "output_pins", "check_caffe", "refuse_what_opencv_cannot_run"]


#: Seconds one OpenCV forward pass may take before the child is stopped and the run reported as hung.
DEFAULT_TIMEOUT = 900.0

Pin = tuple[str, str, str]  # (Caffe layer name, its first top, its Caffe type): what the child asks OpenCV for


def output_layer_names(prototxt: str, blobs: list[str]) -> dict[str, str]:
    """For each blob, the Caffe layer OpenCV must be asked for (the last layer writing it as its first top)."""
    return {
        blob: pin[0] for blob, pin in zip(blobs, output_pins(read_prototxt(prototxt), blobs, prototxt), strict=True)
    }


def output_pins(net: Any, blobs: list[str], source: str) -> list[Pin]:
    """For each blob, the last layer writing it (in place or not) as its first top: (name, top, type)."""
    writer: dict[str, tuple[Any, int]] = {}
    for layer in net.layer:
        for i, top in enumerate(layer.top):
            writer[top] = (layer, i)
    out = []
    for blob in blobs:
        if blob not in writer:
            raise FormatError(f"{source}: no layer writes blob {blob!r}")
        layer, index = writer[blob]
        if index:
            raise UnsupportedError(
                f"{source}: blob {blob!r} is top {index} of layer {layer.name!r}; OpenCV returns only a layer's "
                "first top, so it cannot be read there (convertkit's writer adds a Split copy for such outputs)"
            )
        out.append((layer.name, blob, layer.type))
    return out


def run_opencv(
    prototxt: str,
    caffemodel: str | None,
    inputs: Mapping[str, np.ndarray],
    outputs: list[str],
    *,
    model: Model | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> dict[str, np.ndarray]:
    """Run the net in OpenCV on ``inputs`` (by input blob name); returns ``outputs`` (blob names).

    OpenCV crashes on a layer that needs blobs and has none, so when ``caffemodel`` is missing or lacks a layer's
    blobs, the blobs convertkit materialises for it (``model``, the prototxt read with the same caffemodel: its
    fillers, or zeros / ``--fill-missing``) go into a temporary caffemodel.  ``model`` is read from the prototxt
    when not given.
    """
    net = read_prototxt(prototxt)
    pins = output_pins(net, outputs, prototxt)
    with tempfile.TemporaryDirectory(prefix="convertkit-opencv-") as tmp:
        if _blobs_missing(net, caffemodel):
            if model is None:
                from .reader import load_caffe

                model = load_caffe(
                    prototxt, weights=caffemodel, input_shapes={k: np.shape(v) for k, v in inputs.items()}
                )
            caffemodel = os.path.join(tmp, "materialised.caffemodel")
            _write_materialised_blobs(net, model, caffemodel, prototxt)
        results = _forward(prototxt, caffemodel, inputs, pins, net=net, timeout=timeout)
    return dict(zip(outputs, results, strict=True))


def _needs_blobs(caffe_type: str) -> bool:
    """Whether layers of ``caffe_type`` carry parameter blobs (their kind's Caffe facet can materialise them)."""
    facet = caffe_facet_for_type(caffe_type)
    return facet is not None and facet.blobs is not None


def _blobs_missing(net: Any, caffemodel: str | None) -> bool:
    """Whether a layer that needs blobs has none in ``caffemodel`` (or there is no caffemodel)."""
    needing = [lp.name for lp in net.layer if _needs_blobs(lp.type)]
    if not needing:
        return False
    if caffemodel is None:
        return True
    from .reader import read_weights

    have = read_weights(caffemodel)
    return any(name not in have for name in needing)


def _write_materialised_blobs(net: Any, model: Model, path: str, prototxt: str) -> None:
    """A caffemodel with the IR's blobs of every blob-carrying layer of ``net``, shaped as the prototxt says."""
    by_name = {layer.name: layer for layer in model.layers}
    entries = []
    for lp in net.layer:
        record = caffe_readers().get(lp.type)
        layer = by_name.get(lp.name)
        if record is None or record.caffe.blobs is None or layer is None or layer.kind != record.name:
            continue  # not in the TEST-phase net convertkit reads
        source = CaffeLayer(lp, list(layer.inputs), list(layer.outputs), model.input_types(layer))
        try:
            arrays = record.caffe.blobs(layer, source)
        except ConvertkitError as exc:
            raise type(exc)(f"{prototxt}: {exc}") from exc
        entries.append((lp.name, lp.type, list(arrays)))
    try:
        with open(path, "wb") as f:
            write_caffemodel(f, None, entries)
    except OSError as exc:
        raise FormatError(f"cannot write {path!r}: {exc.strerror or exc}") from exc


def _forward(
    prototxt: str,
    caffemodel: str | None,
    inputs: Mapping[str, np.ndarray],
    pins: list[Pin],
    *,
    net: Any = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[np.ndarray]:
    """One forward pass of ``prototxt`` (+ ``caffemodel``) in OpenCV, in a child process; the outputs of ``pins``."""
    _check_opencv()
    refuse_what_opencv_cannot_run(
        read_prototxt(prototxt) if net is None else net, {k: np.ndim(v) for k, v in inputs.items()}, prototxt
    )
    what = f"{prototxt}" + (f" with {caffemodel}" if caffemodel else "")
    with tempfile.TemporaryDirectory(prefix="convertkit-opencv-run-") as tmp:
        request = {
            "prototxt": os.path.abspath(prototxt),
            "caffemodel": os.path.abspath(caffemodel) if caffemodel else None,
            "inputs": list(inputs),
            "outputs": [list(p) for p in pins],
        }
        for i, value in enumerate(inputs.values()):
            np.save(os.path.join(tmp, f"in_{i}.npy"), np.ascontiguousarray(value, dtype=np.float32))
        with open(os.path.join(tmp, "request.json"), "w", encoding="utf-8") as f:
            json.dump(request, f)
        status, stderr = _WORKER.run(tmp, timeout, what)
        if status in (3, 4) and os.path.exists(os.path.join(tmp, "error.txt")):
            with open(os.path.join(tmp, "error.txt"), encoding="utf-8") as f:
                raise ConvertkitError(f"OpenCV cannot run {what}: {f.read()}")
        if status != 0:
            raise ConvertkitError(f"OpenCV crashed running {what}: {_exit_reason(status, stderr)}")
        return [np.load(os.path.join(tmp, f"out_{i}.npy")) for i in range(len(pins))]


#: Test hook: a signal number the child kills itself with before running OpenCV (read per call).
CRASH_HOOK = "CONVERTKIT_TEST_OPENCV_CHILD_SIGNAL"


class _Worker:
    """One long-lived child (``_opencv_child.py``, or ``argv``) serving forward passes; restarted after a crash
    or a hang.  :mod:`convertkit.runtime` runs the ONNX peers (OpenCV, OpenVINO, onnx2torch) with it too."""

    def __init__(self, argv: list[str] | None = None) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.stderr: Any = None
        self.argv = argv or [os.path.join(os.path.dirname(os.path.abspath(__file__)), "_opencv_child.py")]

    def _start(self) -> subprocess.Popen[bytes]:
        if self.proc is None or self.proc.poll() is not None:
            self.stderr = tempfile.TemporaryFile()
            self.proc = subprocess.Popen(
                [sys.executable, *self.argv], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr
            )
        return self.proc

    def run(self, folder: str, timeout: float, what: str) -> tuple[int, bytes]:
        """Send ``folder``; its status, or (negative signal / exit status, the child's stderr) if it died."""
        import selectors

        hook = os.environ.get(CRASH_HOOK)
        if hook:
            path = os.path.join(folder, "request.json")
            with open(path, encoding="utf-8") as f:
                request = json.load(f)
            request["test_signal"] = int(hook)
            with open(path, "w", encoding="utf-8") as f:
                json.dump(request, f)
        proc = self._start()
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(folder.encode() + b"\n")
            proc.stdin.flush()
        except BrokenPipeError:
            pass
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            ready = sel.select(timeout)
        if not ready:
            self.stop()
            raise ConvertkitError(
                f"OpenCV did not finish running {what} within {timeout:g} s; its child process was stopped"
            )
        line = proc.stdout.readline()
        if line.strip():
            return int(line), b""
        returncode = proc.wait()
        self.stderr.seek(0)
        stderr = self.stderr.read()
        self._close()
        return returncode if returncode != 0 else -1, stderr

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self._close()

    def _close(self) -> None:
        """Close the dead child's pipes and stderr file (no ResourceWarning), forget it."""
        if self.proc is not None:
            for stream in (self.proc.stdin, self.proc.stdout):
                if stream is not None:
                    try:
                        stream.close()
                    except OSError:  # a broken pipe's flush
                        pass
            self.proc = None
        if self.stderr is not None:
            self.stderr.close()
            self.stderr = None


_WORKER = _Worker()
atexit.register(_WORKER.stop)


def _exit_reason(returncode: int, stderr: bytes) -> str:
    """'killed by signal 11 (SIGSEGV)' or 'exit status N', with the last line of the child's stderr."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "unknown signal"
        reason = f"its process was killed by signal {-returncode} ({name})"
    else:
        reason = f"its process ended with exit status {returncode}"
    lines = [line for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    return reason + (f"; last message: {lines[-1].strip()}" if lines else "")


def _check_opencv() -> None:
    """Raise :class:`UnsupportedError` unless OpenCV 4.x with its Caffe reader is installed (checked once)."""
    global _OPENCV_OK
    if _OPENCV_OK:
        return
    try:
        import cv2
    except ImportError as exc:
        raise UnsupportedError(
            "the opencv backend needs OpenCV's Caffe reader: pip install 'opencv-python-headless<5'"
        ) from exc
    if not hasattr(cv2, "dnn") or not hasattr(cv2.dnn, "readNetFromCaffe"):
        raise UnsupportedError(
            f"OpenCV {cv2.__version__} has no Caffe reader (5.x removed it): pip install 'opencv-python-headless<5'"
        )
    _OPENCV_OK = True


_OPENCV_OK = False


def refuse_what_opencv_cannot_run(net: Any, input_ranks: Mapping[str, int], source: str) -> None:
    """Raise, naming the layer, for a valid Caffe net that OpenCV's Caffe reader would crash on or mis-run.

    ``input_ranks`` gives the rank of each net input; other blobs take the rank of their layer's first bottom
    (true of every layer type convertkit reads).
    """
    rank: dict[str, int] = dict(input_ranks)
    for name, shape in zip(net.input, net.input_shape, strict=False):
        rank.setdefault(name, len(shape.dim))
    for name in net.input:
        rank.setdefault(name, 4)  # input_dim: always N, C, H, W
    for lp in net.layer:
        if lp.type == "Input":
            shapes = list(lp.input_param.shape)
            for i, top in enumerate(lp.top):
                if shapes:
                    rank.setdefault(top, len(shapes[min(i, len(shapes) - 1)].dim))
            continue
        r = rank.get(lp.bottom[0]) if len(lp.bottom) else None
        facet = caffe_facet_for_type(lp.type)
        if facet is not None and facet.opencv_refusal is not None:
            why = facet.opencv_refusal(CaffeLayer(lp, list(lp.bottom), list(lp.top), []), r)
            if why is not None:
                raise UnsupportedError(f"{source}: layer {lp.name!r} ({lp.type}): {why}")
        for top in lp.top:
            if r is not None:
                rank[top] = r


def check_caffe(
    model: Model,
    inputs: Mapping[str, np.ndarray] | None = None,
    *,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    seed: int = 0,
    dialect: str = "bvlc",
) -> CheckReport:
    """Export ``model`` to Caffe, run it in OpenCV and compare every output with the NumPy reference."""
    from ...reference.interpreter import check_inputs, run_model
    from .writer import save_caffe

    feeds = check_inputs(model, random_inputs(model, seed) if inputs is None else inputs)
    with tempfile.TemporaryDirectory(prefix="convertkit-caffe-") as tmp:
        prototxt = os.path.join(tmp, "net.prototxt")
        exported = save_caffe(model, prototxt, dialect=dialect)  # type: ignore[arg-type]
        refuse_what_opencv_cannot_run(exported.net, {k: np.ndim(v) for k, v in feeds.items()}, "the Caffe export")
        by_name = {lp.name: lp for lp in exported.net.layer}
        pins = [
            (name, by_name[name].top[0], by_name[name].type)
            for name in (exported.output_layers[o] for o in model.outputs)
        ]
        got = _forward(prototxt, os.path.join(tmp, "net.caffemodel"), feeds, pins, net=exported.net)
    expected = run_model(model, feeds)
    reports = tuple(compare(o, expected[o], got[i], atol, rtol) for i, o in enumerate(model.outputs))
    return CheckReport(reports, atol, rtol, seed, backends=("reference", "opencv (Caffe)"))
