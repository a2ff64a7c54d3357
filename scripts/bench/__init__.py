"""The fleet-scale benchmark: the project's loaders and dbt project against PostgreSQL's COPY.

`python -m scripts.bench` (or `make bench`) generates a fleet historian, measures COPY
(the ceiling), the sensor loader, `dbt build` and the whole daily run on the same rows, each
step in its own process so that its peak memory is its own, and rewrites
docs/performance.md. See docs/performance.md for what was measured and why.
"""
