"""Input fields for every app's request serializers: a JSON value is taken as the type it was
sent as, never coerced into another.

DRF's fields are lenient in ways a JSON API should not be: ``UUIDField`` reads ``1`` or ``true``
as the UUID 00000000-0000-0000-0000-000000000001. Request serializers use these fields instead;
output serializers keep DRF's own.
"""

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


class StrictURLField(_StringOnly, serializers.URLField):
    pass


class StrictUUIDField(_StringOnly, serializers.UUIDField):
    """Anything but a UUID string is "Must be a valid UUID." (DRF's field took 1 and true)."""
