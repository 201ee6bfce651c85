"""How a consumer orders the documents it receives about one aggregate (a product).

A document carries ``version``, which strictly increases with every event about the aggregate,
and ``updatedAt``, which does not move on every change (a stock movement leaves a product's
``updatedAt`` alone). Documents published before versions existed have no ``version``.
"""


class MalformedVersion(ValueError):
    pass


def parse_version(value):
    """A document's ``version``: a non-negative integer, or None when it has none."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise MalformedVersion(f"not a version: {value!r}")
    return value


def is_stale(version, updated_at, held_version, held_updated_at):
    """Whether a document (``version``, ``updated_at``) is no newer than the one a consumer holds
    (``held_version``, ``held_updated_at``). With versions on both sides the version must be
    greater; a document without one predates every versioned one; between two without, an older
    ``updatedAt`` loses (an equal one applies, as before versions)."""
    if version is not None:
        return held_version is not None and version <= held_version
    if held_version is not None:
        return True
    return bool(held_updated_at and updated_at and updated_at < held_updated_at)
