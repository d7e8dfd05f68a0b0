"""The command line's grammar: each command, its options and their help, for argparse.

Kept apart from what the commands do (``_cli``), so that reading one does not
mean scrolling through the other. Usage errors are one line on stderr, like
every other error of the command, and exit with 2.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from typing import TypeAlias

    Commands: TypeAlias = "argparse._SubParsersAction[_Parser]"

EPILOG = """\
examples:
  taggedartifacts tag plots/loss.png --config '{"lr": 0.1}'
  Rscript plot.R --out "$(taggedartifacts tag plots/loss.png --config @config.json)"
  taggedartifacts tag model.bin --arg lr=0.1 --arg cfg=@config.json
  taggedartifacts ls plots/loss.png --where lr=0.1 --config-columns
  taggedartifacts show plots/loss-3f2a9c1-21b3876c40.png
  taggedartifacts diff plots/loss-3f2a9c1-21b3876c40.png plots/loss-3f2a9c1-e595a20c49.png
  taggedartifacts latest plots/loss.png --config '{"lr": 0.1}'
  taggedartifacts verify plots/loss.png
  taggedartifacts prune plots/loss.png --unreachable --older-than 30 --dry-run

exit status:
  0  success
  1  a file is missing, not tagged or modified, nothing matched, or git refused (a dirty tree)
  2  a usage error: an unknown option, bad JSON, a --repo that is not a directory

"taggedartifacts COMMAND --help" describes a command's options.
"""


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors on one line like every other error (argparse
    prints the usage first); subcommands' parsers are made of this class too."""

    def error(self, message: str) -> NoReturn:
        one_line = " ".join(message.split())
        self.exit(2, f"taggedartifacts: error: {one_line}; see {self.prog} --help\n")


def parser() -> argparse.ArgumentParser:
    """The parser of ``taggedartifacts``; ``command`` names the command that was given."""
    from . import __version__

    top = _Parser(
        prog="taggedartifacts",
        description="Name files after the git commit and config that made them.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = top.add_subparsers(
        dest="command", required=True, metavar="COMMAND", help="one of these:"
    )
    for add in (_tag, _latest, _ls, _show, _diff, _verify, _prune):
        add(commands)
    return top


def _command(commands: Commands, name: str, summary: str) -> argparse.ArgumentParser:
    return commands.add_parser(name, help=summary, description=summary)


def _tag(commands: Commands) -> None:
    tag = _command(commands, "tag", "print the tagged path the decorator would use now")
    tag.add_argument("path", metavar="PATH", help="the untagged path (or fsspec URL) to tag")
    _naming(tag, "a directory of the work tree whose state names the path (default: .)")
    _flag(tag, "--untracked", "count untracked files as changes")
    _json(tag, "the path and what names it: commit, code, dirty state, config hash")


def _latest(commands: Commands) -> None:
    latest = _command(commands, "latest", 'print the version of PATH that read="latest" reads')
    latest.add_argument("path", metavar="PATH", help="the untagged path the reader is given")
    _naming(latest, "a directory of the work tree whose HEAD counts (default: .)")
    _json(latest, "the version, as ls --json lists it")


def _naming(command: argparse.ArgumentParser, repo: str) -> None:
    """What names a call: its config, hashed arguments, dirty state and scope."""
    _config(command)
    command.add_argument(
        "--arg",
        metavar="NAME=VALUE",
        action="append",
        type=_assignment,
        default=[],
        dest="arguments",
        help="a hashed argument (include_args): VALUE is JSON, else a string, or @FILE; "
        "give each one the decorator hashes (with include_args=True, every parameter but "
        "the paths, defaults included); repeatable",
    )
    _flag(command, "--allow-dirty", "name after a dirty tree instead of refusing")
    _repo(command, repo)
    _depends_on(command)


def _ls(commands: Commands) -> None:
    ls = _command(commands, "ls", "list the tagged versions of PATH, newest first")
    ls.add_argument("path", metavar="PATH", help="the untagged path (or any of its versions)")
    _json(ls, "one object per version")
    ls.add_argument(
        "--where",
        metavar="KEY=VALUE",
        action="append",
        type=_assignment,
        default=[],
        help="only versions whose provenance record has this config (or hashed argument) "
        "value; VALUE is JSON, else a string; dotted keys reach into nested values "
        "(model.depth=3); repeatable",
    )
    _flag(ls, "--config-columns", "add a column for each config key (and hashed argument) whose "
          "value differs between the versions, read from their provenance records")  # fmt: skip
    _repo(ls, "a directory of the work tree that knows the commits (default: PATH's)")


def _show(commands: Commands) -> None:
    show = _command(commands, "show", "print everything known about one tagged FILE")
    show.add_argument("path", metavar="FILE", help="a tagged file or directory (a PATH of ls)")
    _json(show, "what ls --json says of it, and its provenance record")


def _diff(commands: Commands) -> None:
    diff = _command(commands, "diff", "say how two tagged versions differ: code, config, dirt")
    diff.add_argument("a", metavar="A", help="a tagged file or directory")
    diff.add_argument("b", metavar="B", help="another one")
    _json(diff, "the same facts as an object")


def _verify(commands: Commands) -> None:
    verify = _command(commands, "verify", "check versions against their records' digests")
    verify.add_argument("paths", metavar="PATH", nargs="+", help="a path (all versions) or one")
    _json(verify, "one object per version: path, state, detail")


def _prune(commands: Commands) -> None:
    prune = _command(commands, "prune", "remove the versions of PATH every rule selects")
    prune.add_argument("paths", metavar="PATH", nargs="+", help="a path or one of its versions")
    for flag, what in (
        ("--keep", "keep the newest N of the versions selected (of any config)"),
        ("--keep-per-config", "keep the newest N of each config's versions selected"),
    ):
        prune.add_argument(flag, metavar="N", type=_count, help=what)
    _flag(prune, "--unreachable", "select versions whose commit git knows and is not HEAD or an "
          "ancestor of it")  # fmt: skip
    _flag(prune, "--dirty", "select dirty versions")
    prune.add_argument(
        "--older-than", metavar="DAYS", type=_days, help="select versions older than DAYS days"
    )
    _config(prune, default=None, what="select this config's versions, but never the one tag "
            "--config names now: a JSON object, or @FILE")  # fmt: skip
    _flag(
        prune, "--unrecorded", "also remove versions with no record, which a file of yours could be"
    )
    _flag(prune, "--dry-run", "only say what would be removed")
    _flag(prune, "--untracked", "count untracked files when naming the current")
    _repo(prune, "a directory of the work tree whose HEAD and state count (default: PATH's)")
    _depends_on(prune)
    _json(prune, "what was (or would be) removed, spared and freed")


def _json(command: argparse.ArgumentParser, what: str) -> None:
    _flag(command, "--json", f"print JSON: {what}")


def _flag(command: argparse.ArgumentParser, name: str, what: str) -> None:
    command.add_argument(name, action="store_true", help=what)


def _config(
    command: argparse.ArgumentParser,
    default: str | None = "{}",
    what: str = "the config: a JSON object, or @FILE (.json, .yaml, .toml; default: {})",
) -> None:
    command.add_argument("--config", default=default, metavar="JSON", type=_settings, help=what)


def _settings(text: str) -> dict[str, Any]:
    """``--config``: a JSON object, or ``@file`` (JSON, YAML or TOML)."""
    found = settings_file(text[1:]) if text.startswith("@") else _loads(text, "not")
    if not isinstance(found, dict):
        raise argparse.ArgumentTypeError(
            f"{'not' if not text.startswith('@') else text[1:] + ' does not hold'} an object "
            """of settings; give one like the decorator's config, e.g. '{"lr": 0.1}'"""
        )
    return found


def settings_file(name: str) -> Any:
    """What a settings file holds, by its suffix: ``.yaml``/``.yml`` (with PyYAML),
    ``.toml`` (with tomllib, or tomli before Python 3.11), else JSON."""
    try:
        with open(name, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise argparse.ArgumentTypeError(f"there is no file {name}") from None
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {name} ({exc.strerror})") from None
    suffix = os.path.splitext(name)[1].lower()
    if suffix in (".yaml", ".yml", ".toml"):
        return _load_other(name, data, suffix)
    try:
        return _loads(data.decode("utf-8"), f"{name} is not")
    except UnicodeDecodeError:
        raise argparse.ArgumentTypeError(f"{name} is not UTF-8 text; save it as UTF-8") from None


def _load_other(name: str, data: bytes, suffix: str) -> Any:
    import importlib

    modules = ("yaml",) if suffix != ".toml" else ("tomllib", "tomli")
    for module_name in modules:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        try:
            if module_name == "yaml":
                return module.safe_load(data)
            return module.loads(data.decode("utf-8"))
        except Exception as exc:  # the parser's own error, whatever its class: in one line
            message = " ".join(str(exc).split())
            raise argparse.ArgumentTypeError(f"{name} cannot be read: {message}") from None
    need = "pip install PyYAML" if suffix != ".toml" else "Python 3.11, or pip install tomli"
    raise argparse.ArgumentTypeError(f"reading {name} needs {need}")


def _loads(text: str, source: str) -> Any:
    import json

    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"{source} valid JSON: {exc}") from None
    except RecursionError:
        raise argparse.ArgumentTypeError(f"{source} JSON Python can read: too deep") from None
    except ValueError:  # an integer longer than Python converts (sys.get_int_max_str_digits)
        raise argparse.ArgumentTypeError(
            "an integer there has more digits than Python reads (4300 unless "
            "PYTHONINTMAXSTRDIGITS says otherwise); write it as a JSON string, or raise that limit"
        ) from None


def _assignment(text: str) -> tuple[str, Any]:
    """``KEY=VALUE``: the key, and the value as JSON, else the text itself, or ``@file``."""
    key, equals, value = text.partition("=")
    if not equals or not key:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE; write e.g. lr=0.1")
    if value.startswith("@"):
        return key, settings_file(value[1:])
    try:
        return key, _loads(value, f"{key}=: the value is not")
    except argparse.ArgumentTypeError as exc:
        if "valid JSON" in str(exc):
            return key, value  # a bare word: --where optimizer=adam
        raise


def _repo(command: argparse.ArgumentParser, what: str) -> None:
    command.add_argument("--repo", metavar="DIR", type=_directory, help=what)


def _depends_on(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--depends-on",
        metavar="PATH",
        action="append",
        help="a path (relative to the work tree's root) that holds the code, as depends_on=; "
        "repeat it for each (the decorator also counts its own file: name it too)",
    )


def _count(text: str) -> int:
    """``--keep N``: a whole number, 0 or more."""
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a count; give 0 or more, e.g. --keep 3")
    return int(text)


def _days(text: str) -> float:
    """``--older-than DAYS``: a number of days, 0 or more (fractions allowed)."""
    try:
        days = float(text)
    except ValueError:
        days = -1.0
    if not days >= 0 or days == float("inf"):  # also refuses nan
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of days; give 0 or more, e.g. --older-than 30 or 0.5"
        )
    return days


def _directory(text: str) -> str:
    """``--repo``: a directory that exists (git would otherwise search above it)."""
    if not os.path.isdir(text):
        problem = "is not a directory" if os.path.exists(text) else "does not exist"
        raise argparse.ArgumentTypeError(f"{text} {problem}; give a directory of the work tree")
    return text
