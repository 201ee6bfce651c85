"""OpenAPI schema hooks (drf-spectacular)."""


def drop_trailing_slash_twins(endpoints, **kwargs):
    """Each collection root is routed with and without a trailing slash (``/orders`` is the
    contract's, ``/orders/`` the app's own root); the schema documents the contract's path only."""
    paths = {path for path, *_ in endpoints}
    return [endpoint for endpoint in endpoints if not (endpoint[0].endswith("/") and endpoint[0].rstrip("/") in paths)]
