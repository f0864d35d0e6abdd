#!/usr/bin/env python3
"""Draws each crate's module graph from its `crate::` and `super::` paths, and finds its loops.

Usage: scripts/modgraph.py [crate-dir ...]   (default: every workspace crate)

An edge `a -> b` means module `a` names something in module `b`: a `use crate::b::…` line, or a
path `crate::b::…` or `crate::Item` in code, where `Item` is what the crate root defines or
re-exports from `b` (an item the root re-exports from another crate is no edge). Comments, doc comments and `#[cfg(test)] mod tests` blocks are left out:
tests may reach anywhere, the graph is about what the library needs. A loop is a strongly
connected group of two or more modules; the script exits 1 when a crate has one.

A module marked `[sqlite]` names `rusqlite` outside its tests: it is on SQLite's side of the
database boundary (see ARCHITECTURE.md); the others are database-free.
"""

import re
import sys
from pathlib import Path

DEFAULT = ["migrate-core", "migrate-engine", "migrate-macros", "migrate-runtime", "migrate-cli"]


def modules(src):
    """Module path (`a::b`) -> file, for every .rs file under src."""
    out = {}
    for path in sorted(src.rglob("*.rs")):
        rel = path.relative_to(src).with_suffix("")
        parts = list(rel.parts)
        if parts in (["lib"], ["main"]):
            out["lib"] = path
            continue
        if parts[-1] == "mod":
            parts = parts[:-1]
        out["::".join(parts)] = path
    return out


def code(text):
    """The text without comments and without `#[cfg(test)]` blocks."""
    lines = [l for l in text.splitlines() if not l.lstrip().startswith("//")]
    text = "\n".join(lines)
    while True:
        m = re.search(r"#\[cfg\(test\)\]\s*(pub(\(crate\))?\s+)?mod\s+\w+\s*\{", text)
        if not m:
            return text
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        text = text[: m.start()] + text[i:]


def split_group(group):
    """Top-level items of a `{a::b, c::{d, e}}` group."""
    items, depth, cur = [], 0, ""
    for ch in group:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            items.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        items.append(cur.strip())
    return items


def paths(text):
    """Every path below `crate::` named in the text, as a list of segments lists."""
    out = []
    for m in re.finditer(r"\bcrate::\{", text):
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        for item in split_group(text[m.end() : i - 1]):
            out.append(re.findall(r"\w+", item)[:2])
    for m in re.finditer(r"\bcrate::(\w+)(?:::(\w+))?", text):
        out.append([g for g in m.groups() if g])
    return out


def root_items(text, mods):
    """What the crate root defines or imports, by name -> the module it comes from."""
    items = {}
    for m in re.finditer(r"\buse\s+(crate::)?(\w+)::(\{[^;]*\}|\w+)", text):
        local, module, rest = m.groups()
        # A re-export of another crate's item (`pub use migrate_engine::Error`) is no edge.
        origin = module if module in mods else None
        if origin is None and (local or module in ("self", "super")):
            continue
        for name in re.findall(r"\b(\w+)\b", rest):
            if name not in ("self", "as"):
                items.setdefault(name, origin)
    return items


def graph(crate_dir):
    src = Path(crate_dir) / "src"
    mods = modules(src)
    texts = {name: code(path.read_text()) for name, path in mods.items()}
    root = root_items(texts.get("lib", ""), mods)
    edges = set()
    for name, text in texts.items():
        for segs in paths(text):
            first = segs[0]
            if first in mods:
                target = first
                if len(segs) > 1 and f"{first}::{segs[1]}" in mods:
                    target = f"{first}::{segs[1]}"
            elif first in root:
                target = root[first]
                if target is None:
                    continue
            else:
                target = "lib"
            if target != name:
                edges.add((name, target))
        # A parent names its submodules without `crate::` (`use child::Item`).
        for sub in mods:
            parent = sub.rsplit("::", 1)[0] if "::" in sub else "lib"
            child = sub.rsplit("::", 1)[-1]
            if parent == name and sub != name and re.search(rf"(?<![\w:]){child}::", text):
                edges.add((name, sub))
        if "::" in name:
            parent = name.rsplit("::", 1)[0]
            for m in re.finditer(r"\bsuper::(\w+)", text):
                sub = f"{parent}::{m.group(1)}"
                target = sub if sub in mods else parent
                if target != name:
                    edges.add((name, target))
    sqlite = {name for name, text in texts.items() if re.search(r"\brusqlite\b", text)}
    return sorted(mods), sorted(edges), sqlite


def loops(nodes, edges):
    """Strongly connected groups of two or more modules (Tarjan)."""
    succ = {n: [] for n in nodes}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in succ.get(v, []):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    sys.setrecursionlimit(10000)
    for n in list(succ):
        if n not in index:
            visit(n)
    return out


def main():
    crates = sys.argv[1:] or DEFAULT
    found = False
    for crate in crates:
        nodes, edges, sqlite = graph(crate)
        print(f"## {Path(crate).name}")
        by_source = {}
        for a, b in edges:
            by_source.setdefault(a, []).append(b)
        for n in nodes:
            mark = " [sqlite]" if n in sqlite else ""
            targets = ", ".join(sorted(by_source.get(n, []))) or "(nothing)"
            print(f"{n}{mark} -> {targets}")
        groups = loops(nodes, edges)
        for g in groups:
            found = True
            print(f"LOOP: {' <-> '.join(g)}")
        if not groups:
            print("no loop")
        print()
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
