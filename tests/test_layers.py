"""The layers contract: imports point only down the stack, and no module imports itself back through a cycle.

    ogi (cli, commands)                  the application shell: nothing below imports it
    scheduler                            the APScheduler service (its `schedule` command included)
    ogi.service, ogi.demo                the service's support code; the offline demo portal and synthetic reports
    crawler                              Scrapy project: spiders -> middlewares -> pipelines -> archive API
    crawler.parsers                      pure: bytes -> Report (no Scrapy, no sqlite-utils, no archive store)
    archive                              SQLite via sqlite-utils; imports nothing above
    archive.schema                       the contract: stdlib only

Every import statement counts, also those inside functions (a lazy import that points up is still a dependency
that points up). The test reads the source with ``ast``; it imports nothing of the project.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ogi", "crawler", "archive")
SINGLE_MODULES = ("scheduler",)

# layer name -> rank; a module may import a module of the same or a lower rank only
LAYERS = {
    "ogi": 50,
    "scheduler": 40,
    "ogi.service": 35,
    "ogi.demo": 35,
    "crawler": 30,
    "crawler.parsers": 20,
    "archive": 10,
    "archive.schema": 0,
}

# Modules the pure parser may import from outside the standard library and itself.
PARSER_THIRD_PARTY = {
    "lxml", "charset_normalizer", "pdfplumber", "pdfminer", "docx", "openpyxl", "bs4", "rapidocr",
    "rapidocr_onnxruntime", "onnxruntime", "numpy", "PIL", "pypdfium2", "cv2", "yaml",
}
FORBIDDEN_IN_PARSERS = {"scrapy", "sqlite_utils", "datasette", "apscheduler", "click", "twisted"}


def project_modules() -> dict[str, Path]:
    """Given the tree, return {dotted module name: path} for every product module."""
    out: dict[str, Path] = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    for name in SINGLE_MODULES:
        out[name] = ROOT / f"{name}.py"
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imported_names(path: Path, module: str, *, typing_only: bool = True) -> Iterator[tuple[str, int]]:
    """Given a module's source, yield (absolute dotted name, line) for every import in it, lazy ones included
    (``typing_only=False``: without the imports under ``if TYPE_CHECKING:``, which never run)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_pkg = path.name == "__init__.py"
    skipped: set[int] = set()
    if not typing_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and _is_type_checking(node.test):
                skipped.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_pkg else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            yield prefix, node.lineno
            for alias in node.names:  # `from pkg import submodule`
                yield f"{prefix}.{alias.name}", node.lineno


def layer_of(module: str) -> str | None:
    """Given a dotted module name, return the most specific layer it belongs to (None: not ours)."""
    best = None
    for layer in LAYERS:
        if (module == layer or module.startswith(layer + ".")) and (best is None or len(layer) > len(best)):
            best = layer
    return best


def resolve(name: str, modules: dict[str, Path]) -> str | None:
    """Given an imported dotted name, return the project module it loads (the longest existing prefix)."""
    parts = name.split(".")
    while parts:
        cand = ".".join(parts)
        if cand in modules:
            return cand
        parts.pop()
    return None


def edges(*, typing_only: bool = True) -> dict[str, set[tuple[str, int]]]:
    modules = project_modules()
    graph: dict[str, set[tuple[str, int]]] = {m: set() for m in modules}
    for mod, path in modules.items():
        for name, line in imported_names(path, mod, typing_only=typing_only):
            target = resolve(name, modules)
            if target and target != mod:
                graph[mod].add((target, line))
    return graph


def test_imports_point_down_the_stack() -> None:
    bad = []
    for mod, targets in edges().items():
        src = layer_of(mod)
        for target, line in sorted(targets):
            dst = layer_of(target)
            if src and dst and LAYERS[dst] > LAYERS[src]:
                bad.append(f"{mod}:{line} imports {target} ({src} -> {dst} points up)")
    assert not bad, "\n".join(bad)


def _is_ancestor_package(a: str, b: str) -> bool:
    """`a` is a package that contains `b` (importing b runs a's __init__ first: not a cycle of its own)."""
    return b.startswith(a + ".")


def test_no_import_cycles() -> None:
    """Cycles of imports that run (a type-only import under ``if TYPE_CHECKING:`` still counts for the
    direction test above, but it never executes, so it cannot close a cycle)."""
    graph = {m: {t for t, _ in ts if not _is_ancestor_package(t, m)}
             for m, ts in edges(typing_only=False).items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def strongconnect(v: str) -> None:  # Tarjan
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))
    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_parsers_import_no_scrapy_sqlite_or_archive_store() -> None:
    bad = []
    modules = project_modules()
    for mod, path in modules.items():
        if layer_of(mod) != "crawler.parsers":
            continue
        for name, line in imported_names(path, mod):
            top = name.split(".")[0]
            if top in FORBIDDEN_IN_PARSERS:
                bad.append(f"{mod}:{line} imports {name}")
            target = resolve(name, modules)
            if target and layer_of(target) == "archive":
                bad.append(f"{mod}:{line} imports {target} (only archive.schema is allowed)")
    assert not bad, "\n".join(bad)


def test_schema_is_stdlib_only() -> None:
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    modules = {m: p for m, p in project_modules().items() if layer_of(m) == "archive.schema"}
    assert "archive.schema" in modules
    bad = [f"{mod}:{line} imports {name}" for mod, path in modules.items() for name, line in imported_names(path, mod)
           if name.split(".")[0] not in stdlib and layer_of(name) != "archive.schema"]
    assert not bad, bad


@pytest.mark.parametrize("module", ["crawler.parsers", "archive.schema"])
def test_importing_the_parser_loads_no_storage_or_crawler(module: str) -> None:
    """At run time too: a parse worker that imports the parser (or the contract) loads none of these."""
    code = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        "bad = sorted(m for m in ('sqlite_utils', 'scrapy', 'twisted', 'archive.store', 'datasette', 'click') "
        "if m in sys.modules); print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"importing {module} loaded: {out.stdout.strip()}"


def test_no_product_module_over_700_lines() -> None:
    long = {m: n for m, p in project_modules().items()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 700}
    assert not long, long


def test_the_layer_test_sees_an_upward_import(tmp_path: Path) -> None:
    """The checker itself: an archive module importing the crawler is reported as pointing up."""
    mod = tmp_path / "m.py"
    mod.write_text("def f():\n    from crawler.pipelines import ArchivePipeline\n", encoding="utf-8")
    names = [n for n, _ in imported_names(mod, "archive.m")]
    assert "crawler.pipelines" in names
    assert LAYERS[layer_of("crawler.pipelines") or ""] > LAYERS[layer_of("archive.m") or ""]
    rel = tmp_path / "pkg"
    rel.mkdir()
    (rel / "__init__.py").write_text("from .sub import x\n", encoding="utf-8")
    assert ("archive.sub", 1) in list(imported_names(rel / "__init__.py", "archive"))
    typed = tmp_path / "t.py"
    typed.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from archive.store import X\n",
                     encoding="utf-8")
    assert "archive.store" in [n for n, _ in imported_names(typed, "crawler.parsers.t")]
    assert "archive.store" not in [n for n, _ in imported_names(typed, "crawler.parsers.t", typing_only=False)]
