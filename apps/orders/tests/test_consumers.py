"""product_events / auth_events keep the orders' copies, idempotently, through the events runner."""

import uuid

import pytest

from apps.events.runner import deliver
from apps.orders.models import DenormalizedProduct, DenormalizedUser, Order
from apps.orders.tests.conftest import guest_body, make_product

pytestmark = pytest.mark.django_db


def envelope(event_type, payload, event_id=None):
    return {
        "id": event_id or str(uuid.uuid4()),
        "type": event_type,
        "payload": payload,
        "timestamp": "2026-01-01T00:00:00Z",
        "sourceService": "test",
    }


def product_payload(product_id, **overrides):
    payload = {
        "id": product_id,
        "sku": "SKU-1",
        "name": "Blue mug",
        "description": "",
        "isActive": True,
        "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-01-01T00:00:00Z",
        "category_names": [],
        "category_slugs": [],
        "variants": [{"id": str(uuid.uuid4()), "attributes": {}, "price": "19.90", "stockQuantity": 3}],
        "variant_attributes_flat": [],
        "images": [
            {"id": "i2", "imageUrl": "https://cdn/second.png", "altText": "", "isPrimary": False, "order": 1},
            {"id": "i1", "imageUrl": "https://cdn/primary.png", "altText": "", "isPrimary": True, "order": 2},
        ],
    }
    payload.update(overrides)
    return payload


def test_product_created_then_updated_upserts_the_copy():
    pid = str(uuid.uuid4())
    deliver("product_events", envelope("PRODUCT_CREATED", product_payload(pid)))
    copy = DenormalizedProduct.objects.get(id=pid)
    assert (copy.name, copy.sku, copy.image_url, copy.is_active) == (
        "Blue mug",
        "SKU-1",
        "https://cdn/primary.png",
        True,
    )
    deliver(
        "product_events",
        envelope("PRODUCT_UPDATED", product_payload(pid, name="Red mug", images=[], updatedAt="2026-01-02T00:00:00Z")),
    )
    copy.refresh_from_db()
    assert (copy.name, copy.image_url) == ("Red mug", None)
    assert DenormalizedProduct.objects.count() == 1


def test_a_stock_movement_leaves_the_copy_untouched():
    """Most product events are checkouts moving stock: nothing the copy holds changes, so the
    consumer does not write it."""
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    from ecommerce.db import alias_for

    pid = str(uuid.uuid4())
    created = product_payload(pid)
    deliver("product_events", envelope("PRODUCT_CREATED", created))
    synced = DenormalizedProduct.objects.get(id=pid).synced_at
    moved = {**created, "variants": [{**created["variants"][0], "stockQuantity": 2}]}
    with CaptureQueriesContext(connections[alias_for("orders")]) as queries:
        deliver("product_events", envelope("PRODUCT_UPDATED", moved))
    assert not [q["sql"] for q in queries if q["sql"].startswith('UPDATE "denormalized_products"')]
    assert DenormalizedProduct.objects.get(id=pid).synced_at == synced
    deliver("product_events", envelope("PRODUCT_UPDATED", {**moved, "isActive": False}))
    copy = DenormalizedProduct.objects.get(id=pid)
    assert copy.is_active is False and copy.synced_at > synced


def test_a_redelivered_event_changes_nothing():
    pid = str(uuid.uuid4())
    first = envelope("PRODUCT_UPDATED", product_payload(pid, name="First"))
    second = envelope("PRODUCT_UPDATED", product_payload(pid, name="Second"))
    deliver("product_events", first)
    deliver("product_events", second)
    deliver("product_events", first)  # redelivered: already processed by this group
    assert DenormalizedProduct.objects.get(id=pid).name == "Second"


def test_an_older_update_does_not_overwrite_a_newer_one():
    pid = str(uuid.uuid4())
    deliver(
        "product_events",
        envelope("PRODUCT_UPDATED", product_payload(pid, name="New", updatedAt="2026-02-01T00:00:00Z")),
    )
    deliver(
        "product_events",
        envelope("PRODUCT_UPDATED", product_payload(pid, name="Old", updatedAt="2026-01-01T00:00:00Z")),
    )
    assert DenormalizedProduct.objects.get(id=pid).name == "New"


def test_a_replayed_older_version_does_not_overwrite_a_newer_one():
    """Stock changes do not move ``updatedAt``: two documents of one product can share it, and
    the version orders them (e.g. dead letters retried newest first)."""
    pid = str(uuid.uuid4())
    deliver("product_events", envelope("PRODUCT_CREATED", product_payload(pid, version=1)))
    deliver("product_events", envelope("PRODUCT_UPDATED", product_payload(pid, name="New", version=3)))
    deliver("product_events", envelope("PRODUCT_UPDATED", product_payload(pid, name="Old", version=2)))
    deliver("product_events", envelope("PRODUCT_UPDATED", product_payload(pid, name="Same", version=3)))
    copy = DenormalizedProduct.objects.get(id=pid)
    assert (copy.name, copy.source_version) == ("New", 3)
    # A stock movement (version 4) changes nothing the copy holds: no write; version 3's older
    # sibling is still refused afterwards.
    deliver("product_events", envelope("PRODUCT_UPDATED", product_payload(pid, name="New", version=4)))
    deliver("product_events", envelope("PRODUCT_UPDATED", product_payload(pid, name="Old", version=2)))
    assert DenormalizedProduct.objects.get(id=pid).name == "New"
    deliver("product_events", envelope("PRODUCT_UPDATED", product_payload(pid, name="Newer", version=5)))
    assert DenormalizedProduct.objects.get(id=pid).name == "Newer"


def test_documents_without_a_version_keep_the_updated_at_rule_and_are_older_than_versioned_ones():
    pid = str(uuid.uuid4())
    deliver("product_events", envelope("PRODUCT_CREATED", product_payload(pid, updatedAt="2026-02-01T00:00:00Z")))
    deliver("product_events", envelope("PRODUCT_UPDATED", product_payload(pid, name="Versioned", version=1)))
    late = product_payload(pid, name="Legacy", updatedAt="2027-01-01T00:00:00Z")
    deliver("product_events", envelope("PRODUCT_UPDATED", late))
    assert DenormalizedProduct.objects.get(id=pid).name == "Versioned"


def test_a_delete_wins_over_older_and_newer_versions():
    pid = str(uuid.uuid4())
    deliver("product_events", envelope("PRODUCT_CREATED", product_payload(pid, version=1)))
    deliver("product_events", envelope("PRODUCT_DELETED", {"id": pid, "version": 2}))
    deliver("product_events", envelope("PRODUCT_UPDATED", product_payload(pid, name="Zombie", version=9)))
    copy = DenormalizedProduct.objects.get(id=pid)
    assert copy.is_deleted and copy.name == "Blue mug"


def test_delete_keeps_the_copy_marked_deleted_and_is_not_undone_by_a_late_update():
    pid = str(uuid.uuid4())
    deliver("product_events", envelope("PRODUCT_CREATED", product_payload(pid)))
    deliver("product_events", envelope("PRODUCT_DELETED", {"id": pid}))
    deliver("product_events", envelope("PRODUCT_UPDATED", product_payload(pid, updatedAt="2027-01-01T00:00:00Z")))
    copy = DenormalizedProduct.objects.get(id=pid)
    assert copy.is_deleted and not copy.is_active
    assert copy.name == "Blue mug"
    unknown = str(uuid.uuid4())
    deliver("product_events", envelope("PRODUCT_DELETED", {"id": unknown}))
    assert DenormalizedProduct.objects.get(id=unknown).is_deleted


def test_category_events_are_ignored_and_a_bad_product_event_is_dead_lettered():
    from apps.events.models import DeadLetter
    from ecommerce.db import alias_for

    deliver("product_events", envelope("CATEGORY_CREATED", {"id": str(uuid.uuid4()), "name": "Mugs"}))
    deliver("product_events", envelope("CATEGORY_DELETED", {"id": "not-a-uuid"}))
    assert DenormalizedProduct.objects.count() == 0
    deliver("product_events", envelope("PRODUCT_UPDATED", {"name": "no id"}))
    assert DeadLetter.objects.using(alias_for("orders")).filter(group="orders").count() == 1


def test_user_events_upsert_and_deactivate_the_copy():
    uid = str(uuid.uuid4())
    payload = {"id": uid, "name": "Ann", "email": "ann@example.com", "profileImage": "https://cdn/ann.png"}
    deliver("auth_events", envelope("USER_CREATED", payload))
    deliver("auth_events", envelope("USER_UPDATED", dict(payload, name="Ann B.")))
    copy = DenormalizedUser.objects.get(id=uid)
    assert (copy.name, copy.email, copy.profile_image, copy.is_active) == (
        "Ann B.",
        "ann@example.com",
        "https://cdn/ann.png",
        True,
    )
    deliver("auth_events", envelope("USER_DELETED", {"id": uid}))
    copy.refresh_from_db()
    assert copy.is_active is False and copy.name == "Ann B."


def test_user_event_redelivery_is_harmless():
    uid = str(uuid.uuid4())
    created = envelope("USER_CREATED", {"id": uid, "name": "A", "email": "a@example.com", "profileImage": None})
    deliver("auth_events", created)
    deliver(
        "auth_events",
        envelope("USER_UPDATED", {"id": uid, "name": "B", "email": "a@example.com", "profileImage": None}),
    )
    deliver("auth_events", created)
    assert DenormalizedUser.objects.get(id=uid).name == "B"


def test_catalogue_changes_reach_the_copy_through_the_outbox(django_capture_on_commit_callbacks):
    from apps.catalog.services import update_product
    from ecommerce.db import alias_for

    catalog = alias_for("catalog")
    with django_capture_on_commit_callbacks(using=catalog, execute=True):
        product = make_product(name="Teapot", image_url="https://cdn/teapot.png")
    copy = DenormalizedProduct.objects.get(id=product.id)
    assert (copy.name, copy.sku, copy.image_url) == ("Teapot", product.sku, "https://cdn/teapot.png")
    with django_capture_on_commit_callbacks(using=catalog, execute=True):
        update_product(product.id, {"name": "Big teapot"})
    copy.refresh_from_db()
    assert copy.name == "Big teapot"


def test_order_lines_keep_what_was_sold_and_take_only_missing_data_from_the_copy(place, api_client):
    product = make_product(name="Kettle")
    order = place(guest_body(product)).json()
    assert order["items"][0]["imageUrl"] is None
    DenormalizedProduct.objects.update_or_create(
        id=product.id, defaults={"name": "Renamed kettle", "sku": "X", "image_url": "https://cdn/kettle.png"}
    )
    item = api_client.get(f"/orders/{order['id']}").json()["items"][0]
    assert item["productName"] == "Kettle"
    assert item["imageUrl"] == "https://cdn/kettle.png"
    assert Order.objects.count() == 1


@pytest.mark.parametrize(
    "broken",
    [
        {"name": None},
        {"sku": None},
        {"updatedAt": None},
        {"name": ""},
        {"name": 42},
        {"sku": ["SKU-1"]},
        {"updatedAt": "yesterday"},
        {"version": "7"},
        {"version": True},
        {"version": -1},
    ],
    ids=lambda broken: ",".join(f"{k}={v!r}" for k, v in broken.items()),
)
def test_a_malformed_product_update_is_dead_lettered_and_leaves_the_copy_alone(broken):
    """A PRODUCT_UPDATED with a valid id but no usable name, sku or ordering key (updatedAt,
    version) once blanked the copy (name '', sku '', source_updated_at NULL)."""
    from apps.events.models import DeadLetter
    from ecommerce.db import alias_for

    pid = str(uuid.uuid4())
    deliver("product_events", envelope("PRODUCT_CREATED", product_payload(pid)))
    before = DenormalizedProduct.objects.values().get(id=pid)
    payload = product_payload(pid, updatedAt="2026-03-01T00:00:00Z")
    for key, value in broken.items():
        if value is None:
            del payload[key]
        else:
            payload[key] = value
    deliver("product_events", envelope("PRODUCT_UPDATED", payload))
    assert DenormalizedProduct.objects.values().get(id=pid) == before
    (letter,) = DeadLetter.objects.using(alias_for("orders")).filter(group="orders")
    assert "PRODUCT_UPDATED" in letter.error
