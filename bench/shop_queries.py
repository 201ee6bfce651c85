"""SQL queries per request of the hot read endpoints, on the bench databases (JSON on stdout).

Run by ``bench/run.sh`` after the load, with its environment (``*_DATABASE_URL``...): each
endpoint is requested twice through Django's whole stack (``django.test.Client``) and the
queries of the second request, on every database connection, are counted (the first warms the
caches, as a running server's would be).
"""

import json
import os
import sys
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecommerce.settings")
os.environ.setdefault("BENCH_LIMIT_VIEW", "1")


def count_queries(client, path):
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    client.get(path)
    with ExitStack() as stack:
        captured = [stack.enter_context(CaptureQueriesContext(connections[alias])) for alias in connections]
        response = client.get(path)
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    seen = set()
    total = 0
    for capture in captured:  # aliases sharing one connection would be counted twice
        if id(capture.connection) not in seen:
            seen.add(id(capture.connection))
            total += len(capture)
    return total


def main():
    import django

    django.setup()
    from django.test import Client

    client = Client()
    first = client.get("/products?limit=1").json()["data"][0]
    word = first["name"].split()[0].lower()
    paths = {
        "GET /products?limit=12": "/products?limit=12",
        "GET /products?limit=12&categorySlug=<slug>": None,
        "GET /products/id/<id>": f"/products/id/{first['id']}",
        "GET /products/categories?format=tree": "/products/categories?format=tree",
        f"GET /search/products?q={word}": f"/search/products?q={word}",
        "GET /bench/limit/products?limit=12": "/bench/limit/products?limit=12",
    }
    categories = client.get("/products/categories").json()
    if categories:
        paths["GET /products?limit=12&categorySlug=<slug>"] = f"/products?limit=12&categorySlug={categories[0]['slug']}"
    print(json.dumps({label: count_queries(client, path) for label, path in paths.items() if path}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
