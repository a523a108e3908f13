"""The shape of the package that a reader relies on, checked on its source: no import cycle, no
branch on a kind of data outside ``autoreg/modalities``, no function over 80 lines, no module
of the training package over 400 lines."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "autoreg"
MODULES = {  # dotted name -> path
    ".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): p
    for p in sorted(PACKAGE.rglob("*.py"))
}
KINDS = {"image", "audio", "video"}


def runtime_imports(name: str, path: Path) -> set:
    """The package's modules that module ``name`` imports when it runs (local imports too;
    ``if TYPE_CHECKING:`` blocks not), with the packages each import runs the ``__init__`` of."""
    tree = ast.parse(path.read_text())
    skipped = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for statement in node.body
        for inner in ast.walk(statement)
    }
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            while target and target != "autoreg":  # a.b.c runs a.b's __init__ too
                if target in MODULES and target != name and not name.startswith(target + "."):
                    found.add(target)
                target = target.rpartition(".")[0]
    return found


def test_no_module_imports_one_that_imports_it_back():
    """Catches a cycle however it is hidden: a function-local import, or a package's
    ``__init__`` that imports back what imports a module inside it."""
    graph = {name: runtime_imports(name, path) for name, path in MODULES.items()}
    assert sum(map(len, graph.values())) > 100  # the graph was read
    state = {}  # name -> "open" while on the path, "done" after

    def visit(name, path):
        state[name] = "open"
        for target in sorted(graph[name]):
            if state.get(target) == "open":
                cycle = path[path.index(target) :] + [target]
                pytest.fail(f"import cycle: {' -> '.join(cycle)}")
            if target not in state:
                visit(target, [*path, target])
        state[name] = "done"

    for name in MODULES:
        if name not in state:
            visit(name, [name])


def kind_branches(path: Path) -> list:
    """Lines of ``path`` that compare with a kind of data's name or read ``fixed_shape`` or a
    model's ``kind``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(isinstance(o, ast.Constant) and o.value in KINDS for o in operands):
                found.append(node.lineno)
        if isinstance(node, ast.Attribute) and node.attr in ("fixed_shape", "kind"):
            found.append(node.lineno)
    return found


def test_no_branch_on_a_kind_of_data_outside_the_modalities(tmp_path):
    """What depends on the kind of data is asked of ``model.modality``."""
    probe = tmp_path / "probe.py"
    probe.write_text('ok = model.kind == "video" or not model.fixed_shape or "audio" != kind\n')
    assert kind_branches(probe) == [1, 1, 1, 1]  # the check sees each way of branching
    branches = {
        str(path.relative_to(PACKAGE)): lines
        for name, path in MODULES.items()
        if not name.startswith("autoreg.modalities")
        for lines in [kind_branches(path)]
        if lines
    }
    assert branches == {}


def test_no_function_over_80_lines():
    """Docstrings included: long prose belongs in the docs."""
    long = [
        f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name} ({length} lines)"
        for path in MODULES.values()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for length in [node.end_lineno - node.lineno + 1]
        if length > 80
    ]
    assert long == []


def test_the_training_package_has_no_module_over_400_lines():
    sizes = {p.name: len(p.read_text().splitlines()) for p in (PACKAGE / "training").glob("*.py")}
    assert len(sizes) > 5 and max(sizes.values()) <= 400, sizes


IMPORT_EVERY_MODULE = """
import importlib, importlib.util, json, pkgutil, signal, sys

events = []

def audit(event, args):
    # Files opened or folders listed by autoreg's own code, not by the import system.
    if event not in ("open", "os.listdir", "os.scandir", "glob.glob", "os.walk"):
        return
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith("<frozen importlib"):
            return
        if "/autoreg/" in name:
            events.append(f"{event} {args[0]} from {name}:{frame.f_lineno}")
            return
        frame = frame.f_back

sys.addaudithook(audit)
hooks = lambda: (sys.unraisablehook, sys.excepthook, sys.displayhook,
                 signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
before = hooks()
import autoreg
names = [  # Python modules (not the C++ kernel, a library loaded through XLA's FFI)
    m.name for m in pkgutil.walk_packages(autoreg.__path__, "autoreg.")
    if not importlib.util.find_spec(m.name).origin.endswith(".so")
]
for name in names:
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as error:  # an extra that is not installed
        assert not error.name.startswith("autoreg"), error
print(json.dumps({"modules": len(names), "events": events, "same_hooks": hooks() == before}))
"""


def test_importing_any_module_touches_no_file_and_installs_no_hook():
    """Catches a module that searches a folder or reads a file when imported (the shipped
    checkpoints, the native kernel), or installs a process-wide hook or signal handler: work
    a library does when asked, not when imported."""
    import json
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERY_MODULE], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["modules"] > 100  # every module was imported
    assert report["events"] == [] and report["same_hooks"], report
