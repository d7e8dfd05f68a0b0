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

__all__ = ["parser"]

EPILOG = """\
examples:
  taggedartifacts tag plots/loss.png --config '{"lr": 0.1}'
  Rscript plot.R --out "$(taggedartifacts tag plots/loss.png --config @config.json)"
  taggedartifacts ls plots/loss.png
  taggedartifacts ls plots/loss.png --where lr=0.1 --where model.depth=3
  taggedartifacts ls plots/loss.png --config-columns
  taggedartifacts show plots/loss-3f2a9c1-21b3876c40.png
  taggedartifacts latest plots/loss.png --config '{"lr": 0.1}'
  taggedartifacts prune plots/loss.png --unreachable --older-than 30 --dry-run
  taggedartifacts prune plots/loss.png --config '{"lr": 0.1}' --keep 3

exit status:
  0  success
  1  a file is missing or not tagged, nothing matched, or git refused (a dirty tree)
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
    _tag(commands)
    _latest(commands)
    _ls(commands)
    _show(commands)
    _prune(commands)
    return top


def _command(
    commands: Commands, name: str, summary: str, details: str = ""
) -> argparse.ArgumentParser:
    made: argparse.ArgumentParser = commands.add_parser(
        name, help=summary, description=summary + details
    )
    return made


def _tag(commands: Commands) -> None:
    tag = _command(commands, "tag", "print the tagged path the decorator would use now")
    tag.add_argument("path", metavar="PATH", help="the untagged path (or fsspec URL) to tag")
    _config(tag)
    tag.add_argument(
        "--allow-dirty",
        action="store_true",
        help="name the path after a dirty tree instead of refusing",
    )
    tag.add_argument("--untracked", action="store_true", help="count untracked files as changes")
    _repo(tag, "a directory of the work tree whose state names the path (default: .)")
    _depends_on(tag)


def _latest(commands: Commands) -> None:
    latest = _command(commands, "latest", 'print the version of PATH that read="latest" would read')
    latest.add_argument("path", metavar="PATH", help="the untagged path the reader is given")
    _config(latest)
    latest.add_argument(
        "--allow-dirty", action="store_true", help="read from a dirty tree instead of refusing"
    )
    _repo(latest, "a directory of the work tree whose HEAD counts (default: .)")
    _depends_on(latest)


def _ls(commands: Commands) -> None:
    ls = _command(commands, "ls", "list the tagged versions of PATH, newest first")
    ls.add_argument(
        "path", metavar="PATH", help="the untagged path (or any of its versions) to list"
    )
    ls.add_argument("--json", action="store_true", help="print JSON, one object per version")
    ls.add_argument(
        "--where",
        metavar="KEY=VALUE",
        action="append",
        type=_condition,
        default=[],
        help="only versions whose provenance record has this config value; VALUE is JSON, "
        "else a string; dotted keys reach into nested configs (model.depth=3); repeatable",
    )
    ls.add_argument(
        "--config-columns",
        action="store_true",
        help="add a column for each config key whose value differs between the versions, "
        "read from their provenance records",
    )
    _repo(ls, "a directory of the work tree that knows the commits (default: PATH's)")


def _show(commands: Commands) -> None:
    show = _command(commands, "show", "print everything known about one tagged FILE")
    show.add_argument("path", metavar="FILE", help="a tagged file or directory (a PATH of ls)")
    show.add_argument("--json", action="store_true", help="print JSON")


def _prune(commands: Commands) -> None:
    prune = _command(
        commands,
        "prune",
        "remove tagged versions of PATH and their provenance records",
        ": those every rule given selects, except the newest --keep N. Never an untagged "
        "file, and with --config never the version tag --config names now.",
    )
    prune.add_argument(
        "paths", metavar="PATH", nargs="+", help="an untagged path (or any of its versions)"
    )
    prune.add_argument(
        "--keep",
        metavar="N",
        type=_count,
        help="keep the newest N of the versions selected (of any config)",
    )
    prune.add_argument(
        "--unreachable",
        action="store_true",
        help="select versions whose commit git knows and is not HEAD or an ancestor of it",
    )
    prune.add_argument(
        "--dirty", action="store_true", help="select versions named after a dirty tree"
    )
    prune.add_argument(
        "--older-than",
        metavar="DAYS",
        type=_days,
        help="select versions last modified more than DAYS days ago",
    )
    _config(
        prune,
        default=None,
        what="select this config's versions, but never the one tag --config names now: "
        "a JSON object, or @file.json",
    )
    prune.add_argument(
        "--dry-run", action="store_true", help="remove nothing; print what would be removed"
    )
    prune.add_argument(
        "--untracked",
        action="store_true",
        help="count untracked files as changes when naming the current version",
    )
    _repo(prune, "a directory of the work tree whose HEAD and state count (default: PATH's)")
    _depends_on(prune)


def _config(
    command: argparse.ArgumentParser,
    default: str | None = "{}",
    what: str = "the config: a JSON object, or @file.json (default: {})",
) -> None:
    command.add_argument("--config", default=default, metavar="JSON", type=_json_object, help=what)


def _json_object(text: str) -> dict[str, Any]:
    """``--config``: a JSON object, given as text or as ``@file.json``."""
    import json

    source = "not"
    if text.startswith("@"):
        source = f"{text[1:]} is not"
        text = _read_config_file(text[1:])
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"{source} valid JSON: {exc}") from None
    except ValueError:  # an integer longer than Python converts (sys.get_int_max_str_digits)
        raise argparse.ArgumentTypeError(
            "an integer there has more digits than Python reads (4300 unless "
            "PYTHONINTMAXSTRDIGITS says otherwise); write it as a JSON string, or raise that limit"
        ) from None
    if not isinstance(config, dict):
        raise argparse.ArgumentTypeError(
            f"{source} a JSON object; give one like the decorator's config mapping, "
            """e.g. '{"lr": 0.1}'"""
        )
    return config


def _read_config_file(name: str) -> str:
    """The text of ``--config @file``; a file that cannot be read is a usage error."""
    try:
        with open(name, encoding="utf-8") as fh:
            return fh.read()
    except FileNotFoundError:
        raise argparse.ArgumentTypeError(
            f"there is no file {name}; give the path of a JSON file (relative to the "
            "current directory), or the JSON itself"
        ) from None
    except UnicodeDecodeError:
        raise argparse.ArgumentTypeError(f"{name} is not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise argparse.ArgumentTypeError(
            f"cannot read {name} ({exc.strerror}); give a readable JSON file"
        ) from None


def _repo(command: argparse.ArgumentParser, what: str) -> None:
    command.add_argument("--repo", metavar="DIR", type=_directory, help=what)


def _depends_on(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--depends-on",
        metavar="PATH",
        nargs="+",
        action="extend",
        help="only these paths (relative to the work tree's root) hold the code; as "
        "depends_on=, plus the script's own file, which the decorator always counts",
    )


def _condition(text: str) -> tuple[str, object]:
    """``--where KEY=VALUE``: the dotted key, and the value as JSON (else the text itself)."""
    import json

    key, equals, value = text.partition("=")
    if not equals or not key:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not KEY=VALUE; write e.g. --where lr=0.1 or --where model.depth=3"
        )
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:  # a bare word: --where optimizer=adam
        return key, value
    except ValueError:  # an integer longer than Python converts
        raise argparse.ArgumentTypeError(
            f"{key}=: the integer has more digits than Python reads (4300 unless "
            "PYTHONINTMAXSTRDIGITS says otherwise); raise that limit to compare it"
        ) from None


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
    if not os.path.exists(text):
        raise argparse.ArgumentTypeError(
            f"{text} does not exist; give a directory of the work tree"
        )
    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError(
            f"{text} is not a directory; give a directory of the work tree"
        )
    return text
