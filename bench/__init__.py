"""Benchmarks: the authenticated API against a bare baseline, measured in the same run (``python bench/run.py``)."""
