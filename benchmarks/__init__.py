"""Benchmarks of dask_deeplearn; ``python -m benchmarks.run`` runs them all (see run.py)."""
