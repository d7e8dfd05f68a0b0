"""Code that ran: the source files this process has loaded, whether or not git shows them.

Three ways code that ran can differ from what a commit holds, each counted as a change:

- *Untracked code.* A committed ``step2.py`` that imports ``helpers.py``, never
  added, ran code no commit holds. Every source file loaded into the process
  (the ``__main__`` script, every module in ``sys.modules``, each decorated
  function's own file, any file whose code ran without an import, as an audit
  hook sees it: ``runpy``, ``exec`` of code compiled from a file, a loader's
  ``exec_module``; for a module inside a zip, the zip) that lies in the work
  tree where git neither tracks nor ignores it counts; so does one inside an
  untracked nested repository (as the whole directory), or untracked inside a
  submodule. Files of packages installed for this interpreter (its
  ``site-packages``) and the standard library never count; ignored files (a
  virtualenv inside the repository, a generated
  ``_version.py``) do not either. Only the repository's ``.gitignore`` files say
  what is ignored, never a clone's own ``.git/info/exclude``.
- *Linked code.* A module reached through a symbolic link in the work tree is
  code git can vouch for only when the file the link leads to is tracked in the
  work tree; a link to a file outside it, or to an ignored file, is not.
- *Stale code.* A module edited (and perhaps committed) after it was loaded
  still runs its old code. This counts whether the edit came before or after the
  first decorated call, as far as the process can tell:

  - for a module imported after ``taggedartifacts`` (an import hook notes when
    each import began): any change of the file after that moment, even one that
    keeps its bytes (nothing then shows what ran);
  - for a module loaded before it: any change after ``taggedartifacts`` was
    imported, and before that, what the module's bytecode cache (``__pycache__``,
    which Python brings up to date when it loads the module) shows: a source
    changed after its cache was written is compared with the cached code;
  - from the first look on, any change of the file's bytes (a file's stat data
    is trusted only when it is over two seconds older than the look, as git
    guards its index).

  Not covered: a module imported before ``taggedartifacts`` and edited before
  ``taggedartifacts`` was imported, when it has no bytecode cache to ask
  (``PYTHONDONTWRITEBYTECODE``, or a loader other than Python's own) or when
  another Python process compiled the edited file in that time.

A call costs one ``stat`` per loaded file of the work tree in steady state:
modules loaded since the last look are examined, and git is asked again only
when those, or the index, change.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import time
from typing import Any, NamedTuple

from . import _git as git
from ._fingerprint import content_digest

_RACY_NS = 2_000_000_000  # FAT stores times to 2 s; everything else is finer
# File times come from a clock that advances a tick at a time (a few ms on Linux, whose
# coarse clock says how long; Windows' is 15.6 ms): a time within a tick of a moment
# may be before or after it.
_TICK_NS = int(time.clock_getres(5) * 1e9) if sys.platform == "linux" else 20_000_000  # 5:
# CLOCK_REALTIME_COARSE, which the kernel stamps file times with and Python does not name


class _ImportTimes:
    """A finder that finds nothing: it notes when each import begins, so that a module
    file changed after that moment is known to have changed after it was loaded."""

    def __init__(self) -> None:
        self.began: dict[str, int] = {}

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        self.began[name] = time.time_ns()  # a reload begins again: what it loads is what runs


_IMPORTS = _ImportTimes()
sys.meta_path.insert(0, _IMPORTS)
_EXECUTED: dict[str, int] = {}  # files whose code ran since the last look -> when


def _audit(event: str, args: tuple[Any, ...]) -> None:
    """Note the file of every code object executed: code need not be imported to run."""
    if event == "exec":
        name = getattr(args[0], "co_filename", None)
        if isinstance(name, str) and not name.startswith("<"):  # "<string>": no file
            _EXECUTED[os.path.abspath(name)] = time.time_ns()


sys.addaudithook(_audit)  # for the process's life: audit hooks cannot be removed
_SINCE = time.time_ns()  # taggedartifacts was imported: every module loaded before, after
_BEFORE = frozenset(sys.modules)
UNKNOWN = b"unknown " + os.urandom(8).hex().encode()  # what ran, where that cannot be told


class _Seen(NamedTuple):
    name: str | None  # the module's name
    began: int  # when the import this describes began (0: not known)
    ran: bytes  # what ran (``content_digest``), or UNKNOWN
    key: tuple[int, int, int, int]  # stat data when ``digest`` was read
    digest: bytes  # what the file held then
    racy: bool  # the file was modified within two seconds of that read: read it again


class Loaded(NamedTuple):
    """What the loaded code of a work tree shows, as paths relative to its root."""

    untracked: tuple[str, ...]  # neither tracked nor ignored ("dir/" for a repository),
    # or reached through a link to a file git does not track in the work tree
    stale: tuple[tuple[str, bytes], ...]  # changed on disk since loaded, and what ran


_FILES: dict[str, _Seen] = {}  # real paths of loaded source files outside installed packages
_LINKS: dict[str, str] = {}  # loaded files reached through a link: as spelled -> real path
_LOOKED: set[str] = set()  # every path looked at, as modules spell it
_MODULES: list[tuple[int, str]] = [(0, "")]  # sys.modules at the last look: length, newest
_GENERATION = [0]  # changes to _FILES, so that answers know when they are out of date
_LOCK = threading.Lock()  # threads may call at once: the look and the answers are shared


class _Answer(NamedTuple):
    key: object  # the index's stat data and the _FILES generation it was computed for
    untracked: tuple[str, ...]
    mine: tuple[str, ...]  # the loaded files of this work tree, to check for staleness


_ANSWERS: dict[str, _Answer] = {}  # work tree root -> its answer


def add_source(path: str, module: Any) -> None:
    """Count ``path`` (a decorated function's file, whatever imported it) as code that ran.

    :param module: the module it defines, when it is in ``sys.modules``.
    """
    with _LOCK:
        _LOOKED.discard(path)
        _add(path, module)


def loaded_changes(root: str, index_key: object) -> Loaded:
    """Untracked and stale loaded code in the work tree at ``root``.

    :param index_key: the index's stat data: what git tracks changes only with it.
    """
    with _LOCK:
        modules = sys.modules
        # Length and newest name: a module popped and another imported still shows.
        now = (len(modules), next(reversed(modules.keys()), ""))
        if now != _MODULES[0] or _EXECUTED:
            _look()
            _MODULES[0] = now
        key = (index_key, _GENERATION[0])
        answer = _ANSWERS.get(root)
        if answer is None or answer.key != key:
            mine = tuple(sorted(f for f in _FILES if f.startswith(root + os.sep)))
            untracked = _ask_git(root, mine) + _unverified(root)
            answer = _ANSWERS[root] = _Answer(key, tuple(sorted(untracked)), mine)
        stale = tuple((os.path.relpath(f, root), _FILES[f].ran) for f in answer.mine if _changed(f))
    return Loaded(answer.untracked, stale)


def _look() -> None:
    """Add the files of modules loaded, and of code run, since the last look."""
    for module in list(sys.modules.values()):  # a copy: another thread may import meanwhile
        path = getattr(module, "__file__", None)
        if isinstance(path, str):
            _add(path, module)
    while _EXECUTED:  # one item at a time: the hook may add more meanwhile
        path, began = _EXECUTED.popitem()
        _add(path, None, began)


def _add(path: str, module: Any, began: int = 0) -> None:
    if path in _LOOKED:
        return
    _LOOKED.add(path)
    if installed(path):  # most modules: decided without resolving links
        return
    real = os.path.realpath(path)  # git names the work tree by its real path too
    if not os.path.isfile(real):
        real = archive(real)  # a module inside a zip: the zip is what ran
    spelled = os.path.abspath(path)
    if real and spelled != real and os.path.isfile(spelled):  # also to installed code
        _LINKS[spelled] = real
        _GENERATION[0] += 1
    if not real or real in _FILES or installed(real):
        return
    _FILES[real] = _baseline(real, module, began)
    _GENERATION[0] += 1


def archive(path: str) -> str:
    """The file that holds ``path`` (``lib.zip`` for ``lib.zip/mod.py``); "" if none."""
    parent = os.path.dirname(path)
    while parent != os.path.dirname(parent) and not os.path.isdir(parent):
        if os.path.isfile(parent):
            return parent
        parent = os.path.dirname(parent)
    return ""


def _baseline(path: str, module: Any, began: int = 0) -> _Seen:
    """What a module's file holds now, and whether that is what ran (``began``: when its
    code ran, for a file run without an import)."""
    name = getattr(module, "__name__", None)
    if name is not None:
        began = _IMPORTS.began.get(name, 0)
    key, digest, racy = _read(path)
    ran = UNKNOWN if _changed_since_load(name, began, module, path, key) else digest
    return _Seen(name, began, ran, key, digest, racy)


def _read(path: str) -> tuple[tuple[int, int, int, int], bytes, bool]:
    """A file's stat data, digest, and whether that stat data is too fresh to trust."""
    started = time.time_ns()
    key = _stat_key(path)
    newest = max(key[1], key[2])  # mtime, ctime
    return key, content_digest(os.fsencode(path)), newest >= started - _RACY_NS


def _changed(path: str) -> bool:
    """Whether a loaded file no longer holds what ran (reading it only when its stat data
    changed, or was too fresh to trust when last read)."""
    seen = _FILES[path]
    if seen.name is not None and _IMPORTS.began.get(seen.name, 0) > seen.began:
        seen = _FILES[path] = _baseline(path, sys.modules.get(seen.name))  # reloaded since
    if seen.racy or _stat_key(path) != seen.key:
        key, digest, racy = _read(path)
        seen = _FILES[path] = seen._replace(key=key, digest=digest, racy=racy)
    return seen.digest != seen.ran


def _changed_since_load(
    name: str | None, began: int, module: Any, path: str, key: tuple[int, int, int, int]
) -> bool:
    """Whether a module's file changed after the module was loaded, as far as the time
    its import began, the time taggedartifacts was imported, and its bytecode tell.

    A change of the file's status (its ctime) is a change: a file rewritten with the
    same bytes after the import (``touch``, a stash and its pop) counts too, since
    nothing then shows what ran. File times come from a clock that ticks coarsely, so
    a time within a tick of the import cannot tell which came first.
    """
    ctime = key[2]
    if began:  # loaded just after its import began
        if ctime <= began - _TICK_NS:
            return False
        if ctime > began:
            return True
        return _bytecode_disagrees(module, path, ctime) is not False
    if name in _BEFORE and ctime > _SINCE - _TICK_NS:  # loaded before taggedartifacts was
        return True
    return bool(_bytecode_disagrees(module, path, ctime))


def _bytecode_disagrees(module: Any, path: str, ctime: int) -> bool | None:
    """Whether the module's bytecode cache shows that what ran is not what ``path`` holds
    (None: there is no cache to ask).

    When Python loads a module it brings the cache up to date, so the cache holds the
    code that ran; a source changed after its cache was written is compared with it.
    """
    import importlib.machinery
    import importlib.util
    import marshal

    spec = getattr(module, "__spec__", None)
    loader = getattr(spec, "loader", None)
    if sys.dont_write_bytecode or type(loader) is not importlib.machinery.SourceFileLoader:
        return None  # no cache this process keeps up to date
    try:
        with open(spec.cached, "rb") as fh:  # type: ignore[union-attr]
            bytecode, written = fh.read(), os.fstat(fh.fileno()).st_mtime_ns
        if bytecode[:4] != importlib.util.MAGIC_NUMBER:
            return None
        if ctime < written:
            return False  # the source is older than the code that ran
        with open(path, "rb") as fh:
            source = fh.read()
        ran = marshal.loads(bytecode[16:])
        return bool(ran != compile(source, path, "exec", dont_inherit=True))
    except (OSError, TypeError):
        return None
    except (SyntaxError, ValueError, EOFError):  # not the code that ran, whatever it is
        return True


def _stat_key(path: str) -> tuple[int, int, int, int]:
    try:
        st = os.stat(path)
    except OSError:
        return (-1, -1, -1, -1)  # gone: certainly not what ran
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def installed(path: str) -> bool:
    """A file of the standard library or of a package installed for this interpreter
    (its ``site-packages``, the user's): never the user's code.

    Not everything under ``sys.prefix`` (a repository may live in ``/usr/src``); another
    environment's ``site-packages`` (on ``PYTHONPATH``) too, but not one inside a work
    tree, which holds code no commit holds.
    """
    if path.startswith(_installed_places()):
        return True
    parts = path.split(os.sep)  # another environment's packages, unless a work tree has them
    found = "site-packages" in parts or "dist-packages" in parts
    return found and _dotgit(os.path.dirname(path)) is None


_dotgit = functools.lru_cache(maxsize=256)(git.nearest_dotgit)  # per directory, once


@functools.cache
def _installed_places() -> tuple[str, ...]:
    import site
    import sysconfig

    places = [*map(sysconfig.get_path, ("stdlib", "platstdlib")), *site.getsitepackages()]
    if site.ENABLE_USER_SITE:  # on sys.path only then (a virtualenv turns it off)
        places.append(site.getusersitepackages())
    places += [os.path.realpath(p) for p in places]  # modules spell paths either way
    return tuple({os.path.abspath(p).rstrip(os.sep) + os.sep for p in places})


def _unverified(root: str) -> tuple[str, ...]:
    """Loaded files reached through a link inside the work tree whose real file is not
    tracked in it (outside it, or ignored): code git cannot vouch for."""
    linked = {s: r for s, r in _LINKS.items() if s.startswith(root + os.sep)}
    inside = [os.path.relpath(r, root) for r in linked.values() if r.startswith(root + os.sep)]
    tracked = set()
    if inside:
        out = git.check(root, "--literal-pathspecs", "ls-files", "-z", "--", *inside)
        tracked = {os.fsdecode(p) for p in out.split(b"\0") if p}
    return tuple(
        os.path.relpath(spelled, root)
        for spelled, real in linked.items()
        if os.path.relpath(real, root) not in tracked or not real.startswith(root + os.sep)
    )


def _ask_git(root: str, mine: tuple[str, ...]) -> tuple[str, ...]:
    """Of the loaded files of a work tree, those git neither tracks nor ignores: files of
    its own, an untracked nested repository (as ``dir/``), untracked files of a submodule."""
    own: list[str] = []
    nested: dict[str, list[str]] = {}
    for path in mine:
        owner = _owner(path, root)
        if owner == root:
            own.append(os.path.relpath(path, root))
        elif owner is not None:
            nested.setdefault(owner, []).append(path)
    found = set(_untracked(root, own))
    for inner, files in nested.items():
        prefix = os.path.relpath(inner, root)
        if _is_submodule(root, prefix):  # its commit is tracked; untracked files are not
            found.update(f"{prefix}/{p}" for p in _ask_git(inner, tuple(files)))
        elif _untracked(root, [prefix], directory=True):  # a repository git does not track
            found.add(prefix + "/")
    return tuple(sorted(found))


def _untracked(root: str, paths: list[str], *, directory: bool = False) -> list[str]:
    if not paths:
        return []
    # Only .gitignore files say what is ignored: a clone's .git/info/exclude is its own.
    args = [
        "--literal-pathspecs",
        "ls-files",
        "-z",
        "--others",
        "--exclude-per-directory=.gitignore",
    ]
    out = git.check(root, *args, *(["--directory"] if directory else []), "--", *paths)
    return [os.fsdecode(p) for p in out.split(b"\0") if p]


def _is_submodule(root: str, prefix: str) -> bool:
    out = git.check(root, "--literal-pathspecs", "ls-files", "-s", "--", prefix)
    return out.startswith(b"160000 ")


def _owner(path: str, root: str) -> str | None:
    """The work tree a file belongs to: a nested repository's files are not ``root``'s."""
    current = os.path.dirname(path)
    while current.startswith(root):
        if current == root or os.path.lexists(os.path.join(current, ".git")):
            return current
        current = os.path.dirname(current)
    return None
