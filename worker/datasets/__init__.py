"""Public data sets turned into the memory system's events, for benchmarks, demos and cross-checks."""
