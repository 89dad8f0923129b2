"""Benchmarks (``make bench``): each module has ``main(argv) -> int``, printing ``name: value``."""
