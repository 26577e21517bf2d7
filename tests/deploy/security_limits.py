#!/usr/bin/env python3
"""docs/security.md's limit table stays true: every row names a real setting of the program
with the default its --help prints, and every setting that bounds something (its name holds
max, limit, timeout, queue, pool, rate, burst, bytes, ...) has a row.

Environment: IDL_BIN_DIR (the built programs), IDL_SOURCE_DIR (the repository).
Exit 0 when the table matches, 1 with every difference listed, 77 when a program is missing.
"""
import os
import re
import subprocess
import sys

PROGRAMS = ["idl-collector", "idl-processor", "idl-writer", "idl-gateway", "idl-alerter"]
# A setting bounds something when one word of its name (split on . - _) is one of these.
LIMIT_WORDS = {
    "max", "min", "limit", "timeout", "queue", "pool", "rate", "burst", "bytes", "depth",
    "waiting", "failures", "connections", "threads", "skew", "high", "stale", "window",
    "inflight", "pending",
}
SECTION = "## Limits and their defaults"


def help_settings(binary):
    """{name: default} of every option in `binary --help`."""
    out = subprocess.run([binary, "--help"], capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    settings = {}
    for i, line in enumerate(lines):
        m = re.match(r"^  --([a-z0-9_.\-]+) <\w+>", line)
        if not m:
            continue
        for follow in lines[i + 1:i + 4]:
            d = re.search(r"default: (.*?)(?:\s{3}env:|$)", follow)
            if d:
                settings[m.group(1)] = d.group(1).strip()
                break
    return settings


def is_limit(name):
    return any(word in LIMIT_WORDS for word in re.split(r"[._\-]", name))


def doc_rows(path):
    """[(program, setting, default, line number)] of the limit table."""
    rows = []
    inside = False
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.startswith("## "):
                inside = line.strip() == SECTION
                continue
            if not inside or not line.startswith("| idl-"):
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) < 4:
                rows.append((cells[0], "", "", n))
                continue
            rows.append((cells[0], cells[1].strip("`"), cells[2].strip("`"), n))
    return rows


def main():
    bin_dir = os.environ.get("IDL_BIN_DIR", "build/bin")
    src = os.environ.get("IDL_SOURCE_DIR", ".")
    doc = os.path.join(src, "docs", "security.md")
    rows = doc_rows(doc)
    if not rows:
        print(f"security.md has no table under '{SECTION}'")
        return 1
    problems = []
    listed = set()
    checked = 0
    for program in PROGRAMS:
        binary = os.path.join(bin_dir, program)
        if not os.access(binary, os.X_OK):
            if any(r[0] == program for r in rows):
                print(f"skip: {binary} not built")
                return 77
            continue
        settings = help_settings(binary)
        for prog, name, default, line in rows:
            if prog != program:
                continue
            listed.add((prog, name))
            checked += 1
            if name not in settings:
                problems.append(f"security.md:{line}: {prog} has no setting '{name}'")
            elif settings[name] != default:
                problems.append(f"security.md:{line}: {prog} {name} defaults to "
                                f"'{settings[name]}', the table says '{default}'")
        for name, default in sorted(settings.items()):
            if is_limit(name) and (program, name) not in listed:
                problems.append(f"security.md: no row for {program} {name} "
                                f"(default {default})")
    for prog, name, _, line in rows:
        if prog not in PROGRAMS:
            problems.append(f"security.md:{line}: unknown program '{prog}'")
    for p in problems:
        print(p)
    print(f"{checked} limits checked against --help, {len(problems)} difference(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
