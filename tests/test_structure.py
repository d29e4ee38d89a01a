"""The package's structure: kinds reached only through the registry, no import cycles, a light ``import convertkit``,
typed facets, and the README's support table generated from the registry."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import convertkit as ck
from convertkit import registry
from convertkit.formats.spec import model_from_spec, model_to_spec

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "convertkit"
#: Modules of graph plumbing and runtimes: they reach kinds through the registry and name none.
PLUMBING = [
    *sorted((PACKAGE / "formats").rglob("*.py")),
    PACKAGE / "check.py",
    PACKAGE / "comparison.py",
    PACKAGE / "runtime.py",
    PACKAGE / "registry.py",
    *sorted((PACKAGE / "reference").rglob("*.py")),
    *sorted((PACKAGE / "codec").rglob("*.py")),
]


def _module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, list[str], int]]:
    """Every import in ``path`` (also inside functions): (module, imported names, line)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.extend((a.name, [], node.lineno) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.append((target, [a.name for a in node.names], node.lineno))
    return out


def _package_modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py") if not p.name.endswith("_pb2.py")}


def test_no_import_cycles_counting_imports_inside_functions():
    modules = _package_modules()
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for m, path in modules.items():
        for target, names, _ in _imports(path):
            candidates = [f"{target}.{n}" for n in names if f"{target}.{n}" in modules] or [target]
            for t in candidates:
                while t and t not in modules:
                    t = t.rsplit(".", 1)[0] if "." in t else ""
                # importing one's own ancestor package is not an edge: it is loaded first anyway
                if t and t != m and not m.startswith(t + "."):
                    edges[m].add(t)
    # Tarjan's strongly connected components
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(modules):
        if v not in index:
            visit(v)
    assert not cycles, cycles


def test_import_convertkit_loads_no_runtime_protobuf_or_format_plumbing():
    code = (
        "import sys, convertkit\n"
        "heavy = ('onnx', 'onnxruntime', 'cv2', 'google.protobuf', 'convertkit.codec.caffe_pb2', "
        "'convertkit.formats', 'torch')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'onnx', 'onnxruntime', 'cv2', 'torch'} "
        "or m.startswith(heavy[4:6]) or m.startswith('google.protobuf')))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]", r.stdout


def test_plumbing_names_no_layer_kind():
    kind_modules = {f"convertkit.layers.{p.name}" for p in (PACKAGE / "layers").iterdir() if p.is_dir()}
    kind_classes = {k.layer.__name__ for k in registry.kinds()}
    offences = []
    for path in PLUMBING:
        for target, names, line in _imports(path):
            if any(target == m or target.startswith(m + ".") for m in kind_modules):
                offences.append(f"{path.relative_to(REPO)}:{line} imports {target}")
            if target == "convertkit.layers" and set(names) - {"_layers"} and set(names) & kind_classes:
                offences.append(f"{path.relative_to(REPO)}:{line} imports {sorted(set(names) & kind_classes)}")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Name) and node.id in kind_classes:
                offences.append(f"{path.relative_to(REPO)}:{node.lineno} names {node.id}")
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "getattr"
                and len(node.args) > 1
                and isinstance(node.args[1], ast.Constant)
                and str(node.args[1].value).startswith(("to_", "from_", "onnx_", "caffe_"))
            ):
                offences.append(f"{path.relative_to(REPO)}:{node.lineno} finds a hook with getattr")
    assert not offences, offences


def test_kinds_import_no_plumbing():
    offences = []
    for path in sorted((PACKAGE / "layers").rglob("*.py")):
        for target, _, line in _imports(path):
            if target.startswith(("convertkit.formats", "convertkit.check", "convertkit.cli", "convertkit.runtime")):
                offences.append(f"{path.relative_to(REPO)}:{line} imports {target}")
    assert not offences, offences


def _facet_hooks():
    for k in registry.kinds():
        for facet_name in ("onnx", "caffe", "keras"):
            facet = getattr(k, facet_name)
            for f in dataclasses.fields(facet):
                hook = getattr(facet, f.name)
                if callable(hook):
                    yield f"{k.name}.{facet_name}.{f.name}", hook


@pytest.mark.parametrize("name, hook", list(_facet_hooks()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_facet_hook_is_typed_without_any(name, hook):
    signature = inspect.signature(hook)
    for p in signature.parameters.values():
        assert p.annotation is not inspect.Parameter.empty, (name, p.name)
        assert "Any" not in str(p.annotation), (name, p.name, p.annotation)
    assert signature.return_annotation is not inspect.Signature.empty, name


def test_readme_support_table_is_the_registrys():
    readme = (REPO / "README.md").read_text()
    assert registry.support_table() in readme, (
        "README's support table is stale: paste python -c 'from convertkit import registry; "
        "print(registry.support_table())'"
    )


def test_meta_keeps_provenance_out_of_the_fields_and_round_trips_through_the_spec():
    x = ck.Input(name="x", shape=(1, 2, 3, 3))
    d = ck.Deconvolution(
        name="d",
        input="x",
        out_channels=2,
        kernel_shape=(2, 2),
        weight=ck.Filler(type="constant", value=1.0),
        training=(ck.BlobTraining(lr_mult=2, decay_mult=0),),
        meta={"onnx.source_node": "ConvTranspose_7"},
    )
    assert "training" not in {f.name for f in dataclasses.fields(d)}
    assert d.meta["caffe.training"] == d.training == (ck.BlobTraining(lr_mult=2.0, decay_mult=0.0),)
    spec = model_to_spec(ck.Model([x, d]))
    assert spec["layers"][1]["meta"] == {"onnx.source_node": "ConvTranspose_7"}
    assert spec["layers"][1]["training"] == [{"lr_mult": 2, "decay_mult": 0}]
    again = model_from_spec(spec)
    assert again.layer("d") == d
    assert dataclasses.replace(d, training=None).meta == {"onnx.source_node": "ConvTranspose_7"}
    with pytest.raises(ck.ValidationError, match="meta must map strings"):
        ck.Input(name="y", shape=(1,), meta={1: 2})


def test_register_refuses_a_kind_twice():
    record = next(iter(registry.kinds()))
    with pytest.raises(TypeError, match="registered twice"):
        registry.register(record)
