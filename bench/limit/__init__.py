"""The "limit" reference for the product list benchmark (mounted only when BENCH_LIMIT_VIEW=1)."""
