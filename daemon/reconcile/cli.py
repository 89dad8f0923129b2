"""``archroom reconcile`` (being built)."""

import sys


def main(argv: list[str]) -> int:
    del argv
    print("archroom reconcile: not available in this build", file=sys.stderr)
    return 2
