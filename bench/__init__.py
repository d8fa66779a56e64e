"""Benchmarks, run as scripts (python bench/X.py) or modules (python -m bench.X); not collected by pytest."""
