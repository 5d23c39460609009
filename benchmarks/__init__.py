"""nndl's benchmarks: one module per benchmark, run as `python -m benchmarks.<name>` or together
with `python -m benchmarks.run [--only NAME ...] [--quick]` (see docs/performance.md)."""
