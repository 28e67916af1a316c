"""The benchmarks of mintaka: what it costs, side by side with what users would pick instead.

Run them all with `hatch run bench:all` (see `python -m benchmarks --help`).
"""
