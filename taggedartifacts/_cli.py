"""The ``taggedartifacts`` command: the same names for shell scripts, Make and other languages.

Exit status: 0 on success, 1 when a file is missing, not tagged or modified,
nothing matched (``ls --where``, ``prune``) or git refuses (a dirty tree), 2 for
usage errors. Errors and warnings are one line on stderr; a reader that stops
reading (``| head``) ends the command quietly, as it ends ``git log``. The
grammar is in ``_arguments``; what the commands print is at the end of this
module. The commands that read versions import the reading side when they run,
so ``tag`` (run once per file from Make) starts without it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from ._arguments import parser
from ._dirty import dirty_error
from ._errors import InvalidArgumentError, NotTaggedError, TaggedArtifactsError
from ._function import call_hash, rooted
from ._gitinfo import GitState, git_state
from ._hashing import config_hash
from ._records import record_path
from ._tagging import parse, tag_path, untagged_path


class UsageError(Exception):
    """A usage mistake the parser cannot catch (prune without a rule)."""


def run() -> None:
    """The console script: :func:`main`, dying quietly of a closed pipe as git does."""
    import signal

    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    import warnings

    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error the parser has already printed
        return exc.code if isinstance(exc.code, int) else 2
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _warning
            return _COMMANDS[args.command](args)
    except (UsageError, InvalidArgumentError) as exc:  # e.g. --depends-on naming nothing
        _error(str(exc))
        return 2
    except (TaggedArtifactsError, OSError, ValueError) as exc:
        if isinstance(exc, OSError) and exc.filename and exc.strerror:  # as git says it
            exc = OSError(f"{exc.filename}: {exc.strerror}")  # "PATH: what", no errno
        _error(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return 1


def _error(message: str) -> None:
    print(f"taggedartifacts: error: {_in_option_words(message)}", file=sys.stderr)


def _warning(message: Warning | str, *args: Any, **kwargs: Any) -> None:
    print(f"taggedartifacts: warning: {message}", file=sys.stderr)


# The library's messages name its keywords (repo=, allow_dirty=True); here the user typed
# options. Not after a path character, so that a directory called depends_on stays itself.
_OPTION_WORDS = (
    (r"(?<![\w/.-])depends_on=\['([^']*)'\]", r"--depends-on \1"),
    (r"(?<![\w/.-])depends_on\b", "--depends-on"),
    (r"(?<![\w/.-])allow_dirty=True\b", "--allow-dirty"),
    (r"(?<![\w/.-])untracked=True\b", "--untracked"),
    (r"(?<![\w/.-])repo=", "--repo"),
)


def _in_option_words(message: str) -> str:
    """A library message in the command line's words: ``--repo`` instead of ``repo=``."""
    import re

    for pattern, replacement in _OPTION_WORDS:
        message = re.sub(pattern, replacement, message)
    return message


def _tag(args: argparse.Namespace) -> int:
    state = _state(args, untracked=args.untracked)
    found = parse(args.path) if untagged_path(args.path) != args.path else None
    if found and (state.code or state.commit).startswith(found.code or found.commit or "?"):
        made = untagged_path(args.path)  # a name tag printed now, given back to it
        raise UsageError(f"{args.path} is tagged already; give the path it was made from, {made}")
    digest = _digest(args, state)
    path = tag_path(
        args.path, commit=state.commit, config_digest=digest, fingerprint=state.diff,
        scope_key=state.code,
    )  # fmt: skip
    if args.json:
        return _print_json(
            {
                "path": path,
                "commit": state.commit,
                "code": state.code,
                "dirty": state.dirty,
                "diff": state.diff,
                "config_hash": digest,
            }
        )
    print(path)
    return 0


def _state(args: argparse.Namespace, untracked: bool = False) -> GitState:
    """The git state a decorated call would see; refused when dirty, as the call is."""
    keys = [key for key, _ in args.arguments]
    twice = sorted({key for key in keys if keys.count(key) > 1})
    if twice:  # one call has one value for each argument: said before git runs
        raise UsageError(f"--arg {twice[0]}= is given more than once; give each argument once")
    state = git_state(args.repo, untracked=untracked, depends_on=args.depends_on)
    if state.dirty and not args.allow_dirty:
        raise dirty_error(args.command, None, state)
    if state.dirty:
        print(f"taggedartifacts: warning: uncommitted changes in {state.root}", file=sys.stderr)
    return state


def _digest(args: argparse.Namespace, state: GitState) -> str:
    """The config's hash, or with ``--arg`` the hash of the config and those arguments
    (paths in the work tree spelled from its root, as the decorator spells them)."""
    if not args.arguments:
        return config_hash(args.config)
    return call_hash(args.config, rooted(dict(args.arguments), state.root))


def _latest(args: argparse.Namespace) -> int:
    from ._versions import latest

    state = _state(args)
    found = latest(args.path, _digest(args, state), state)
    if found is None:
        _error(f"no clean version of {args.path} with this config at HEAD or before it")
        return 1
    if args.json:
        from ._versions import VersionList

        return _print_json(VersionList([found], args.path).rows(repo=args.repo)[0])
    print(found.path)
    return 0


def _ls(args: argparse.Namespace) -> int:
    from ._configs import config_of
    from ._versions import VersionList, versions

    query = untagged_path(args.path)  # tab completion gives a version's name: list its siblings
    found = versions(query)
    if not found:
        _error(f"no tagged versions of {query}")
        return 1
    configs = {v.path: config_of(v) for v in found} if args.where or args.config_columns else {}
    if args.where:
        found = VersionList([v for v in found if _matches(configs[v.path], args.where)], query)
        if not found:
            _error(_nothing_matches(query, args.where, configs))
            return 1
    rows = found.rows(repo=args.repo)
    keys = _config_columns(rows, [configs[v.path] for v in found]) if args.config_columns else []
    if args.json:
        return _print_json(rows)
    print("\n".join(ls_table(rows, keys)))
    return 0


def _config_columns(rows: list[dict[str, Any]], configs: list[dict[str, Any] | None]) -> list[str]:
    """The config keys whose values differ between the rows' versions; each row gets its
    values of them as ``config_values``."""
    from ._configs import MISSING, differing, lookup

    if all(c is None for c in configs):
        print(f"taggedartifacts: note: {_NO_RECORDS}", file=sys.stderr)
    keys = differing(configs)
    for row, config in zip(rows, configs, strict=True):
        values = {k: lookup(config or {}, k) for k in keys}
        row["config_values"] = {k: v for k, v in values.items() if v is not MISSING}
    return keys


_NO_RECORDS = "no version has a provenance record with its config; write them with provenance=True"


def _matches(config: dict[str, Any] | None, where: list[tuple[str, Any]]) -> bool:
    """Whether a config has every ``--where`` value (no record: no match)."""
    from ._configs import lookup, matches

    return config is not None and all(matches(lookup(config, k), v) for k, v in where)


def _nothing_matches(
    query: str, where: list[tuple[str, Any]], configs: dict[Any, dict[str, Any] | None]
) -> str:
    if all(c is None for c in configs.values()):
        return f"--where reads configs from provenance records, but of {query} {_NO_RECORDS}"
    given = " ".join(f"--where {k}={json.dumps(v)}" for k, v in where)
    return (
        f"no version of {query} matches {given}; "
        f"taggedartifacts ls {query} --config-columns shows how their configs differ"
    )


def _show(args: argparse.Namespace) -> int:
    from ._versions import describe, versions

    try:
        info = describe(args.path)
    except NotTaggedError:
        found = versions(args.path)
        if not found:
            raise
        count = f"{len(found)} version{'s' * (len(found) != 1)}"
        _error(
            f"{args.path} is not a tagged name, but it has {count}: "
            f"taggedartifacts ls {args.path} lists them, with the paths show takes"
        )
        return 1
    if args.json:
        return _print_json(info)
    record = info.pop("provenance")
    for key, value in info.items():
        print(f"{key + ':':<13}{'' if value is None else value}")
    if record is None:  # a record that is there was unreadable: describe() warned of it
        unread = os.path.lexists(record_path(args.path))
        made = "none (made without cache=True or provenance=True)"
        print(f"{'provenance:':<13}{'unreadable (see the warning above)' if unread else made}")
        return 0
    if record.get("depends_on"):
        print(f"{'checkout:':<13}git checkout {record.get('commit')} (its code, in a work tree)")
    print("provenance:")
    for line in json.dumps(record, indent=2, ensure_ascii=False).splitlines():
        print("  " + line)
    return 0


def _diff(args: argparse.Namespace) -> int:
    from ._configs import MISSING, diff

    found = diff(args.a, args.b)
    if args.json:
        shown = {k: [None if v is MISSING else v for v in pair] for k, pair in found.config.items()}
        return _print_json({**found._asdict(), "config": shown})
    print("\n".join(diff_lines(found)))
    return 0


def _verify(args: argparse.Namespace) -> int:
    from ._versions import verify

    checks = [check for path in args.paths for check in verify(path)]
    if args.json:
        _print_json([{"path": os.fspath(c.path), "state": c.state, "detail": c.detail}
                     for c in checks])  # fmt: skip
    else:
        print("\n".join(table([[c.state, os.fspath(c.path), c.detail] for c in checks])))
    return 0 if all(c.intact for c in checks) else 1


def _prune(args: argparse.Namespace) -> int:
    from ._prune import prune
    from ._versions import versions

    rules = _rules(args)
    if not rules:
        raise UsageError(
            "say which versions to remove: --keep N, --keep-per-config N, --unreachable, "
            "--dirty, --older-than DAYS or --config JSON (prune removes nothing without one); "
            "add --dry-run to look first"
        )
    queries = list(dict.fromkeys(untagged_path(p) for p in args.paths))  # as ls takes them
    results = [
        prune(versions(query), keep=args.keep or 0, keep_per_config=args.keep_per_config,
              unreachable=args.unreachable, dirty=args.dirty, older_than=args.older_than,
              config=args.config, unrecorded=args.unrecorded, dry_run=args.dry_run,
              repo=args.repo, depends_on=args.depends_on, untracked=args.untracked)
        for query in queries
    ]  # fmt: skip
    removed = sum(len(r.removed) for r in results)
    if args.json:
        _print_json([_pruned(r) for r in results])
    else:
        _print_pruned(results, args.dry_run)
    if not removed:
        seen = sum(len(versions(q)) for q in queries)
        spared = sum(len(r.spared) for r in results)
        _error(_nothing_to_remove(", ".join(queries), seen, rules, spared))
        return 1
    return 0


def _print_pruned(results: list[Any], dry_run: bool) -> None:
    for result in results:
        for version in result.spared:
            print(f"kept {os.fspath(version.path)}: tag --config names it now")
        for version in result.unrecorded:
            print(f"kept {os.fspath(version.path)}: no record shows this library made it "
                  "(--unrecorded removes it too)")  # fmt: skip
        for path in result.paths:
            print(f"{'would remove' if dry_run else 'removed'} {path}")
    removed, freed = sum(len(r.removed) for r in results), sum(r.freed for r in results)
    if removed:
        counted = f"{removed} version{'s' * (removed != 1)}"
        print(f"{'would free' if dry_run else 'freed'} {byte_count(freed)} in {counted}")


def _pruned(result: Any) -> dict[str, Any]:
    """One JSON object per path pruned: its versions as ls --json lists them."""
    from ._versions import VersionList

    def rows(found: Sequence[Any]) -> list[dict[str, Any]]:
        return VersionList(found, os.fspath(found[0].path)).rows() if found else []

    return {
        "removed": rows(result.removed),
        "paths": result.paths,
        "freed": result.freed,
        "spared": rows(result.spared),
        "unrecorded": rows(result.unrecorded),
        "dry_run": result.dry_run,
    }


def _nothing_to_remove(queries: str, seen: int, rules: str, spared: int) -> str:
    if not seen:
        return f"no tagged versions of {queries}"
    if spared:
        return f"nothing to remove: {rules} selects only what tag --config names now, which stays"
    return f"nothing to remove: {rules} selects none of the {seen} versions of {queries}"


def _rules(args: argparse.Namespace) -> str:
    """The selecting options given, as typed (for messages); empty when there are none."""
    given = [
        "--unreachable" if args.unreachable else "",
        "--dirty" if args.dirty else "",
        f"--older-than {args.older_than:g}" if args.older_than is not None else "",
        "--config" if args.config is not None else "",
        f"--keep {args.keep}" if args.keep is not None else "",
        f"--keep-per-config {args.keep_per_config}" if args.keep_per_config is not None else "",
    ]
    return " ".join(g for g in given if g)


def _print_json(value: Any) -> int:
    print(json.dumps(value, indent=2, ensure_ascii=False))
    return 0


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "tag": _tag,
    "latest": _latest,
    "ls": _ls,
    "show": _show,
    "diff": _diff,
    "verify": _verify,
    "prune": _prune,
}


# What the commands print: plain rows in, lines of text out.

_BEFORE = ("path", "commit", "relation", "commit_date", "dirty", "config")
_AFTER = ("size", "modified")


def ls_table(rows: list[dict[str, Any]], keys: list[str]) -> list[str]:
    """The lines of the ``ls`` table: each row of ``VersionList.rows()``, with a column per
    config key in ``keys`` (values from the row's ``config_values``) after CONFIG, and a
    CODE column when a scoped name carries a content key."""
    from ._configs import MISSING

    before = (*_BEFORE[:2], "code", *_BEFORE[2:]) if any(r["code"] for r in rows) else _BEFORE
    header = [c.upper().replace("_", " ") for c in before] + keys
    cells = [header + [c.upper() for c in _AFTER] + ["SUBJECT"]]
    for row in rows:
        values = row.get("config_values", {})
        cells.append(
            [_text(row[c]) for c in before]
            + [config_cell(values.get(k, MISSING)) for k in keys]
            + [_text(row[c]) for c in _AFTER]
            + [row["subject"] or ""]
        )
    return table(cells)


def diff_lines(found: Any) -> list[str]:
    """The lines ``diff`` prints for a :class:`~taggedartifacts.Difference`."""
    same = {True: "the same", False: "different", None: "not comparable"}[found.same_code]
    commits = " and ".join(c or "?" for c in found.commits)
    lines = [f"code:    {same} (commits {commits})"]
    lines += ["         " + line for line in found.files.splitlines()]
    if not found.config and not found.notes:
        lines.append("config:  the same")
    for key, (a, b) in found.config.items():
        lines.append(
            f"config:  {key}: {config_cell(a) or '(none)'} -> {config_cell(b) or '(none)'}"
        )
    if any(found.dirty):
        lines.append(f"dirty:   {found.dirty[0] or 'clean'} and {found.dirty[1] or 'clean'}")
    return lines + [f"note:    {note}" for note in found.notes]


def table(cells: list[list[str]]) -> list[str]:
    """Columns padded to their widest cell; the last one (free text) is not padded."""
    widths = [max(len(line[i]) for line in cells) for i in range(len(cells[0]) - 1)]
    lines = []
    for line in cells:
        padded = (cell.ljust(width) for cell, width in zip(line[:-1], widths, strict=True))
        lines.append(("  ".join(padded) + "  " + line[-1]).rstrip())
    return lines


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def config_cell(value: Any) -> str:
    """A config value as ``ls --where`` takes it: JSON, but a string bare unless it would
    then read as another JSON value (the string ``"0.1"`` stays quoted)."""
    from ._configs import MISSING, shown

    if value is MISSING:
        return ""
    value = shown(value)  # a set, a date, an array's digest: as text, at any depth
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def byte_count(count: int) -> str:
    """A number of bytes, exact, and in the largest decimal unit it reaches."""
    exact = f"{count} byte{'s' * (count != 1)}"
    for unit, scale in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if count >= scale:
            return f"{exact} ({count / scale:.1f} {unit})"
    return exact
