#!/usr/bin/env python3
"""Fails when a public type of swift-uio's library modules has no doc comment.

    python3 scripts/check_doc_coverage.py SYMBOLGRAPH_DIR MODULE...

Reads the symbol graphs that `swift package dump-symbol-graph` writes (MODULE.symbols.json and
MODULE@OTHER.symbols.json for extensions) and lists every public struct, class, enum, protocol,
actor or typealias without a `///` comment. Exit status 1 if any."""

import glob
import json
import os
import sys

TYPE_KINDS = {"swift.struct", "swift.class", "swift.enum", "swift.protocol", "swift.actor", "swift.typealias"}


def main():
    directory, modules = sys.argv[1], sys.argv[2:]
    missing, total = [], 0
    for module in modules:
        files = glob.glob(os.path.join(directory, f"{module}.symbols.json"))
        if not files:
            print(f"no symbol graph for {module} in {directory}")
            return 2
        for path in files:
            with open(path) as f:
                graph = json.load(f)
            for symbol in graph["symbols"]:
                if symbol["kind"]["identifier"] not in TYPE_KINDS or symbol.get("accessLevel") not in ("public", "open"):
                    continue
                total += 1
                name = ".".join(symbol["pathComponents"])
                if not symbol.get("docComment", {}).get("lines"):
                    missing.append(f"{module}.{name}")
    for name in sorted(missing):
        print(f"undocumented public type: {name}")
    print(f"doc coverage: {total - len(missing)} of {total} public types documented in {', '.join(modules)}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
