"""The ``convertkit`` command line: parse, call the library, print, map errors to exit codes.

Exit codes: 0 ok, 1 a check failed, 2 user error (one line on stderr, never a traceback).
Heavy modules (onnx, onnxruntime) are imported only by the commands that need them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any

EXIT_OK, EXIT_CHECK_FAILED, EXIT_USER_ERROR = 0, 1, 2


class _UserError(Exception):
    pass


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"a seed is a non-negative integer, got {text!r}")
    return value


def _tolerance(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (value >= 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"a tolerance is a finite number >= 0, got {text!r}")
    return value


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse's own usage errors exit 2, as ours do
        self.print_usage(sys.stderr)
        self.exit(EXIT_USER_ERROR, f"{self.prog}: error: {message}\n")


def _add_input_shape(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--input-shape",
        action="append",
        default=[],
        metavar="NAME=N,C,H,W",
        help="static shape of a graph input: an ONNX input with symbolic dimensions, a Caffe data layer's top",
    )
    p.add_argument(
        "--keep-layout",
        choices=("nchw", "nhwc"),
        default=None,
        help="a channels-last model's interface (.keras/.h5: default nchw, no Transpose; nhwc keeps Keras's "
        "layout with a Transpose at the boundary; .onnx: nchw turns a tf2onnx NHWC boundary around)",
    )


def _add_cut(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("a part of the network (.prototxt blobs, .onnx values)")
    g.add_argument(
        "--inputs",
        nargs="+",
        action="extend",
        default=[],
        metavar="NAME[=N,C,H,W]",
        help="cut the network at these values: they become the inputs (an inner value's shape is computed from "
        "the layers upstream of it when convertkit reads them; else give it)",
    )
    g.add_argument(
        "--outputs",
        nargs="+",
        action="extend",
        default=[],
        metavar="NAME",
        help="the outputs of the part to convert (default: the network's own); layers outside are ignored",
    )


def _cut_options(args: argparse.Namespace) -> dict[str, Any]:
    """``--inputs``/``--outputs`` as load options (``inputs`` maps each name to its shape or None)."""
    out: dict[str, Any] = {}
    given = getattr(args, "inputs", [])
    if given:
        inputs: dict[str, tuple[int, ...] | None] = {}
        for item in given:
            name, sep, _ = item.partition("=")
            if not name:
                raise _UserError(f"--inputs takes NAME or NAME=N,C,H,W, got {item!r}")
            inputs[name] = _parse_input_shapes([item])[name] if sep else None
        out["inputs"] = inputs
    if getattr(args, "outputs", []):
        out["outputs"] = list(args.outputs)
    return out


def _add_caffe_options(p: argparse.ArgumentParser, *, writer: bool = False) -> None:
    g = p.add_argument_group("Caffe (.prototxt)")
    g.add_argument("--weights", metavar="NET.caffemodel", help="trained blobs for a .prototxt source")
    _add_choice(
        g,
        "--fill-missing",
        ("zeros", "bilinear"),
        "a Deconvolution with neither weights nor filler: Caffe's zeros (default) or FCN's bilinear kernels",
    )
    g.add_argument("--compact", action="store_true", help="emit diagonal full deconvolutions as grouped ones")
    g.add_argument(
        "--caffe-dialect",
        choices=READ_DIALECTS,
        default=None,
        help="the Caffe of the .prototxt files read and written: bvlc (stock), pspnet (writes may also use the "
        "fork's Interp: bilinear, align_corners), segnet (writes SegNet's Upsample for max-unpooling), "
        "fcn (reads a Crop without crop_param, and AutoCrop, with the "
        "offsets its coordinate maps give, as the FCN-era fork of HED and CRF-as-RNN did; writes stock layers); "
        "default: detected on reading, bvlc on writing",
    )
    if writer:
        g.add_argument("--seed", type=_seed, default=None, help="seed of random fillers (default 0)")
        g.add_argument("--no-weights", action="store_true", help="write the .prototxt without its .caffemodel")


#: ``--caffe-dialect`` values (the dialects of the prototxt read; written ones map through :func:`_write_dialect`).
READ_DIALECTS = ("bvlc", "pspnet", "segnet", "fcn")


def _write_dialect(args: argparse.Namespace) -> Any:
    """The dialect a Caffe export uses: ``pspnet`` or ``segnet`` when asked, else stock layers (``fcn`` reads
    only)."""
    dialect = getattr(args, "caffe_dialect", None)
    return dialect if dialect in ("pspnet", "segnet") else "bvlc"


def _add_optimize(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--optimize",
        choices=("speed", "none"),
        default="speed",
        help="ONNX export: upsample-like layers in their fastest exactly equal form (speed, default) or literally",
    )


def _add_choice(g: argparse._ArgumentGroup, flag: str, choices: tuple[str, ...], help_: str) -> None:
    """An option taking one of ``choices``, the first by default."""
    g.add_argument(flag, choices=choices, default=choices[0], help=help_)


def _load(path: str, args: argparse.Namespace) -> Any:
    """``convertkit.load`` with the ``--input-shape`` options (ONNX files) and the Caffe options (.prototxt)."""
    import convertkit as ck

    pairs = getattr(args, "input_shape", [])
    cut = _cut_options(args)
    layout = getattr(args, "keep_layout", None)
    if path.lower().endswith((".keras", ".h5")):
        if cut:
            raise _UserError("--inputs and --outputs do not apply to Keras models (convertkit reads them whole)")
        return ck.load(path, input_shapes=_parse_input_shapes(pairs) if pairs else None, keep_layout=layout)
    if layout is not None and not path.lower().endswith(".onnx"):
        raise _UserError("--keep-layout applies to .keras, .h5 and .onnx models only")
    if path.lower().endswith(".prototxt"):
        return ck.load(
            path,
            **cut,
            weights=getattr(args, "weights", None),
            input_shapes=_parse_input_shapes(pairs),
            fill_missing=getattr(args, "fill_missing", "zeros"),
            seed=getattr(args, "seed", 0),
            compact=getattr(args, "compact", False),
            dialect=getattr(args, "caffe_dialect", None),
        )
    caffe_only = [
        flag
        for flag, given in (
            ("--weights", getattr(args, "weights", None)),
            ("--fill-missing", getattr(args, "fill_missing", "zeros") != "zeros"),
            ("--compact", getattr(args, "compact", False)),
            ("--seed", args.command == "convert" and getattr(args, "seed", None) is not None),
            (
                "--caffe-dialect",
                args.command in ("run", "validate", "explain") and getattr(args, "caffe_dialect", None),
            ),
        )
        if given
    ]
    if caffe_only:
        raise _UserError(f"{', '.join(caffe_only)} apply to a .prototxt source only")
    if (pairs or cut) and not path.lower().endswith(".onnx"):
        raise _UserError(
            "--input-shape, --inputs and --outputs apply to .onnx and .prototxt models only; a spec declares its "
            "input shapes"
        )
    if layout is not None:
        cut["keep_layout"] = layout
    if not pairs and not cut:
        return ck.load(path)
    return ck.load(path, input_shapes=_parse_input_shapes(pairs) if pairs else None, **cut)


def _parse_input_shapes(pairs: Sequence[str]) -> dict[str, tuple[int, ...]]:
    """``--input-shape`` values ``NAME=N,C,H,W`` -> ``{NAME: (N, C, H, W)}``."""
    out: dict[str, tuple[int, ...]] = {}
    for pair in pairs:
        name, sep, dims = pair.partition("=")
        try:
            shape = tuple(int(d) for d in dims.replace("x", ",").split(",") if d.strip())
        except ValueError:
            shape = ()
        if not sep or not name or not shape or any(d < 1 for d in shape):
            raise _UserError(f"--input-shape takes NAME=N,C,H,W with positive integers, got {pair!r}")
        out[name] = shape
    return out


def _add_max_memory(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--max-memory",
        metavar="SIZE",
        default=None,
        help="memory budget for the model's tensors, e.g. 4G or 512M (default: 75%% of the available memory)",
    )


def _add_quiet(p: argparse.ArgumentParser) -> None:
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar (shown on a terminal only)")


def _add_target(p: argparse.ArgumentParser) -> None:
    from .portability import RUNTIME_TARGETS

    p.add_argument(
        "--target",
        choices=RUNTIME_TARGETS,
        default="portable",
        help="the runtime an ONNX export is for (default portable: a form every runtime runs; README: targets)",
    )


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="convertkit",
        description="Exact conversion of deconvolution and upsample layers between specs, ONNX and Caffe.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("convert", help="convert SRC (spec, .onnx or .prototxt) to DST (.onnx, .json, .yaml, .prototxt)")
    p.add_argument("src", metavar="SRC")
    _add_input_shape(p)
    _add_cut(p)
    p.add_argument("-o", "--output", required=True, metavar="DST")
    p.add_argument("--no-clobber", action="store_true", help="refuse to replace an existing output file")
    p.add_argument(
        "--opset", type=int, default=None, help="ONNX opset (default: an ONNX source's, else 19; supported 13..22)"
    )
    _add_target(p)
    _add_optimize(p)
    p.add_argument(
        "--external-data",
        action="store_true",
        help="write an .onnx output's weights to DST.data beside it (automatic above ONNX's 2 GB limit)",
    )
    _add_quiet(p)
    _add_caffe_options(p, writer=True)
    _add_max_memory(p)

    p = sub.add_parser("run", help="run MODEL (spec, .onnx or .prototxt) and summarise its outputs")
    p.add_argument("model", metavar="MODEL")
    _add_input_shape(p)
    _add_cut(p)
    p.add_argument("--input", action="append", default=[], metavar="NAME=FILE.npy", help="feed an input")
    p.add_argument(
        "--backend",
        choices=("onnxruntime", "reference", "opencv", "openvino", "torch"),
        default="onnxruntime",
        help="opencv: a .prototxt (+ --weights) in OpenCV's Caffe reader, an ONNX model in its ONNX importer; "
        "openvino, torch (onnx2torch): ONNX models (optional peers)",
    )
    _add_target(p)
    p.add_argument("-o", "--output", metavar="OUT.npz", help="save every output by name")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the random inputs (default 0)")
    p.add_argument("--opset", type=int, default=None)
    _add_quiet(p)
    _add_caffe_options(p)
    _add_max_memory(p)

    p = sub.add_parser("check", help="run onnxruntime and the NumPy reference on SRC and compare")
    p.add_argument("src", metavar="SRC")
    _add_input_shape(p)
    _add_cut(p)
    p.add_argument("--atol", type=_tolerance, default=1e-5)
    p.add_argument("--rtol", type=_tolerance, default=1e-4)
    p.add_argument("--seed", type=_seed, default=0)
    p.add_argument("--input", action="append", default=[], metavar="NAME=FILE.npy")
    p.add_argument("--opset", type=int, default=None)
    _add_optimize(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    _add_target(p)
    p.add_argument(
        "--backends",
        metavar="all|NAME,...",
        help="also run the ONNX model in these runtimes (all: every one; opencv, openvino, torch, onnxruntime) "
        "and print one row each against the reference",
    )
    p.add_argument(
        "--repro-dir",
        default="convertkit-check-failure",
        metavar="DIR",
        help="where a failed check leaves its reproduction (default ./convertkit-check-failure)",
    )
    _add_caffe_options(p)
    p.add_argument(
        "--caffe", action="store_true", help="also export to Caffe and run it in OpenCV's Caffe reader (the peer)"
    )
    _add_max_memory(p)

    p = sub.add_parser("validate", help="check a model (spec, .onnx or .prototxt) against the layer rules")
    p.add_argument("spec", metavar="MODEL")
    _add_input_shape(p)
    _add_cut(p)
    _add_caffe_options(p)
    _add_max_memory(p)

    p = sub.add_parser("schema", help="print the JSON Schema of the spec format")
    _add_optimize_parser(sub)
    _add_explain_parser(sub)
    return parser


def _read_inputs(pairs: Sequence[str]) -> dict[str, Any]:
    import numpy as np

    feeds = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep or not name or not path:
            raise _UserError(f"--input takes NAME=FILE.npy, got {pair!r}")
        try:
            loaded = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise _UserError(f"cannot read input {name!r} from {path!r}: {exc}") from exc
        if not isinstance(loaded, np.ndarray):
            loaded.close()
            raise _UserError(f"input {name!r}: {path!r} is an .npz archive; --input takes one .npy file per input")
        feeds[name] = loaded
    return feeds


def _write_npz(path: str, arrays: dict[str, Any]) -> None:
    """Save ``arrays`` by name to exactly ``path`` (np.savez appends .npz and reserves the names file/allow_pickle)."""
    import io
    import zipfile

    import numpy as np

    buffer = io.BytesIO()  # built in memory: the target may be a pipe or /dev/null, which zipfile cannot seek
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, arr in arrays.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asanyarray(arr), allow_pickle=False)
    from .codec.files import write_atomically

    write_atomically({path: buffer.getvalue()})  # a temporary renamed on success (a pipe is written directly)


def _summary(name: str, arr: Any) -> str:
    import numpy as np

    a = np.asarray(arr, dtype=np.float64)
    shape = "x".join(map(str, arr.shape))
    if a.size == 0:
        return f"{name}: {shape} {arr.dtype} (empty)"
    return f"{name}: {shape} {arr.dtype}  min {a.min():.6g}  max {a.max():.6g}  mean {a.mean():.6g}  std {a.std():.6g}"


def _cmd_convert(args: argparse.Namespace) -> int:
    import convertkit as ck

    model = _load(args.src, args)
    to_caffe = args.output.lower().endswith(".prototxt")
    if not to_caffe and args.no_weights:
        raise _UserError("--no-weights applies to a .prototxt output only")
    if not to_caffe and args.caffe_dialect is not None and not args.src.lower().endswith(".prototxt"):
        raise _UserError("--caffe-dialect applies to a .prototxt source or output only")
    _refuse_to_destroy(args, model, to_caffe)
    _warn_if_too_big_to_run(model)
    if args.external_data and not args.output.lower().endswith(".onnx"):
        raise _UserError("--external-data applies to an .onnx output only")
    if args.target != "portable" and not args.output.lower().endswith(".onnx"):
        raise _UserError("--target applies to an .onnx output only")
    if to_caffe:
        ck.save(model, args.output, opset=args.opset, with_weights=not args.no_weights, dialect=_write_dialect(args))
    else:
        options: dict[str, Any] = (
            {"target": args.target, "optimize": args.optimize} if args.output.lower().endswith(".onnx") else {}
        )
        ck.save(model, args.output, opset=args.opset, external_data=args.external_data or None, **options)
    written = args.output
    if args.external_data:
        from .formats.onnx import external_data_path

        written += f" and {external_data_path(args.output)}"
    if to_caffe and not args.no_weights:
        from .formats.caffe import caffemodel_path

        written += f" and {caffemodel_path(args.output)}"
    print(f"wrote {written} ({len(model.layers)} layers, outputs: {', '.join(model.outputs)})")
    return EXIT_OK


def _warn_if_too_big_to_run(model: Any) -> None:
    """Converting needs only the weights; say when the declared shapes could not run here (check would refuse)."""
    from .budget import MemoryBudgetWarning, budget, estimate, format_bytes

    est = estimate(model)
    limit, _ = budget()
    if limit is not None and est.reference > limit:
        warnings.warn(
            f"the declared shapes need about {format_bytes(est.reference)} to run (the largest is "
            f"{est.largest_layer}: {est.largest_what}), more than the {format_bytes(limit)} this machine allows; "
            "the file is written, but check and run would refuse it here — check the declared input shapes",
            MemoryBudgetWarning,
            stacklevel=1,
        )


def _refuse_to_destroy(args: argparse.Namespace, model: Any, to_caffe: bool) -> None:
    """An output that is one of the sources (the model, its --weights, a spec's .npy) is refused; with
    --no-clobber so is any existing output.  Outputs are replaced atomically otherwise."""
    import dataclasses

    from .fillers import Values
    from .formats.caffe import caffemodel_path

    outputs = [args.output]
    if to_caffe and not args.no_weights:
        outputs.append(caffemodel_path(args.output))
    sources = [args.src, *([args.weights] if getattr(args, "weights", None) else [])]
    for layer in model.layers:  # a spec's .npy weights
        for f in dataclasses.fields(layer):
            value = getattr(layer, f.name)
            if isinstance(value, Values) and value.path:
                sources.append(value.path)
    real = {os.path.realpath(s): s for s in sources}
    for out in outputs:
        if os.path.realpath(out) in real:
            raise _UserError(
                f"refusing to write {out!r}: it is the source {real[os.path.realpath(out)]!r} of this conversion; "
                "choose another -o"
            )
        if args.no_clobber and os.path.exists(out):
            raise _UserError(f"refusing to replace {out!r} (--no-clobber); remove it or choose another -o")


def _cmd_run(args: argparse.Namespace) -> int:

    import convertkit as ck

    feeds = _read_inputs(args.input)
    if args.backend == "opencv" and args.model.lower().endswith(".prototxt"):
        outputs = _run_opencv(args, feeds)
    elif args.model.lower().endswith(".onnx") and not _cut_options(args) and args.keep_layout is None:
        outputs = _run_onnx_file(args, feeds)
    elif args.backend in ("onnxruntime", "reference"):
        model = _load(args.model, args)
        outputs = ck.run(model, feeds or None, backend=args.backend, seed=args.seed, opset=args.opset)
    else:
        from .check import random_inputs
        from .formats.onnx import to_onnx
        from .reference.interpreter import check_inputs
        from .runtime import run_backend

        model = _load(args.model, args)
        feeds = check_inputs(model, feeds or random_inputs(model, args.seed))
        outputs = run_backend(args.backend, to_onnx(model, args.opset, target=args.target), feeds, model)
    print(f"backend: {args.backend}")
    for name, arr in outputs.items():
        print(_summary(name, arr))
    if args.output:
        _write_npz(args.output, outputs)
        print(f"saved {len(outputs)} output(s) to {args.output}")
    return EXIT_OK


def _run_opencv(args: argparse.Namespace, feeds: dict[str, Any]) -> dict[str, Any]:
    from .check import random_inputs
    from .formats.caffe.opencv import run_opencv
    from .reference.interpreter import check_inputs

    if not args.model.lower().endswith(".prototxt"):
        raise _UserError("--backend opencv runs a .prototxt (with --weights NET.caffemodel)")
    if _cut_options(args):
        raise _UserError("--backend opencv runs the whole .prototxt; --inputs/--outputs apply to the other backends")
    model = _load(args.model, args)
    feeds = check_inputs(model, feeds or random_inputs(model, args.seed))
    return run_opencv(args.model, args.weights, feeds, list(model.outputs), model=model)


def _run_onnx_file(args: argparse.Namespace, feeds: dict[str, Any]) -> dict[str, Any]:
    import numpy as np

    from .formats.onnx import load_onnx_model
    from .runtime import onnx_input_types, run_onnx

    if args.opset is not None:
        raise _UserError("--opset applies when convertkit exports a model; an .onnx model runs as it is")
    proto = load_onnx_model(args.model)
    if args.backend == "reference":
        import convertkit as ck

        model = _load(args.model, args)
        return ck.run(model, feeds or None, backend="reference", seed=args.seed)
    if not feeds:
        from .budget import budget, format_bytes

        rng = np.random.default_rng(args.seed)
        declared = onnx_input_types(proto, _parse_input_shapes(args.input_shape))
        need = sum(int(np.prod(s, dtype=np.float64)) * np.dtype(dt).itemsize for s, dt in declared.values())
        limit, source = budget()
        if limit is not None and need > limit:
            shown = ", ".join(f"{n}: {np.dtype(dt).name}[{'x'.join(map(str, s))}]" for n, (s, dt) in declared.items())
            raise _UserError(
                f"{args.model}: its inputs alone ({shown}) need {format_bytes(need)}, over the memory budget of "
                f"{format_bytes(limit)} ({source}); declare smaller input shapes"
            )
        feeds = {n: rng.standard_normal(s).astype(dt) for n, (s, dt) in declared.items()}
    _check_onnx_feeds(proto, feeds)
    if args.backend != "onnxruntime":
        from .runtime import run_backend

        return run_backend(args.backend, proto, feeds)
    return run_onnx(proto, feeds)


def _check_onnx_feeds(proto: Any, feeds: dict[str, Any]) -> None:
    """Name, shape and dtype of every feed against the ONNX graph's declared inputs (symbolic dims match any)."""
    import numpy as np

    from .codec.onnx import declared_type

    inits = {i.name for i in proto.graph.initializer}
    declared = {vi.name: vi for vi in proto.graph.input if vi.name not in inits}
    unknown = sorted(set(feeds) - set(declared))
    missing = sorted(set(declared) - set(feeds))
    if unknown or missing:
        raise _UserError(
            f"the ONNX model's inputs are {', '.join(declared)}; "
            + (f"unknown: {', '.join(unknown)}" if unknown else f"missing: {', '.join(missing)}")
        )
    for name, vi in declared.items():
        dims, dtype = declared_type(vi)
        shape = tuple(feeds[name].shape)
        known = [d if isinstance(d, int) and d > 0 else None for d in dims or ()]
        if len(known) != len(shape) or any(d is not None and d != s for d, s in zip(known, shape, strict=False)):
            shown = ["?" if d is None else d for d in known]
            raise _UserError(f"input {name!r} has shape {list(shape)}, the ONNX model declares {shown}")
        if feeds[name].dtype != np.dtype(dtype):
            raise _UserError(f"input {name!r} has dtype {feeds[name].dtype}, the ONNX model declares {dtype}")


def _cmd_check(args: argparse.Namespace) -> int:
    from convertkit.check import check_model, random_inputs
    from convertkit.formats.onnx import to_onnx
    from convertkit.reference.interpreter import check_inputs

    if args.caffe_dialect is not None and not args.caffe and not args.src.lower().endswith(".prototxt"):
        raise _UserError("--caffe-dialect applies with --caffe or a .prototxt source only")
    model = _load(args.src, args)
    exported = not (args.src.lower().endswith(".onnx") and not _cut_options(args) and args.keep_layout is None)
    if not exported:
        from .formats.onnx import load_onnx_model

        if args.opset is not None:
            raise _UserError("--opset applies when convertkit exports a model; an .onnx source is checked as it is")
        onnx_model = load_onnx_model(args.src)
    else:
        onnx_model = to_onnx(model, args.opset, target=args.target, optimize=args.optimize)
    given = _read_inputs(args.input)
    feeds = check_inputs(model, given or random_inputs(model, args.seed))
    report = check_model(  # warns of the known defects of --target's runtimes the ONNX model hits
        model,
        feeds,
        atol=args.atol,
        rtol=args.rtol,
        seed=args.seed,
        opset=args.opset,
        onnx_model=onnx_model,
        target=args.target,
    )
    reports = [report]
    literal_ok = True
    if exported and args.optimize != "none":
        from .check import compare_with_literal

        proof = compare_with_literal(model, onnx_model, feeds, opset=args.opset)
        if proof is not None:
            literal_ok, line = proof
            print(line, file=sys.stderr if args.json else sys.stdout, flush=True)
    if args.caffe:
        from .formats.caffe.opencv import check_caffe

        if not args.json:
            print(report.format(), flush=True)
        reports.append(
            check_caffe(model, feeds, atol=args.atol, rtol=args.rtol, seed=args.seed, dialect=_write_dialect(args))
        )
    rows = _backend_rows(args, model, onnx_model, feeds) if args.backends else []
    if args.json:
        print(json.dumps([r.to_dict() for r in reports] if args.caffe else report.to_dict(), indent=2))
    else:
        print(reports[-1].format())
    for row in rows:
        print(row[0])
    if all(r.passed for r in reports) and all(ok for _, ok in rows) and literal_ok:
        return EXIT_OK
    _save_reproduction(args, model, onnx_model, feeds, caffe_failed=not reports[-1].passed and args.caffe)
    return EXIT_CHECK_FAILED


def _backend_rows(args: argparse.Namespace, model: Any, proto: Any, feeds: dict[str, Any]) -> list[tuple[str, bool]]:
    """``check --backends``: one (row, passed) per runtime, against the reference; an absent peer is a row too."""
    from .comparison import compare
    from .errors import ConvertkitError
    from .portability import defects_hit
    from .reference.interpreter import run_model
    from .runtime import RUNNERS

    names = [n for n in RUNNERS if n != "reference"] if args.backends == "all" else args.backends.split(",")
    unknown = [n for n in names if n not in RUNNERS or n == "reference"]
    if unknown:
        raise _UserError(f"--backends takes all or names from {', '.join(n for n in RUNNERS if n != 'reference')}")
    expected = run_model(model, feeds)
    rows = []
    for name in names:
        known = [d.name for _, d in defects_hit(proto, name)]
        why = RUNNERS[name].missing()
        if why is not None:
            rows.append((f"  {name:<12} not installed ({why})", True))
            continue
        try:
            got = RUNNERS[name].run(proto, feeds, model)
            outs = [compare(o, expected[o], got[o], args.atol, args.rtol) for o in model.outputs]
            worst = max(o.max_abs for o in outs)
            ok = all(o.passed for o in outs)
            text = f"max abs {worst:.3g}  {'PASS' if ok else 'FAIL'}"
        except ConvertkitError as exc:
            ok, text = False, f"ERROR {exc}"
        if not ok and known:
            rows.append((f"  {name:<12} {text} (known defect: {', '.join(sorted(set(known)))})", True))
        else:
            rows.append((f"  {name:<12} {text}", ok))
    return rows


def _save_reproduction(
    args: argparse.Namespace, model: Any, onnx_model: Any, feeds: dict[str, Any], caffe_failed: bool
) -> None:
    """Leave what reproduces a failed check: the exported model(s), the inputs, the reference outputs."""
    import io
    import re

    import numpy as np

    from convertkit.reference.interpreter import run_model

    from .codec.files import write_atomically
    from .errors import FormatError

    folder = args.repro_dir
    flags = []
    files: dict[str, bytes] = {os.path.join(folder, "model.onnx"): onnx_model.SerializeToString()}
    for k, (name, arr) in enumerate(feeds.items()):
        path = os.path.join(folder, f"input{k}_{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.npy")
        buffer = io.BytesIO()
        np.save(buffer, arr)
        files[path] = buffer.getvalue()
        flags.append(f"--input '{name}={path}'")
    try:
        os.makedirs(folder, exist_ok=True)
        write_atomically(files)  # all of them or none
    except (OSError, FormatError) as exc:
        raise _UserError(f"the check failed, and its reproduction cannot be saved in {folder!r}: {exc}") from exc
    _write_npz(os.path.join(folder, "reference.npz"), run_model(model, feeds))
    lines = [
        f"convertkit check: reproduction saved in {folder}/ (model.onnx, inputs, reference.npz):",
        f"  convertkit run {folder}/model.onnx {' '.join(flags)} -o {folder}/onnxruntime.npz",
    ]
    if caffe_failed:
        from .formats.caffe import save_caffe

        prototxt = os.path.join(folder, "model.prototxt")
        save_caffe(model, prototxt, dialect=_write_dialect(args))
        lines.append(
            f"  convertkit run {prototxt} --weights {folder}/model.caffemodel --backend opencv "
            f"{' '.join(flags)} -o {folder}/opencv.npz"
        )
    lines.append(f"  and compare with {folder}/reference.npz")
    print("\n".join(lines), file=sys.stderr)


def _cmd_validate(args: argparse.Namespace) -> int:

    from .budget import budget, format_bytes, require

    model = _load(args.spec, args)
    # what converting and checking it would need, refused here as those steps would refuse it
    need = require(model, "reference")
    require(model, "export")
    limit, source = budget()
    print(f"{args.spec}: valid ({len(model.layers)} layers)")
    print(model.summary())
    print(
        f"memory: parameters {format_bytes(need.parameters)}, reference peak about {format_bytes(need.reference)}"
        + (f" (budget {format_bytes(limit)}: {source})" if limit is not None else "")
    )
    return EXIT_OK


def _cmd_schema(args: argparse.Namespace) -> int:
    from .formats.spec import json_schema

    print(json.dumps(json_schema(), indent=2))
    return EXIT_OK


# -- explain (issue 11): one self-contained block -------------------------------------------------------------------
_EXPLAIN_FLAGS = ("input", "kernel", "stride", "pad", "dilation", "output_padding", "group", "channels", "out_channels")


def _add_explain_parser(sub: Any) -> None:
    p = sub.add_parser(
        "explain",
        help="explain one deconvolution or upsample: sizes per convention, the symbolic scatter, its Caffe/ONNX forms",
        description="Explain one Deconvolution or Upsample, from MODEL (--layer NAME) or from the flags "
        "--input HxW --kernel K [--stride ...]: output sizes under each convention with their formulas, the "
        "symbolic output matrix (small 1-D/2-D layers), the Caffe and ONNX forms convertkit writes, and for "
        "upsampling the filler and where Caffe's recipe, Resize half_pixel and align_corners differ.",
    )
    p.add_argument("model", nargs="?", metavar="MODEL", help="a spec, .onnx or .prototxt (else give the flags)")
    p.add_argument("--layer", metavar="NAME", help="the layer to explain (default: the model's only one)")
    _add_input_shape(p)
    _add_caffe_options(p)
    g = p.add_argument_group("a deconvolution from flags (no MODEL); sizes per spatial axis as HxW, or one for all")
    g.add_argument("--input", metavar="HxW", help="spatial input size, e.g. 2x2 (1-D: 5)")
    g.add_argument("--kernel", metavar="KHxKW")
    g.add_argument("--stride", metavar="SHxSW", help="default 1")
    g.add_argument(
        "--pad", metavar="P", help="symmetric per axis (1, 1x0) or ONNX pads begin...,end... (0,1,1,0); default 0"
    )
    g.add_argument("--dilation", metavar="DHxDW", help="default 1")
    g.add_argument("--output-padding", metavar="OHxOW", help="default 0")
    g.add_argument("--group", type=int, metavar="G", help="default 1")
    g.add_argument("--channels", type=int, metavar="C", help="input channels (default: group)")
    g.add_argument("--out-channels", type=int, metavar="M", help="output channels (default: group)")
    p.add_argument("--matrix", action="store_true", help="fail (exit 2) when the symbolic matrix cannot be shown")
    p.add_argument("--json", action="store_true", help="print the explanation as JSON")
    p.add_argument("--png", metavar="FILE", help="draw the scatter to FILE (needs matplotlib: convertkit[plot])")
    p.add_argument("--svg", metavar="FILE", help="draw the scatter to FILE as SVG (needs matplotlib)")


def _cmd_explain(args: argparse.Namespace) -> int:
    from .explain import deconvolution_model, explain

    given = [f"--{f.replace('_', '-')}" for f in _EXPLAIN_FLAGS if getattr(args, f) is not None]
    if args.model is not None:
        if given:
            raise _UserError(f"give MODEL (with --layer) or the flags, not both: {', '.join(given)} with {args.model}")
        model, source = _load(args.model, args), args.model
    else:
        model_only = [
            flag
            for flag, value in (
                ("--layer", args.layer is not None),
                ("--input-shape", bool(args.input_shape)),
                ("--weights", args.weights is not None),
                ("--fill-missing", args.fill_missing != "zeros"),
                ("--compact", args.compact),
            )
            if value
        ]
        if model_only:
            raise _UserError(f"{', '.join(model_only)} apply to a MODEL file, not to a layer from flags")
        if args.input is None or args.kernel is None:
            raise _UserError(
                "give MODEL, or at least --input HxW and --kernel K (e.g. --input 2x2 --kernel 3 --stride 2)"
            )
        model, source = (
            deconvolution_model(
                args.input,
                args.kernel,
                stride=args.stride,
                pad=args.pad,
                dilation=args.dilation,
                output_padding=args.output_padding,
                group=1 if args.group is None else args.group,
                channels=args.channels,
                out_channels=args.out_channels,
            ),
            "from flags, a ones kernel for the weights",
        )
    explanation = explain(model, args.layer, require_matrix=args.matrix, source=source)
    for path, fmt in ((args.png, "png"), (args.svg, "svg")):
        if path is not None:
            from .explain_plot import draw_scatter

            draw_scatter(explanation, path, fmt=fmt)
    if args.json:
        print(json.dumps(explanation.to_dict(), indent=2))
    else:
        print(explanation.format())
    return EXIT_OK


# -- end of explain --------------------------------------------------------------------------------------------------


def _add_optimize_parser(sub: Any) -> None:
    p = sub.add_parser(
        "optimize",
        help="rewrite an ONNX model's ConvTranspose/Resize/Upsample nodes into their fastest exact form",
    )
    p.add_argument("src", metavar="IN.onnx")
    p.add_argument("-o", "--output", required=True, metavar="OUT.onnx")
    _add_input_shape(p)
    p.add_argument("--seed", type=_seed, default=0, help="seed of the verification inputs (default 0)")
    p.add_argument("--repeats", type=int, default=5, help="timed runs of each model (default 5)")
    p.add_argument("--no-verify", action="store_true", help="skip running both models in onnxruntime")
    _add_quiet(p)


def _cmd_optimize(args: argparse.Namespace) -> int:
    from .codec.files import write_atomically
    from .formats.onnx import load_onnx_model
    from .optimize import optimize_onnx, verify

    if not args.src.lower().endswith(".onnx") or not args.output.lower().endswith(".onnx"):
        raise _UserError("optimize reads and writes .onnx files")
    if os.path.abspath(args.src) == os.path.abspath(args.output):
        raise _UserError("the output would replace the source; give another -o")
    shapes = _parse_input_shapes(args.input_shape)
    proto = load_onnx_model(args.src)
    result = optimize_onnx(proto, input_shapes=shapes)
    for note in result.notes:
        print(note, flush=True)
    if not args.no_verify:
        check = verify(proto, result.proto, input_shapes=shapes, seed=args.seed, repeats=args.repeats)
        print(check.format(), flush=True)
        if not check.equal:
            print("not written: the rewritten model differs from the original", file=sys.stderr)
            return EXIT_CHECK_FAILED
    write_atomically({args.output: result.proto.SerializeToString()})
    print(
        f"wrote {args.output}: {result.rewritten} node(s) rewritten, "
        f"{os.path.getsize(args.src):,} -> {os.path.getsize(args.output):,} bytes",
        flush=True,
    )
    return EXIT_OK


_COMMANDS = {
    "optimize": _cmd_optimize,
    "convert": _cmd_convert,
    "run": _cmd_run,
    "check": _cmd_check,
    "validate": _cmd_validate,
    "schema": _cmd_schema,
    "explain": _cmd_explain,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``convertkit`` console script."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from . import __version__

        print(f"convertkit {__version__}")
        return EXIT_OK
    if not args.command:
        parser.print_help()
        return EXIT_USER_ERROR
    from . import progress
    from .errors import CaffeWarning, CheckFailed, ConvertkitError, MemoryBudgetWarning, OnnxImportWarning

    progress.configure(quiet=getattr(args, "quiet", False), stream=sys.stderr)
    from .portability import PortabilityWarning

    caught: list[warnings.WarningMessage] = []
    try:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", OnnxImportWarning)
                warnings.simplefilter("always", CaffeWarning)
                warnings.simplefilter("always", MemoryBudgetWarning)
                warnings.simplefilter("always", PortabilityWarning)
                from .budget import memory_budget

                with memory_budget(getattr(args, "max_memory", None)):
                    return _COMMANDS[args.command](args)
        finally:
            # Printed after the recording context is gone, each once, as one line.
            seen: set[str] = set()
            for w in caught:
                own = issubclass(w.category, (OnnxImportWarning, CaffeWarning, MemoryBudgetWarning, PortabilityWarning))
                line = f"convertkit {args.command}: warning: {'' if own else w.category.__name__ + ': '}{w.message}"
                if line not in seen:
                    seen.add(line)
                    print(line, file=sys.stderr)
    except CheckFailed as exc:
        print(f"convertkit {args.command}: {exc}", file=sys.stderr)
        return EXIT_CHECK_FAILED
    except (ConvertkitError, _UserError) as exc:
        message = str(exc)
        print(f"convertkit {args.command}: error: {message}", file=sys.stderr)
        return EXIT_USER_ERROR
    except MemoryError:
        print(
            f"convertkit {args.command}: error: not enough memory for this model's tensors (check the declared "
            "input shapes)",
            file=sys.stderr,
        )
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        os._exit(EXIT_OK)
