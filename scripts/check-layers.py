#!/usr/bin/env python3
"""Prints the import graph of the crate's top-level modules and checks that it runs one way.

    python3 scripts/check-layers.py [SRC_DIR]     (default: the crate's src/)

A module is a top-level file or folder of src/ (`close`, `handshake`, ...). Module A imports B
when A's code (not its comments) names `crate::B::...`, a `super::` path that leaves A for B, or
an item the crate root re-exports from B (`crate::Config` is `config`). Items defined in lib.rs
itself (`Status`) belong to no module and are ignored. Test code counts: a test that needs a
module above its own is a dependency too.

Checks, each a failure (exit status 1):
- a cycle: two modules that import each other, directly or through others;
- a module importing one of a higher layer. The layers, top to bottom, are LAYERS below;
  modules of one layer may import each other as long as there is no cycle.
"""
import os
import re
import sys

# Top to bottom. The connection runs beside the handshake (both start from `negotiated`), and
# the blocking driver (`blocking`) drives both.
LAYERS = [
    ["blocking"],
    ["handshake", "connection"],
    ["negotiated"],
    ["extensions"],
    ["frame"],
    ["close", "error", "utf8", "text", "config", "mask_source"],
]


def module_of(src, path):
    """The module path of a file: src/a/b.rs -> [a, b], src/a/mod.rs -> [a], lib.rs -> []."""
    parts = os.path.relpath(path, src)[: -len(".rs")].split(os.sep)
    if parts[-1] in ("mod", "lib"):
        parts = parts[:-1]
    return parts


def strip_comments(text):
    """The code without comments, and with string and char literals emptied (a path in a
    string is not an import; a brace in one is not a block)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            i = text.find("\n", i)
            i = n if i == -1 else i
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif re.match(r'b?r(#*)"', text[i : i + 40]) and (i == 0 or not text[i - 1].isalnum()):
            m = re.match(r'b?r(#*)"', text[i:])
            end = text.find('"' + m.group(1), i + m.end())
            out.append('""')
            i = n if end == -1 else end + 1 + len(m.group(1))
        elif c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            out.append('""')
            i += 1
        elif c == "'":
            # A char literal ('a', '\n', '\u{7f}'), or a lifetime ('a), left as is.
            m = re.match(r"'(\\[^']+|[^'\\])'", text[i:])
            if m:
                out.append("' '")
                i += m.end()
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def use_paths(tree, prefix=""):
    """Expands a use tree (`a::{b, c::{d, e}}`) into full paths."""
    tree = tree.strip()
    if not tree:
        return []
    depth, start, top = 0, 0, []
    for i, ch in enumerate(tree):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            top.append(tree[start:i])
            start = i + 1
    top.append(tree[start:])
    if len(top) > 1:
        return [p for part in top for p in use_paths(part, prefix)]
    brace = tree.find("{")
    if brace == -1:
        return [prefix + re.split(r"\s+as\s+", tree)[0].strip()]
    return use_paths(tree[brace + 1 : tree.rfind("}")], prefix + tree[:brace])


def root_reexports(src):
    """Root item name -> the module lib.rs re-exports it from."""
    code = strip_comments(open(os.path.join(src, "lib.rs")).read())
    out = {}
    for tree in re.findall(r"\bpub\s+use\s+([^;]+);", code):
        for path in use_paths(tree):
            segments = path.split("::")
            if len(segments) >= 2:
                out[segments[-1]] = segments[0]
    return out


def resolve(segments, here, nested, modules, reexports):
    """The top-level module a path starting with `crate`, `super` or `self` leads to."""
    if segments[0] == "crate":
        rest = segments[1:]
    else:
        base = list(here)
        # `super` inside an inline module (`mod tests { use super::*; }`) is the file's module.
        ups = 0
        while segments and segments[0] in ("super", "self"):
            if segments[0] == "super":
                ups += 1
            segments = segments[1:]
        ups -= 1 if nested else 0
        base = base[: max(len(base) - ups, 0)] if ups > 0 else base
        rest = base + segments
    if not rest:
        return None
    if rest[0] in modules:
        return rest[0]
    return reexports.get(rest[0])


def inline_modules(code):
    """The spans of inline module bodies (`mod tests { ... }`), where `super` is the file."""
    spans = []
    for match in re.finditer(r"\bmod\s+\w+\s*\{", code):
        depth = 0
        for i in range(match.end() - 1, len(code)):
            if code[i] == "{":
                depth += 1
            elif code[i] == "}":
                depth -= 1
                if depth == 0:
                    spans.append((match.end(), i))
                    break
    return spans


def imports(src, path, modules, reexports):
    here = module_of(src, path)
    code = strip_comments(open(path).read())
    spans = inline_modules(code)

    def nested(offset):
        return any(start <= offset < end for start, end in spans)

    found = set()
    paths = []
    use_item = r"^[ \t]*(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]+);"
    for match in re.finditer(use_item, code, re.M):
        paths += [(p, match.start()) for p in use_paths(match.group(1))]
    # Paths written out in code: `crate::extensions::DeflateParams`, `super::grammar::is_tchar`.
    code_only = re.sub(use_item, lambda m: " " * len(m.group(0)), code, flags=re.M)
    for match in re.finditer(r"\b(?:crate|super)(?:::\w+)+", code_only):
        paths.append((match.group(0), match.start()))
    for p, offset in paths:
        segments = [s for s in re.sub(r"\s", "", p).split("::") if s]
        if segments and segments[0] in ("crate", "super", "self"):
            target = resolve(segments, here, nested(offset), modules, reexports)
            if target:
                found.add(target)
    return found


def cycles(graph):
    """Every elementary cycle's node set, found by a DFS from each node (the graph is small)."""
    found = []
    for start in sorted(graph):
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in sorted(graph.get(node, ())):
                if nxt == start:
                    cycle = path + [start]
                    if sorted(set(cycle)) not in [sorted(set(c)) for c in found]:
                        found.append(cycle)
                elif nxt not in path and nxt > start:
                    stack.append((nxt, path + [nxt]))
    return found


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "src")
    src = os.path.normpath(src)
    modules = sorted({
        name[:-3] if name.endswith(".rs") else name
        for name in os.listdir(src)
        if name != "lib.rs" and (name.endswith(".rs") or os.path.isdir(os.path.join(src, name)))
    })
    reexports = {k: v for k, v in root_reexports(src).items() if v in modules}
    graph = {m: set() for m in modules}
    for dirpath, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            path = os.path.join(dirpath, f)
            here = module_of(src, path)
            if not here:
                continue  # lib.rs declares and re-exports everything
            for target in imports(src, path, modules, reexports):
                if target != here[0]:
                    graph[here[0]].add(target)

    rank = {m: i for i, layer in enumerate(LAYERS) for m in layer}
    print("module import graph (A -> what A imports):")
    for m in modules:
        print(f"  {m} -> {', '.join(sorted(graph[m])) or '(nothing)'}")

    failures = []
    for cycle in cycles(graph):
        failures.append("cycle: " + " -> ".join(cycle))
    for m in modules:
        if m not in rank:
            failures.append(f"{m}: not in any layer (add it to LAYERS)")
            continue
        for target in sorted(graph[m]):
            if target in rank and rank[target] < rank[m]:
                failures.append(f"upward: {m} imports {target}, a higher layer")
    if failures:
        print("\nFAILED:")
        for f in failures:
            print("  " + f)
        return 1
    print("\nok: no cycle, every import points down or across a layer")
    return 0


if __name__ == "__main__":
    sys.exit(main())
