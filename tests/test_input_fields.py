"""The shared input fields (``ecommerce.fields``), and the rule that every request serializer
of the API reads text, ids and money through them: DRF's plain fields coerce JSON types."""

import importlib
from decimal import Decimal

import pytest
from rest_framework import serializers

from ecommerce import fields

APPS_WITH_INPUTS = ["auth", "catalog", "cart", "orders"]
# DRF fields that take a string and coerce other JSON types into one, and their strict versions.
COERCING = (serializers.CharField, serializers.UUIDField, serializers.DecimalField, serializers.IntegerField)
STRICT = (fields._StringOnly, fields.StrictDecimalField, fields.StrictIntegerField)


def input_serializers():
    """Every ``*Input`` serializer in the apps' ``api.serializers`` modules: request bodies."""
    found = []
    for app in APPS_WITH_INPUTS:
        module = importlib.import_module(f"apps.{app}.api.serializers")
        found += [
            value
            for name, value in vars(module).items()
            if name.endswith("Input") and isinstance(value, type) and issubclass(value, serializers.Serializer)
        ]
    return found


def leaf_fields(field, path):
    """(path, field) of every scalar field under ``field``: nested serializers, list children."""
    if isinstance(field, serializers.ListSerializer):
        yield from leaf_fields(field.child, f"{path}[]")
    elif isinstance(field, serializers.Serializer):
        for name, child in field.fields.items():
            yield from leaf_fields(child, f"{path}.{name}")
    elif isinstance(field, (serializers.ListField, serializers.DictField)):
        yield from leaf_fields(field.child, f"{path}[]")
    else:
        yield path, field


def test_the_apps_declare_their_inputs():
    names = {cls.__name__ for cls in input_serializers()}
    assert {"RegisterInput", "ProductInput", "AddItemInput", "CheckoutInput"} <= names


@pytest.mark.parametrize("serializer", input_serializers(), ids=lambda cls: f"{cls.__module__}.{cls.__name__}")
def test_every_input_reads_text_ids_and_money_strictly(serializer):
    lenient = [
        f"{path}: {type(field).__name__}"
        for path, field in leaf_fields(serializer(), serializer.__name__)
        if isinstance(field, COERCING) and not isinstance(field, STRICT) and not field.read_only
    ]
    assert not lenient, f"use ecommerce.fields' strict fields for {lenient}"


def run(field, value):
    field.bind("f", None)
    return field.run_validation(value)


@pytest.mark.parametrize("value", [12.5, 7, 0, True, False, ["x"], {"x": 1}], ids=repr)
@pytest.mark.parametrize(
    "field",
    [fields.StrictCharField, fields.StrictEmailField, fields.StrictSlugField],
    ids=lambda cls: cls.__name__,
)
def test_text_fields_refuse_every_json_type_but_a_string(field, value):
    with pytest.raises(serializers.ValidationError):
        run(field(), value)


def test_text_fields_keep_their_null_and_blank_rules():
    assert run(fields.StrictCharField(allow_null=True), None) is None
    assert run(fields.StrictCharField(allow_blank=True), "  ") == ""
    assert run(fields.StrictCharField(), " text ") == "text"
    with pytest.raises(serializers.ValidationError):
        run(fields.StrictCharField(), None)


@pytest.mark.parametrize("value", [1, 0, True, 1.5, [], {}], ids=repr)
def test_uuid_field_refuses_anything_but_a_string_with_drf_s_message(value):
    with pytest.raises(serializers.ValidationError) as refused:
        run(fields.StrictUUIDField(), value)
    assert refused.value.detail == ["Must be a valid UUID."]


def test_uuid_field_reads_a_uuid_string():
    assert str(run(fields.StrictUUIDField(), "7C9E6679-7425-40DE-944B-E07FC1F90AE7")) == (
        "7c9e6679-7425-40de-944b-e07fc1f90ae7"
    )


MONEY = {"max_digits": 12, "decimal_places": 2}


@pytest.mark.parametrize(
    "value",
    [
        "١٢",
        "۱۲",
        "１２",
        "12٫5",
        "1e3",
        "1E3",
        "1_000",
        "Infinity",
        "NaN",
        "12,50",
        "0x10",
        "1.2.3",
        "+",
        ".",
        True,
        [1],
    ],
    ids=repr,
)
def test_decimal_field_refuses_anything_but_ascii_digits(value):
    with pytest.raises(serializers.ValidationError):
        run(fields.StrictDecimalField(**MONEY), value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(12, "12"), (12.5, "12.5"), ("19.90", "19.90"), (" 12 ", "12"), ("-1.5", "-1.5"), ("+3", "3"), (".5", "0.5")],
    ids=repr,
)
def test_decimal_field_reads_a_number_or_a_string_of_ascii_digits(value, expected):
    assert run(fields.StrictDecimalField(**MONEY), value) == Decimal(expected)


def test_decimal_field_keeps_blank_as_null_where_null_is_allowed():
    assert run(fields.StrictDecimalField(**MONEY, allow_null=True), "") is None


@pytest.mark.parametrize(
    "value", [True, False, 5.0, 1.5, "١٢", "1_0", "1e3", "", " ", "12a", None, [1], {"a": 1}], ids=repr
)
def test_integer_fields_take_json_integers_and_ascii_digits_only(value):
    with pytest.raises(serializers.ValidationError):
        run(fields.StrictIntegerField(), value)


@pytest.mark.parametrize(("value", "expected"), [(12, 12), ("12", 12), (" -3 ", -3), ("+7", 7), (0, 0)], ids=repr)
def test_integer_fields_read_integers(value, expected):
    assert run(fields.StrictIntegerField(), value) == expected
