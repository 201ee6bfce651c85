"""The API's JSON parser: DRF's, decoding with orjson and bounding the nesting.

The standard decoder lets two kinds of syntactically valid JSON into the application, where
they fail far from the cause as 500s: nesting deep enough to recurse into a RecursionError (a
4 KB body of brackets), and lone UTF-16 surrogates (``"\\ud800"``: a string no database, hash or
encoder can take). orjson refuses lone surrogates (and numbers beyond a double, such as 1e309,
which the standard decoder turned into ``inf``) and stops at 1024 levels; ``MAX_DEPTH`` bounds the
nesting further. Every refusal is a ``ParseError``, rendered like any malformed body.
"""

import codecs

import orjson
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# The deepest real payload nests 4 levels (bulk products > product > variants > attributes).
# 32 leaves clients room while keeping every structure built from a body far below the
# renderer's own limit (orjson writes at most 254 levels).
MAX_DEPTH = 32


def nesting_exceeds(data, limit):
    """Whether arrays and objects in ``data`` nest deeper than ``limit`` (``[]`` is 1 level).
    Iterative, so that the check cannot recurse into the error it guards against."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        try:
            body = stream.read()
            if codecs.lookup(encoding).name != "utf-8":
                body = body.decode(encoding)
            data = orjson.loads(body)
        except ValueError as exc:  # orjson.JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise ParseError(f"JSON parse error - {exc}")
        if isinstance(data, (dict, list)) and nesting_exceeds(data, MAX_DEPTH):
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels")
        return data
