"""Input fields for every app's request serializers: a JSON value is taken as the type it was
sent as, never coerced into another.

DRF's fields are lenient in ways a JSON API should not be: ``CharField`` stores the number
``12.345678901234`` as the text "12.345678901234" (and 1e300 as "1e+300"), ``UUIDField`` reads
``1`` or ``true`` as the UUID 00000000-0000-0000-0000-000000000001, and ``DecimalField`` reads
"١٢" (Arabic-Indic digits), "1e3" or "1_000" through ``Decimal()``. Request serializers use these
fields instead (``tests/test_input_fields.py`` holds every ``*Input`` serializer to it); output
serializers keep DRF's own.
"""

import re
from decimal import Decimal

from rest_framework import serializers


class _StringOnly:
    """Refuses any JSON value but a string (numbers, booleans, objects, arrays) with the field's
    own "invalid" message; ``null`` and blanks are still the field's ``allow_null``/``allow_blank``."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class StrictCharField(_StringOnly, serializers.CharField):
    pass


class StrictEmailField(_StringOnly, serializers.EmailField):
    pass


class StrictSlugField(_StringOnly, serializers.SlugField):
    pass


class StrictUUIDField(_StringOnly, serializers.UUIDField):
    """Anything but a UUID string is "Must be a valid UUID." (DRF's field took 1 and true)."""


# A sign, ASCII digits and at most one decimal point: what a person or a frontend writes.
_ASCII_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)")


def ascii_decimal(text):
    """``text`` as a Decimal if it is ASCII digits with an optional sign and decimal point, else
    None: the same rule as ``StrictDecimalField``, for query parameters (minPrice, maxPrice)."""
    text = text.strip()
    return Decimal(text) if _ASCII_DECIMAL.fullmatch(text) else None


class StrictDecimalField(serializers.DecimalField):
    """Money and other decimals: a JSON number, or a string of ASCII digits with an optional sign
    and decimal point ("19.90", " 12 "). ``Decimal()`` alone also reads other scripts' digits,
    exponents, underscores and "Infinity"."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (str, int, float)):
            self.fail("invalid")
        if isinstance(data, str) and ascii_decimal(data) is None:
            self.fail("invalid")
        return super().to_internal_value(data)


_ASCII_INTEGER = re.compile(r"[+-]?[0-9]+")


def ascii_integer(text):
    """``text`` as an int if it is ASCII digits with an optional sign, else None (``int()`` also
    reads other scripts' digits and underscores: "١٢", "1_0")."""
    text = text.strip()
    return int(text) if len(text) <= 20 and _ASCII_INTEGER.fullmatch(text) else None


class StrictIntegerField(serializers.IntegerField):
    """A whole number: a JSON integer or a string of ASCII digits. DRF's field also takes true
    (as 1), 5.0 and other scripts' digits."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = ascii_integer(data)
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)
