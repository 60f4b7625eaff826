"""The `warcpack` command (also `python -m warcpack`): the command line, with a build's worker
server started first.

A build's worker processes fork from a server process that imports the extraction stack first
(about half a second). Started here, before the command line's own libraries are imported and
its arguments parsed (about 0.2 s more), the two run at once instead of one after the other. This
module imports nothing heavy at the top: every worker process imports the program's main module
again before its first unit, and this is that module.
"""

from __future__ import annotations

import gc
import sys


def _option(args: list[str], name: str) -> str | None:
    """The last value given to option `name` in raw arguments (`--name V` or `--name=V`)."""
    value = None
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith(name + "="):
            value = arg.split("=", 1)[1]
    return value


def _build_on_pool(args: list[str]) -> bool:
    """Whether `warcpack ARGS` looks like a build on the local engine. A look at the raw
    arguments before they are parsed: a wrong guess only starts the worker server for nothing,
    or leaves it to start when the build begins, as it does for other callers."""
    return (args[:1] == ["build"] and "--help" not in args
            and _option(args, "--engine") in (None, "local"))


def main() -> None:
    args = sys.argv[1:]
    if _build_on_pool(args):
        from warcpack.engines.forkserver import prestart

        workers = _option(args, "--workers") or ""
        prestart(int(workers) if workers.isdigit() else None)  # it decides whether a pool runs
    from warcpack.cli import app

    try:
        app()
    finally:
        # The command is done. Frozen, the objects of every imported library are left out of
        # the collection the interpreter runs as it exits (0.04 s after a build, of a
        # one-second rebuild); objects are still finalized and files flushed as usual.
        gc.freeze()


if __name__ == "__main__":
    main()
