#!/usr/bin/env python3
"""Replaces a marked block of a Markdown file with a snippet's contents.

    python3 scripts/bench/splice.py FILE NAME SNIPPET

The block is everything between `<!-- NAME:start -->` and `<!-- NAME:end -->` (markers kept).
scripts/bench-all.sh uses it to put freshly generated tables into BENCHMARKS.md.
"""
import re
import sys


def main():
    path, name, snippet = sys.argv[1:4]
    with open(path) as f:
        text = f.read()
    with open(snippet) as f:
        body = f.read().strip("\n")
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        sys.exit(f"splice: no {start} ... {end} block in {path}")
    text = pattern.sub(lambda _: f"{start}\n{body}\n{end}", text)
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
