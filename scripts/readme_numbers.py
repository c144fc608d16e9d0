"""Write the measured numbers into README.md between ``<!-- measured:NAME -->`` markers.

    python scripts/readme_numbers.py          # rewrite README.md (make readme)
    python scripts/readme_numbers.py --check  # exit 1 and list the stale numbers

Each ``<!-- measured:NAME -->value<!-- /measured -->`` gets the value of quoted number NAME, as
``hooks/quoted.py`` derives it from the results files, so the README and the pages can never
disagree. A name the registry does not know, or a missing results row, is an error.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
MARKER = re.compile(r"<!-- measured:([a-z0-9_.]+) -->(.*?)<!-- /measured -->", re.S)


def _quoted():
    spec = importlib.util.spec_from_file_location("dp_hooks_quoted", REPO / "hooks" / "quoted.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def rendered(text: str) -> tuple[str, list[tuple[str, str, str]]]:
    """The text with every marker filled in, and the (name, old, new) values that changed."""
    quoted = _quoted()
    results = quoted.Results()
    changes = []

    def fill(match: re.Match) -> str:
        name, old = match.group(1), match.group(2)
        new = quoted.render(name, results)
        if new != old:
            changes.append((name, old, new))
        return f"<!-- measured:{name} -->{new}<!-- /measured -->"

    return MARKER.sub(fill, text), changes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale numbers")
    parser.add_argument("--readme", type=Path, default=README)
    args = parser.parse_args(argv)
    text = args.readme.read_text(encoding="utf-8")
    new_text, changes = rendered(text)
    for name, old, new in changes:
        print(f"{name}: {old!r} -> {new!r}")
    if args.check:
        if changes:
            print(f"{args.readme}: {len(changes)} stale number(s); run `make readme`")
        return 1 if changes else 0
    if new_text != text:
        args.readme.write_text(new_text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
