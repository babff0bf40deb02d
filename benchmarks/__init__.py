"""Speed and memory harness for ``sim`` (run ``python -m benchmarks``)."""
