"""The ``tunecore`` command line: ``tunecore plugins``, ``tunecore --version``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from tunecore.errors import TuneError


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tunecore")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``tunecore`` command."""
    parser = argparse.ArgumentParser(prog="tunecore", description="Hyperparameter tuning with plugins.")
    parser.add_argument("--version", action="version", version=f"tunecore {_version()}")
    verbs = parser.add_subparsers(dest="verb", metavar="COMMAND")
    plugins = verbs.add_parser("plugins", help="list every discovered component and every broken plugin")
    plugins.add_argument("--json", action="store_true", help="print the same as JSON")
    plugins.set_defaults(handler=_plugins_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return args.handler(args)
    except TuneError as exc:
        print(f"tunecore: error: {exc}", file=sys.stderr)
        return 2


def _plugins_command(args: argparse.Namespace) -> int:
    import warnings

    from tunecore.plugins import PluginLoadWarning, load_plugins
    from tunecore.registry import KINDS

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PluginLoadWarning)  # failures are listed below instead
        plugins = load_plugins()
    if args.json:
        data = {
            "components": {
                f"{kind}s": [
                    {"name": c.name, "dist": c.dist, "version": c.version, "summary": c.summary}
                    for c in plugins.registry.components(kind)
                ]
                for kind in KINDS
            },
            "plugins": [
                {"name": p.name, "dist": p.dist, "version": p.version, "module": p.module} for p in plugins.loaded
            ],
            "failed": [
                {"name": f.name, "dist": f.dist, "version": f.version, "error": f.error} for f in plugins.failures
            ],
        }
        print(json.dumps(data, indent=2))
        return 0
    rows = [(c.kind, c.name, c.provider, c.summary) for c in plugins.registry]
    width = max((len(name) for _, name, _, _ in rows), default=8) + 2
    provider_width = max((len(provider) for _, _, provider, _ in rows), default=8) + 2
    for kind in KINDS:
        print(f"{kind}s:")
        entries = [row for row in rows if row[0] == kind]
        if not entries:
            print("  (none)")
        for _, name, provider, summary in entries:
            print(f"  {name:<{width}}{provider:<{provider_width}}{summary}".rstrip())
    if plugins.failures:
        print("failed plugins:")
        for failure in plugins.failures:
            print(f"  {failure.name} ({failure.dist} {failure.version}): {failure.error}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
