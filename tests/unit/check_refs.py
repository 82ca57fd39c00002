#!/usr/bin/env python3
"""check_refs: the repository stands alone.

Every Markdown file that code, docs or pages name (`docs/COUNTERS.md`, or
a link relative to the naming file) exists in the repository, resolved from
the naming file's directory or from the top; and no path climbs out of the
repository into the workplace's shared directory, and no comment cites a
numbered section (the repository's documents name theirs). Fails naming
every reference that does not resolve, and says how many it checked.

Usage: check_refs.py REPO_ROOT
"""
import os
import re
import sys

SKIP_DIRS = {".git", "node_modules", "fixtures", "screenshots"}
TEXT = (".c", ".h", ".md", ".js", ".html", ".css", ".sh", ".py", ".sql", ".txt", ".proto",
        ".cmake", ".json", ".service", ".conf")
MD_REF = re.compile(r"[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.md\b")
OUTSIDE = re.compile(r"\.\./(?:\.\./)*" + "shared" + r"\b")
# The repository's documents name their sections; a numbered one
# is another document's.
SECTION = re.compile("\u00a7" + r"\s*\d")


def files(root):
    for top, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith("build")]
        for name in names:
            if name.endswith(TEXT) or name in ("Makefile", "CMakeLists.txt", "run"):
                yield os.path.join(top, name)


def main(root):
    root = os.path.abspath(root)
    bad, checked = [], 0
    for path in files(root):
        rel = os.path.relpath(path, root)
        try:
            text = open(path, encoding="utf-8").read()
        except UnicodeDecodeError:
            continue
        for n, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                bad.append(f"{rel}:{n}: points outside the repository: {line.strip()[:80]}")
            if SECTION.search(line):
                bad.append(f"{rel}:{n}: cites a numbered section, which no document here has "
                           f"(name the section): {line.strip()[:80]}")
            for ref in MD_REF.findall(line):
                checked += 1
                found = [p for p in (os.path.normpath(os.path.join(os.path.dirname(path), ref)),
                                     os.path.normpath(os.path.join(root, ref)))
                         if p.startswith(root + os.sep) and os.path.isfile(p)]
                if not found:
                    bad.append(f"{rel}:{n}: {ref} is not in the repository")
    for b in bad:
        print(b)
    print(f"check_refs: {checked} references to Markdown files, {len(bad)} unresolved")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
