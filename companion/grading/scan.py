"""Does a student's function call the package's own solution?

Each exercise names the functions of ``companion`` that solve it
(:data:`.spec.REFERENCES`: 0.1 ``activations.sigmoid``, 1.2
``rnn.forward``, ...); a function that calls one of them, directly or
through a helper of the notebook, is graded "uses the reference
implementation" whatever it returns. Calls into the rest of the package
stay allowed (1.4 and 4.x may call ``rnn.forward``, 3.4 ``bptt.windows``).
So are none into ``companion.grading`` or ``companion.checks`` (other
than ``check``), nor code imported or evaluated at run time
(``__import__``, ``importlib``, ``eval``, ``exec``).

Two scans, and a function is flagged if either finds something:

* :func:`scan_source` reads the notebook's code (the bulk grader has
  nothing else): import aliases, the function's body and, transitively,
  the top-level functions of the notebook it names;
* :func:`scan_objects` follows the live objects (in a notebook): the
  names the function's code uses, resolved in its globals and closure,
  through its helpers, so that ``s = activations.sigmoid`` in another
  cell is found too.

Neither is a proof: code that reaches the reference through data the
scans do not follow (a string built at run time and looked up by a
helper that is not a function of the notebook) escapes them.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import sys
import types
from typing import Any

ALWAYS = ("companion.grading", "companion.checks")
ALLOWED = ("companion.checks.check", "companion.grading.checker.check")
DYNAMIC = {"__import__", "eval", "exec", "import_module"}


def forbidden(ex) -> set[str]:
    """The dotted names (``companion.rnn.forward``) ``ex`` may not call."""
    return {f"companion.{name}" for name in ex.references}


def _flagged(dotted: str, banned: set[str]) -> bool:
    if dotted in ALLOWED:
        return False
    if any(dotted == b or dotted.startswith(b + ".") for b in banned):
        return True
    return any(dotted == a or dotted.startswith(a + ".") for a in ALWAYS)


def uses_reference(ex, function, sources: list[str] | None = None) -> str:
    """What the function calls that it should not, in words ('' if none)."""
    banned = forbidden(ex)
    found = scan_objects(function, banned)
    if found:
        return found
    if sources is None:
        sources = _sources_of(function)
    name = getattr(function, "__name__", "")
    return scan_source(sources, name, banned) if name else ""


def _sources_of(function) -> list[str]:
    """The function's own source, after the cells run so far (IPython)."""
    sources = []
    try:
        ipython = sys.modules.get("IPython")
        shell = ipython.get_ipython() if ipython else None
        if shell is not None:
            sources += [c for c in shell.user_ns.get("In", []) if c]
    except Exception:  # noqa: BLE001 (no IPython, or an odd one)
        pass
    try:
        sources.append(inspect.getsource(function))
    except (OSError, TypeError):
        pass
    return sources


# -- the scan of live objects ----------------------------------------------


def _dotted(obj) -> str:
    if isinstance(obj, types.ModuleType):
        return obj.__name__
    module = getattr(obj, "__module__", None) or ""
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", "")
    return f"{module}.{name}" if module else ""


def _codes(code):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def scan_objects(function, banned: set[str]) -> str:
    """Follow ``function``'s names through its globals and helpers."""
    seen: set[int] = set()
    todo = [function]
    while todo:
        fn = todo.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        dotted = _dotted(fn)
        if dotted.startswith("companion.") and _flagged(dotted, banned):
            return f"it calls {dotted[len('companion.'):]}"
        if isinstance(fn, types.MethodType):
            todo.append(fn.__func__)
            continue
        if isinstance(fn, type):
            todo += [v for v in vars(fn).values()
                     if isinstance(v, (types.FunctionType, staticmethod,
                                       classmethod))]
            continue
        if isinstance(fn, (staticmethod, classmethod)):
            todo.append(fn.__func__)
            continue
        wrapped = getattr(fn, "func", None)  # functools.partial
        if wrapped is not None and not isinstance(fn, types.FunctionType):
            todo.append(wrapped)
        code = getattr(fn, "__code__", None)
        if code is None:
            continue
        names = set()
        for c in _codes(code):
            names.update(c.co_names)
        dynamic = names & DYNAMIC
        if "import_module" in dynamic and "importlib" not in names:
            dynamic.discard("import_module")
        if dynamic:
            return f"it imports or evaluates code at run time ({min(dynamic)})"
        scope = dict(getattr(fn, "__globals__", {}))
        for cell, var in zip(fn.__closure__ or (), code.co_freevars):
            try:
                scope[var] = cell.cell_contents
            except ValueError:
                pass
        free = set()
        for c in _codes(code):
            free.update(c.co_freevars)
        objects = [scope[n] for n in names | free if n in scope]
        objects += [sys.modules[n] for n in names
                    if n.startswith("companion") and n in sys.modules]
        found = _through_modules(objects, names, banned)
        if found:
            return found
        # the notebook's own helpers, not the libraries they call
        home = getattr(function, "__module__", None)
        todo += [o for o in objects
                 if getattr(o, "__module__", None) == home
                 and (isinstance(o, (types.FunctionType, type,
                                     types.MethodType))
                      or callable(getattr(o, "func", None)))]
    return ""


def _through_modules(objects, names, banned) -> str:
    modules = [o for o in objects if isinstance(o, types.ModuleType)]
    others = [o for o in objects if not isinstance(o, types.ModuleType)]
    done = set()
    while modules:
        module = modules.pop()
        if module.__name__ in done:
            continue
        done.add(module.__name__)
        if not module.__name__.startswith("companion"):
            continue
        for attr in names:
            value = getattr(module, attr, None)
            if value is None:
                continue
            if isinstance(value, types.ModuleType):
                modules.append(value)
            dotted = f"{module.__name__}.{attr}"
            if _flagged(dotted, banned) or (
                    _dotted(value).startswith("companion.")
                    and _flagged(_dotted(value), banned)):
                return f"it calls {dotted[len('companion.'):]}"
    for obj in others:
        obj = getattr(obj, "func", obj)  # functools.partial
        dotted = _dotted(obj)
        if dotted.startswith("companion.") and _flagged(dotted, banned):
            return f"it calls {dotted[len('companion.'):]}"
    return ""


# -- the scan of the notebook's code ---------------------------------------


def _parse(source: str):
    lines = [("pass" if re.match(r"\s*[%!]", line) else line)
             for line in source.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except (SyntaxError, ValueError):
        return None


def scan_source(sources: list[str], name: str, banned: set[str]) -> str:
    """Find, in the notebook's code, a forbidden call by ``name``."""
    trees = [t for t in map(_parse, sources) if t is not None]
    aliases: dict[str, str] = {}
    defs: dict[str, ast.AST] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.asname:
                        aliases[a.asname] = a.name
                    else:
                        top = a.name.split(".")[0]
                        aliases[top] = top
            elif isinstance(node, ast.ImportFrom) and node.module:
                for a in node.names:
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                 ast.ClassDef)):
                defs[node.name] = node
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        defs[target.id] = node.value
    if name not in defs:
        return ""
    seen, todo = set(), [name]
    while todo:
        current = todo.pop()
        if current in seen or current not in defs:
            continue
        seen.add(current)
        local = _locals(defs[current])
        for node in ast.walk(defs[current]):
            if isinstance(node, ast.Name) and node.id in local:
                continue
            if isinstance(node, ast.Name):
                if node.id in DYNAMIC:
                    return ("it imports or evaluates code at run time "
                            f"({node.id})")
                if node.id in defs:
                    todo.append(node.id)
            dotted = _resolve(node, aliases, local)
            if dotted and dotted.startswith("companion") and _flagged(
                    dotted, banned):
                return f"it calls {dotted[len('companion.'):]}"
            if isinstance(node, ast.Attribute) and node.attr in DYNAMIC:
                return ("it imports or evaluates code at run time "
                        f"({node.attr})")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for a in node.names:
                    full = (f"{node.module}.{a.name}"
                            if isinstance(node, ast.ImportFrom) and node.module
                            else a.name)
                    if full.startswith("companion") and _flagged(full,
                                                                 banned):
                        return f"it calls {full[len('companion.'):]}"
    return ""


def _locals(node) -> set[str]:
    """The names a function binds itself (arguments, assignments)."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                             ast.Lambda)):
        return set()
    args = node.args
    names = {a.arg for a in args.args + args.posonlyargs + args.kwonlyargs}
    names |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
    for inner in ast.walk(node):
        if isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Store):
            names.add(inner.id)
        elif isinstance(inner, ast.arg):
            names.add(inner.arg)
    return names


def _resolve(node, aliases, local=frozenset()) -> str:
    """``rnn.forward`` → ``companion.rnn.forward`` by the import aliases."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if (not isinstance(node, ast.Name) or node.id not in aliases
            or node.id in local):
        return ""
    return ".".join([aliases[node.id]] + parts[::-1])


def resolve_object(dotted: str) -> Any:
    """The object of a dotted name (for tests)."""
    module, _, attr = dotted.rpartition(".")
    return getattr(importlib.import_module(module), attr)
