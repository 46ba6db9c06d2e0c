"""``python -m catalogs``: list, build or rebuild entries, and write ``catalog.yaml``.

python -m catalogs list
python -m catalogs build [ENTRY ...] [--size default]
python -m catalogs rebuild ENTRY [--size default]
python -m catalogs write
"""

from __future__ import annotations

import argparse
import json
import sys

from catalogs.catalog_file import write_catalog
from catalogs.entries import ENTRIES
from catalogs.errors import CatalogError
from catalogs.store import build_entry


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m catalogs", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="entries with their description")
    for name in ("build", "rebuild"):
        command = commands.add_parser(name, help=f"{name} entries into the cache")
        command.add_argument("entries", nargs="*" if name == "build" else "+")
        command.add_argument("--size", default="default")
    commands.add_parser("write", help="write catalogs/catalog.yaml from the declarations")
    options = parser.parse_args(argv)
    try:
        if options.command == "list":
            for name, spec in sorted(ENTRIES.items()):
                print(f"{name:24} {spec.description}")
        elif options.command == "write":
            print(write_catalog())
        else:
            seconds = {
                name: round(build_entry(name, options.size, force=options.command == "rebuild"), 2)
                # live entries are archived by the live service, not built
                for name in options.entries or sorted(n for n, e in ENTRIES.items() if not e.live)
            }
            print(json.dumps({"size": options.size, "build_s": seconds}))
    except CatalogError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
