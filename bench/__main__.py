"""Run the benchmarks: ``python -m bench [NAME ...] [-- ARGS]`` (default: all of them).

Each benchmark module in this folder exposes ``main(argv) -> int`` and prints its figures as
``name: value unit`` lines. Budgets are in docs/design.md §10; nothing here asserts a time.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path


def available() -> list[str]:
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))


def main(argv: list[str]) -> int:
    names, _, rest = (
        (argv[: argv.index("--")], None, argv[argv.index("--") + 1 :])
        if "--" in argv
        else (argv, None, [])
    )
    names = names or available()
    unknown = [n for n in names if n not in available()]
    if unknown:
        print(
            f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available())}",
            file=sys.stderr,
        )
        return 2
    status = 0
    for name in names:
        print(f"== {name}", flush=True)
        started = time.monotonic()
        module = importlib.import_module(f"bench.{name}")
        code = int(module.main(list(rest)))
        print(f"({name} took {time.monotonic() - started:.1f} s, exit {code})", flush=True)
        status = status or code
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
