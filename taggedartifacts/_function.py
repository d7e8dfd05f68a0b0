"""One decorated function: what is known of it at decoration, and the plan of each call.

:class:`Function` is built once, at decoration: it knows the function, its
signature, its path parameters and the :class:`~taggedartifacts.Artifact`
options. Each call gets a :class:`~._run.Plan` (what the call is: its arguments,
the git state, its outputs with their tagged names) and then a :class:`~._run.Run`
(where the function writes, and what happens when it returns or raises). The
decorator's wrappers only call these steps, so a sync and an async call take
the same ones.
"""

from __future__ import annotations

import functools
import marshal
import operator
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._dirty import ENV_ALLOW_DIRTY, changed_error, dirty_error, warn
from ._errors import (
    DirtyRepositoryError,
    InvalidArgumentError,
    OutOfScopeWarning,
    UnhashableConfigError,
)
from ._gitinfo import GitState, loaded_code, pinned_state, read_state
from ._hashing import config_hash
from ._loaded import UNKNOWN, add_source, archive, installed
from ._locks import FileLock, Patience
from ._log import logger
from ._notebook import Kernel, ipython, kernel_of
from ._run import Options, Plan, Run, build_locks
from ._scope import Scope, reached
from ._storage import PathArg, output
from ._tagging import tag_path

if TYPE_CHECKING:
    import inspect


class Function:
    """A decorated function: its signature, its path parameters and the options.

    :raises InvalidArgumentError: for a keyword or include_args the function does
        not have, or a generator function with atomic, cache or provenance.
    """

    def __init__(self, func: Callable[..., Any], options: Options) -> None:
        import inspect  # at decoration, never at import: ``import taggedartifacts`` stays instant

        self.func, self.options, self.name = func, options, func_name(func)
        self.signature = inspect.signature(func)
        self.varkw = var_keyword(self.signature)
        check_keywords(func, self.signature, options.keywords)
        inner = innermost(func)
        self.is_async = inspect.iscoroutinefunction(func)
        if (options.atomic or options.provenance) and (
            inspect.isgeneratorfunction(inner) or inspect.isasyncgenfunction(inner)
        ):
            raise InvalidArgumentError(
                f"{self.name} is a generator function: calling it returns before its "
                "body runs, so atomic, cache and provenance cannot tell when its output is "
                "complete; decorate a function that writes its output and returns"
            )
        self.hashed = self._hashed_args()
        # What records and messages say of the function, decided here once: its module
        # and name (of the function behind a partial or callable object), its source file,
        # and whether a notebook cell defines it (no file; IPython runs it as __main__).
        self.identity = {k: getattr(inner, f"__{k}__", None) for k in ("module", "qualname")}
        self.source = source = source_file(func)
        code = getattr(inner, "__code__", None)
        # Where a warning about a call points when library code made the call.
        self.defined = (code.co_filename, code.co_firstlineno) if code else ("<unknown>", 0)
        # Code no file holds, in the function or a wrapper of it: a notebook cell, python -c,
        # standard input, exec of a string (``%run script.py`` is a file like any other, and
        # so is a zip that modules come from, which then says where the work tree is).
        # (A wrapper counts when typed at a prompt: one a library generates is not the user's.)
        main = getattr(sys.modules.get("__main__"), "__dict__", None)
        mine = [f for f in layers(func) if f is inner or getattr(f, "__globals__", 0) is main]
        codes = [f.__code__ for f in mine if hasattr(f, "__code__")]
        unheld = [c for c in codes if not (os.path.isfile(c.co_filename) or archive(c.co_filename))]
        self.fileless = unheld[0].co_filename if unheld else ""
        self.unheld = b"".join(map(marshal.dumps, unheld))  # what it is, in this process
        self.in_cell = bool(self.fileless) and self.identity["module"] == "__main__"
        self.guarded: set[str] = set()  # work trees whose scope this function was checked in
        if source is not None:  # its code runs at every call, whoever imported it
            add_source(source, sys.modules.get(self.identity["module"] or ""))
        own = (os.path.realpath(source),) if source else ()
        self.scope = Scope(options.depends_on, own) if options.depends_on is not None else None
        # Where to look for the work tree; None: the current directory at call time.
        held = source or (archive(code.co_filename) if code is not None else "")
        where = (os.path.dirname(held), None) if held else (None,)
        self.candidates = (options.repo,) if options.repo is not None else where

    @property
    def namespace(self) -> dict[str, Any]:
        """The globals of the function's module. Not kept: a function copied by value
        (cloudpickle) would take them all along, and one that cannot be copied (a Dask
        client made at the top of a script) would fail the copy."""
        return getattr(innermost(self.func), "__globals__", {})

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickled in a worker (a function copied by value: cloudpickle, Dask, joblib):
        its source file is code that runs here too, whoever imported it."""
        self.__dict__.update(state)
        if self.source is not None:
            add_source(self.source, None)

    def _hashed_args(self) -> tuple[str, ...] | None:
        """The parameters whose values go into the name (None: only the config does)."""
        include, params = self.options.include_args, self.signature.parameters
        if include is False:
            return None
        if include is True:  # every argument but the paths, and a method's self or cls
            first = next(iter(params), None)
            skipped = {first} if first in ("self", "cls") else set()
            return tuple(n for n in params if n not in self.options.keywords and n not in skipped)
        for name in include:
            if name not in params:
                raise InvalidArgumentError(
                    f"include_args names {name!r}, but {self.name} has no such parameter; "
                    f"its parameters are {list(params)}"
                )
            if name in self.options.keywords:
                raise InvalidArgumentError(
                    f"include_args names {name!r}, a path parameter; paths are never hashed"
                )
        return include

    def bind(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], *, partial: bool = False
    ) -> inspect.BoundArguments:
        """Bind a call's arguments, defaults applied.

        :raises InvalidArgumentError: (a ``TypeError``) worded as Python words it.
        """
        bind = self.signature.bind_partial if partial else self.signature.bind
        try:
            bound = bind(*args, **kwargs)
        except TypeError as exc:
            raise call_error(self.func, self.signature, args, kwargs, exc) from None
        bound.apply_defaults()
        return bound

    def plan(self, bound: inspect.BoundArguments) -> Plan:
        """Everything a call needs before the function runs; refuses a dirty tree."""
        given = {
            kw: path_argument(self.func, bound, kw, self.varkw) for kw in self.options.keywords
        }
        notes: list[Warning] = []
        kernel = kernel_of(self.in_cell, self.scope is not None, notes)  # per call: it may change
        for note in notes:  # said at once: the call may yet fail, and it is said only once
            warn(note, self.defined)
        state = self._state(kernel)
        digest, arguments = self._digest(bound, state.root)
        tag = functools.partial(
            tag_path, commit=state.commit, config_digest=digest, fingerprint=state.diff,
            scope_key=state.code,
        )  # fmt: skip
        outputs = {kw: output(path, tag(path)) for kw, path in given.items()}
        logger().debug("%s tagged %s", self.name, [o.tagged for o in outputs.values()])
        warnings = self._guard(state)
        notebook = kernel.notebook if kernel is not None else None
        return Plan(
            self.name,
            self.func,
            {"file": self._file(state.root, notebook), **self.identity},
            self.options,
            bound,
            outputs,
            state,
            digest,
            arguments,
            notebook,
            warnings,
        )

    def _state(self, kernel: Kernel | None) -> GitState:
        """The git state a call is named after (a notebook's loose cells counted).

        :raises DirtyRepositoryError: for a dirty state, unless dirty work is allowed.
        """
        candidates, scope = self._where(kernel.notebook if kernel is not None else None)
        untracked = self.options.untracked
        # Dirty work may be allowed by the environment, read at every call (a thread may
        # set it meanwhile); a refused call need not read the changed files.
        allowed = self.options.allow_dirty or allowed_by_environment()
        state = pinned_state(candidates, untracked=untracked, scope=scope)
        if state is None:  # no pinned() block holds it: read it now
            state = read_state(candidates, untracked=untracked, fingerprint=allowed, scope=scope)
        state, why = self._counted(state, kernel, fingerprint=allowed)
        if state.dirty and not allowed:
            raise dirty_error(self.name, self.source, state, why)
        return state

    def _counted(
        self, state: GitState, kernel: Kernel | None, fingerprint: bool
    ) -> tuple[GitState, str | None]:
        """``state`` with the code git cannot see counted, and what to say of it: the
        cells a notebook's kernel ran that the notebook at HEAD does not hold, or, outside
        a Jupyter kernel (whose cells the kernel check covers), the function's own code
        when no file holds it. Which code that is only this process can tell, so its
        fingerprint is this process's own."""
        # No root: the commit came from TAGGEDARTIFACTS_COMMIT; there is no notebook to read.
        if kernel is not None and state.root is not None:
            loose = kernel.loose(state.root, state.commit, state.diff, fingerprint=fingerprint)
            if loose is None:
                return state, None
            where, diff, why = loose.notebook, loose.diff, loose.why
        elif self.fileless and not hasattr(ipython(), "kernel"):  # a kernel warned instead
            where = self.fileless
            import hashlib

            digest = hashlib.sha256(f"{where}\0{state.diff}\0".encode() + UNKNOWN + self.unheld)
            diff = digest.hexdigest() if fingerprint else None
            why = (
                f"{self.name} runs code defined in {where}, which no file holds now (python "
                "-c, a prompt, standard input, exec of a string, a file removed since), so no "
                "commit can hold it: define it in a committed file, or pass allow_dirty=True"
            )
        else:
            return state, None
        changed = tuple(sorted({*state.changed, where}))
        return state._replace(dirty=True, diff=diff, changed=changed), why

    def _guard(self, state: GitState) -> tuple[Warning, ...]:
        """The files of the work tree outside ``depends_on`` that the function's code
        reaches: a warning, once per function and work tree; with ``strict_scope``, a
        refusal at every call.

        :raises InvalidArgumentError: with ``strict_scope``, when there are any.
        """
        scope, root = self.scope, state.root
        if (
            scope is None
            or root is None
            or (root in self.guarded and not self.options.strict_scope)
        ):
            return ()
        own = set(scope.files)
        outside = sorted(
            os.path.relpath(f, root)
            for f in reached(self.namespace, root)
            if f not in own and not scope.covers(os.path.relpath(f, root), root)
        )
        self.guarded.add(root)
        if not outside:
            return ()
        message = (
            f"{self.name}: depends_on={list(scope.pathspecs)} leaves out "
            f"{', '.join(outside[:10])}, which its code reaches, so a change there would "
            "not change the names of its outputs; add them to depends_on"
        )
        if self.options.strict_scope:
            raise InvalidArgumentError(message + " (strict_scope=True refuses the call)")
        return (OutOfScopeWarning(message + ", or pass strict_scope=True to refuse such calls"),)

    def _file(self, root: str | None, notebook: str | None) -> str | None:
        """The function's source file (a notebook, for a cell's) relative to the work tree,
        in posix form; None outside it."""
        where = self.source or (notebook if self.in_cell else None)
        if where is None or root is None or not where.startswith(root + os.sep):
            return None
        return os.path.relpath(where, root).replace(os.sep, "/")

    def _where(self, notebook: str | None) -> tuple[tuple[str | None, ...], Scope | None]:
        """Where the work tree is looked for, and the scope; a notebook that defines the
        function holds its code, so it comes first and is in scope."""
        candidates, scope = self.candidates, self.scope
        if notebook is not None and self.in_cell:
            candidates = (os.path.dirname(notebook), *candidates)
            if scope is not None:
                scope = scope._replace(files=(*scope.files, notebook))
        return candidates, scope

    def after(self, plan: Plan, published: bool) -> DirtyRepositoryError | None:
        """What changed in the code while the function ran, as the refusal to publish its
        output under the call's name; None when nothing did.

        Output about to be published (``atomic``, ``cache``) is checked against the work
        tree as git sees it now, also in a ``pinned()`` block (a build dwarfs one git
        status); a plain call's, which cannot be taken back, against the modules loaded
        while it ran.
        """
        state = plan.state
        if state.root is None:  # the commit came from TAGGEDARTIFACTS_COMMIT
            return None
        candidates, scope = self._where(plan.notebook)
        if published:
            untracked = self.options.untracked
            now = read_state(candidates, untracked=untracked, fingerprint=state.dirty, scope=scope)
            kernel = kernel_of(self.in_cell, self.scope is not None, [])
            now = self._counted(now, kernel, fingerprint=state.dirty)[0]
        else:
            code, stale = loaded_code(state.root, scope)
            now = state._replace(
                untracked_code=tuple(sorted({*state.untracked_code, *code})),
                stale_code=tuple(sorted({*state.stale_code, *stale})),
            )
        facts = operator.attrgetter("commit", "diff", "dirty", "untracked_code", "stale_code")
        if facts(now) == facts(state):
            return None
        return changed_error(self.name, self.source, state, now)

    def _digest(
        self, bound: inspect.BoundArguments, root: str | None
    ) -> tuple[str, dict[str, Any] | None]:
        """The hash of the config and the hashed arguments, and those arguments."""
        if self.hashed is None:
            return config_hash(self.options.config), None
        values = {name: bound.arguments[name] for name in self.hashed}
        if self.varkw in values:  # path arguments passed through **kwargs are not hashed
            kwargs = values[self.varkw]
            values[self.varkw] = {k: v for k, v in kwargs.items() if k not in self.options.keywords}
        values = rooted(values, root)
        frozen = _frozen_positionals(self.func) if self.options.include_args is True else ()
        try:
            return call_hash(self.options.config, values, list(frozen)), values
        except UnhashableConfigError:
            for name, value in values.items():  # hash again only to name the culprit
                config_hash(value, name=f"argument {name!r}")
            raise

    def paths(self, *args: Any, **kwargs: Any) -> dict[str, PathArg]:
        """The tagged path of each path parameter that this call would use now."""
        bound = self.bind(args, kwargs, partial=True)
        # Only a partial binding can lack an argument: a real call binds them all.
        missing = [repr(n) for n in self.hashed or () if n not in bound.arguments]
        if missing:
            raise InvalidArgumentError(
                f"{self.name}.paths() needs {', '.join(missing)} as well: include_args "
                "puts it into the name, so without it no call would get this name"
            )
        return self._read(self.plan(bound)).tagged

    def plan_call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Plan:
        """Bind and plan a call; a reader's paths are the versions it reads."""
        return self._read(self.plan(self.bind(args, kwargs)))

    def _read(self, plan: Plan) -> Plan:
        """A reader's plan names the versions it reads (see ``_versions.resolve``)."""
        if not self.options.read:
            return plan
        from ._versions import resolve  # the reading side loads when a reader first runs

        found = resolve(plan.name, plan.outputs, self.options.read, plan.digest, plan.state)
        return plan._replace(
            outputs={kw: output(plan.outputs[kw].given, found[kw]) for kw in found}
        )

    def locks(self, plan: Plan, blocking: bool = True) -> list[FileLock] | Patience:
        """The build locks a call takes (``cache=True``); without ``blocking``, the
        :class:`Patience` of a wait when one is taken."""
        return build_locks(plan, blocking) if self.options.cache else []

    def start(
        self, plan: Plan, args: tuple[Any, ...], kwargs: dict[str, Any], locks: list[FileLock]
    ) -> Run:
        """Prepare where a planned call writes (nothing, for a cache hit)."""
        return Run(plan, locks)


def call_hash(config: Any, arguments: dict[str, Any], frozen: list[Any] | None = None) -> str:
    """The hash of a call's config and hashed arguments (``include_args``): the config
    hash of ``{"arguments": ..., "config": ...}`` (``"partial"`` too, for arguments a
    ``functools.partial`` holds)."""
    hashed: dict[str, Any] = {"arguments": arguments, "config": config}
    if frozen:
        hashed["partial"] = frozen
    return config_hash(hashed)


def rooted(value: Any, root: str | None) -> Any:
    """``value`` with every path in it that names something inside the work tree at
    ``root`` spelled relative to its root, in posix form: ``../data/x.csv`` from
    ``notebooks/`` and ``data/x.csv`` from the root are one argument. A ``str`` that
    names nothing that exists stays as it is."""
    if root is None:
        return value
    if isinstance(value, (list, tuple)):
        return (
            type(value)(rooted(v, root) for v in value) if type(value) in (list, tuple) else value
        )
    if isinstance(value, dict):
        return {k: rooted(v, root) for k, v in value.items()}
    if isinstance(value, os.PathLike) or (isinstance(value, str) and os.path.exists(value)):
        full = os.path.abspath(os.fspath(value))
        if full == root or full.startswith(root + os.sep):
            inside = os.path.relpath(full, root).replace(os.sep, "/")
            return inside if isinstance(value, str) else Path(inside)
    return value


def _frozen_positionals(func: Any) -> tuple[Any, ...]:
    """The positional arguments ``functools.partial`` objects around ``func`` hold."""
    frozen: tuple[Any, ...] = ()
    while isinstance(func, functools.partial):
        frozen, func = func.args + frozen, func.func
    return frozen


def allowed_by_environment() -> bool:
    """Whether ``TAGGEDARTIFACTS_ALLOW_DIRTY`` is set to a true value (1, true, yes, on)."""
    return os.environ.get(ENV_ALLOW_DIRTY, "").strip().lower() in ("1", "true", "yes", "on")


# The signature: which parameters hold paths, and what a call passes.


def keywords(keyword: str | Sequence[str], what: str = "keyword") -> tuple[str, ...]:
    """Parameter names as a tuple; refuses what cannot name a parameter."""
    names = (keyword,) if isinstance(keyword, str) else keyword
    if not isinstance(names, (list, tuple)) or not names:
        raise InvalidArgumentError(
            f"{what} must be a parameter name or a non-empty list of names, got {keyword!r}"
        )
    for name in names:
        if not isinstance(name, str) or not name.isidentifier():
            raise InvalidArgumentError(f"{what} {name!r} is not a parameter name")
    if len(set(names)) != len(names):
        raise InvalidArgumentError(f"{what} names a parameter twice: {list(names)!r}")
    return tuple(names)


def var_keyword(signature: inspect.Signature) -> str | None:
    """The name of the ``**kwargs`` parameter, if there is one."""
    return next((n for n, p in signature.parameters.items() if p.kind == p.VAR_KEYWORD), None)


def check_keywords(
    func: Callable[..., Any], signature: inspect.Signature, keywords: tuple[str, ...]
) -> None:
    """Check that each keyword names a parameter that takes one path."""
    params = signature.parameters
    for kw in keywords:
        param = params.get(kw)
        if param is None and var_keyword(signature) is None:
            raise InvalidArgumentError(
                f"{func_name(func)} has no parameter {kw!r} to tag; "
                f"its parameters are {list(params)}"
            )
        if param is not None and param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise InvalidArgumentError(
                f"{func_name(func)}: {kw!r} collects several arguments; "
                "name a parameter that takes one path"
            )


def path_argument(
    func: Callable[..., Any], bound: inspect.BoundArguments, kw: str, varkw: str | None
) -> PathArg:
    """The path a call passes for parameter ``kw`` (by position, keyword, default or
    ``**kwargs``), as a ``str`` or a :class:`~pathlib.Path`."""
    if kw in bound.arguments:  # a parameter's name (never the **kwargs one: see check_keywords)
        value = bound.arguments[kw]
    elif varkw is not None and kw in bound.arguments.get(varkw, {}):
        value = bound.arguments[varkw][kw]
    else:
        raise InvalidArgumentError(f"{func_name(func)} needs a path for {kw!r}; pass {kw}=...")
    if isinstance(value, str):
        return value
    if isinstance(value, os.PathLike):
        fspath = os.fspath(value)
        if isinstance(fspath, str):
            return Path(fspath)
    raise InvalidArgumentError(
        f"{func_name(func)}: {kw!r} must be a str or os.PathLike path, got {type(value).__name__}"
    )


def source_file(func: Callable[..., Any]) -> str | None:
    """The function's source file; None for exec'd code, the REPL, notebook cells (whose
    names IPython makes up) and the like."""
    code = getattr(innermost(func), "__code__", None)
    filename = getattr(code, "co_filename", "")
    if not filename or filename.startswith("<") or not os.path.exists(filename):
        return None  # (an installed package's: the work tree is the current directory's)
    if installed(os.path.abspath(filename)):
        return None
    return os.path.abspath(filename)


def func_name(func: Callable[..., Any]) -> str:
    """The function's qualified name without ``<locals>`` noise, for messages."""
    inner = innermost(func)
    name = getattr(inner, "__qualname__", None) or type(inner).__qualname__
    return str(name).split("<locals>.")[-1] + "()"


def innermost(func: Any) -> Any:
    """The plain function behind wrappers (see :func:`layers`)."""
    *_, inner = layers(func)
    return inner


def layers(func: Any) -> Iterator[Any]:
    """``func`` and the callables behind it, outermost first: what wrappers wrap
    (``__wrapped__``), ``functools.partial`` objects' functions and callable instances'
    ``__call__`` methods, without importing inspect."""
    for _ in range(100):  # cycle-safe
        yield func
        if hasattr(func, "__wrapped__"):
            func = func.__wrapped__
        elif isinstance(func, functools.partial) or callable(getattr(func, "func", None)):
            func = func.func  # also a partial of another library's (toolz.curry)
        elif not hasattr(func, "__code__"):
            call = getattr(type(func), "__call__", None)  # noqa: B004 (the method, not a test)
            if not hasattr(call, "__code__"):
                return  # a builtin or C callable: no source to find
            func = call
        else:
            return


def call_error(
    func: Callable[..., Any],
    signature: inspect.Signature,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    error: TypeError,
) -> InvalidArgumentError:
    """The error Python itself gives for a call that does not fit the signature
    (``save() got an unexpected keyword argument 'out_path'``): ``inspect`` names no
    function and words it otherwise, so a stub with the same parameters is called."""
    plain = signature.replace(  # no annotations, and no default's value, to write out
        parameters=[
            p.replace(annotation=p.empty, default=p.empty if p.default is p.empty else None)
            for p in signature.parameters.values()
        ],
        return_annotation=signature.empty,
    )
    namespace: dict[str, Any] = {}
    exec(f"def stub{plain}: pass", namespace)  # names from a real signature
    stub = namespace["stub"]
    stub.__qualname__ = func_name(func)[:-2]  # what Python names in its message
    try:
        stub(*args, **kwargs)
    except TypeError as exc:
        return InvalidArgumentError(str(exc))
    return InvalidArgumentError(f"{stub.__qualname__}(): {error}")
