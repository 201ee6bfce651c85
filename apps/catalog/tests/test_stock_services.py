"""The catalogue's public stock interface: reserve, release, adjust, and the ledger invariant."""

import uuid
from decimal import Decimal

import pytest
from django.db.models import Sum

from apps.catalog import services
from apps.catalog.models import StockMovement, Variant
from apps.catalog.selectors import variant_snapshots
from apps.catalog.tests import factories
from apps.events.models import OutboxEvent
from ecommerce.db import alias_for
from ecommerce.errors import BadRequest, Conflict, NotFound

pytestmark = pytest.mark.django_db


def ledger_sum(variant_id):
    return StockMovement.objects.filter(variant_id=variant_id).aggregate(s=Sum("change_quantity"))["s"] or 0


def stock(variant_id):
    return Variant.objects.get(id=variant_id).stock_quantity


def two_variant_product(stock_a=10, stock_b=3):
    return factories.product(
        variants=[
            {"attributes": {"color": "red"}, "price": Decimal("10.00"), "initial_stock_quantity": stock_a},
            {"attributes": {"color": "blue"}, "price": Decimal("12.50"), "initial_stock_quantity": stock_b},
        ]
    )


def test_initial_stock_is_a_ledger_row():
    product = factories.product()
    variant = factories.variant_of(product)
    assert variant.stock_quantity == 10
    movement = StockMovement.objects.get(variant=variant)
    assert (movement.type, movement.change_quantity) == ("INITIAL_STOCK", 10)


def test_reserve_takes_every_line_and_records_the_order():
    product = two_variant_product()
    red, blue = product.variants.order_by("price")
    order_id = uuid.uuid4()
    result = services.reserve_stock([(red.id, 4), (str(blue.id), 3), (red.id, 1)], order_id=order_id)
    assert result == {str(red.id): 5, str(blue.id): 0}
    assert stock(red.id) == 5 and stock(blue.id) == 0
    rows = StockMovement.objects.filter(related_order_id=order_id, type="ORDER")
    assert sorted(r.change_quantity for r in rows) == [-5, -3]
    for v in (red, blue):
        assert ledger_sum(v.id) == stock(v.id)


def test_reserve_is_all_or_nothing():
    product = two_variant_product(stock_a=10, stock_b=3)
    red, blue = product.variants.order_by("price")
    with pytest.raises(services.InsufficientStock) as caught:
        services.reserve_stock([(red.id, 2), (blue.id, 4)], order_id=uuid.uuid4())
    assert isinstance(caught.value, Conflict)
    assert caught.value.variant_id == str(blue.id) and caught.value.available == 3
    assert stock(red.id) == 10 and stock(blue.id) == 3
    assert not StockMovement.objects.filter(type="ORDER").exists()


def test_reserve_refuses_unknown_variant_inactive_product_and_bad_quantity():
    product = factories.product()
    variant = factories.variant_of(product)
    with pytest.raises(NotFound):
        services.reserve_stock([(variant.id, 1), (uuid.uuid4(), 1)], order_id=uuid.uuid4())
    with pytest.raises(NotFound):
        services.reserve_stock([("not-a-uuid", 1)], order_id=uuid.uuid4())
    with pytest.raises(BadRequest):
        services.reserve_stock([(variant.id, 0)], order_id=uuid.uuid4())
    with pytest.raises(BadRequest):
        services.reserve_stock([(variant.id, 1)], order_id="not-an-order-id")
    services.update_product(product.id, {"is_active": False})
    with pytest.raises(Conflict) as caught:
        services.reserve_stock([(variant.id, 1)], order_id=uuid.uuid4())
    assert not isinstance(caught.value, services.InsufficientStock)
    assert stock(variant.id) == 10


def test_release_puts_back_once():
    product = two_variant_product()
    red, blue = product.variants.order_by("price")
    order_id = uuid.uuid4()
    services.reserve_stock([(red.id, 4), (blue.id, 1)], order_id=order_id)
    assert services.release_stock(order_id) == 5
    assert services.release_stock(order_id) == 0
    assert stock(red.id) == 10 and stock(blue.id) == 3
    assert StockMovement.objects.filter(related_order_id=order_id, type="ORDER_CANCELLED").count() == 2
    assert services.release_stock(uuid.uuid4()) == 0
    for v in (red, blue):
        assert ledger_sum(v.id) == stock(v.id)


def test_adjust_stock():
    variant = factories.variant_of(factories.product())
    movement, new_quantity = services.adjust_stock(variant.id, -4, "ADMIN_UPDATE", reason="count")
    assert new_quantity == 6 and movement.change_quantity == -4 and movement.reason == "count"
    with pytest.raises(BadRequest, match="Insufficient stock for the requested decrease."):
        services.adjust_stock(variant.id, -7, "ADJUSTMENT")
    with pytest.raises(BadRequest):
        services.adjust_stock(variant.id, 0, "ADJUSTMENT")
    with pytest.raises(BadRequest):
        services.adjust_stock(variant.id, 1, "STOLEN")
    with pytest.raises(NotFound):
        services.adjust_stock(uuid.uuid4(), 1, "ADJUSTMENT")
    assert stock(variant.id) == 6 == ledger_sum(variant.id)


def test_stock_changes_emit_product_updated():
    product = factories.product()
    variant = factories.variant_of(product)
    before = OutboxEvent.objects.using(alias_for("catalog")).filter(event_type="PRODUCT_UPDATED").count()
    services.reserve_stock([(variant.id, 2)], order_id=uuid.uuid4())
    events = OutboxEvent.objects.using(alias_for("catalog")).filter(event_type="PRODUCT_UPDATED").order_by("id")
    assert events.count() == before + 1
    payload = events.last().payload
    assert payload["id"] == str(product.id)
    assert payload["variants"][0]["stockQuantity"] == 8
    assert payload["variants"][0]["price"] == "19.90"


def test_variant_snapshots_in_two_queries(catalog_queries):
    images = [
        {"image_url": "/images/images/b.jpg", "order": 1},
        {"image_url": "/images/images/a.jpg", "order": 2, "is_primary": True},
    ]
    products = [factories.product(images=images) for _ in range(5)]
    ids = [factories.variant_of(p).id for p in products] + [uuid.uuid4(), "junk"]
    with catalog_queries(2):
        snaps = variant_snapshots(ids)
    assert len(snaps) == 5
    snap = snaps[str(ids[0])]
    assert snap.product_id == str(products[0].id)
    assert snap.price == Decimal("19.90") and snap.stock_quantity == 10
    assert snap.image_url == "/images/images/a.jpg"
    assert snap.attributes == {"color": "red", "size": "M"}
    assert snap.product_is_active is True
    with pytest.raises(Exception):
        snap.price = 1


def test_product_documents_batches_everything():
    cat = factories.category(slug="shoes")
    products = [factories.product(categories=[cat]) for _ in range(5)]
    batches = list(__import__("apps.catalog.selectors", fromlist=["x"]).product_documents(batch_size=2))
    assert [len(b) for b in batches] == [2, 2, 1]
    docs = [d for b in batches for d in b]
    assert sorted(d["id"] for d in docs) == sorted(str(p.id) for p in products)
    assert docs[0]["category_slugs"] == ["shoes"]
    assert sorted(docs[0]["variant_attributes_flat"]) == ["color:red", "size:M"]
    from apps.catalog.selectors import product_documents

    only = list(product_documents([products[0].id, "junk"]))
    assert [[d["id"] for d in b] for b in only] == [[str(products[0].id)]]
    assert list(product_documents([])) == []


def test_metrics_report_low_stock(client, db):
    factories.product(variants=[{"attributes": {}, "price": Decimal("1.00"), "initial_stock_quantity": 3}])
    factories.product(variants=[{"attributes": {}, "price": Decimal("1.00"), "initial_stock_quantity": 0}])
    body = client.get("/metrics").content.decode()
    assert "catalog_products 2" in body
    assert "catalog_variants_out_of_stock 1" in body
    assert "catalog_variants_low_stock 2" in body


def _entered_by_hand_before_the_rule(variant_id, change, kind, order_id):
    """A movement the adjust API wrote for a checkout's order before it refused to."""
    with services._atomic():
        services._change_stock({variant_id: change}, kind, reason="by hand", related_order_id=order_id)


@pytest.mark.parametrize(("kind", "change"), [("ORDER", -5), ("ORDER_CANCELLED", -2), ("ADJUSTMENT", -1)])
def test_release_gives_back_no_more_than_the_checkout_took(kind, change):
    """Hand-entered movements naming the order are not its reservation: they stay."""
    variant = factories.variant_of(factories.product())
    order_id = uuid.uuid4()
    services.reserve_stock([(variant.id, 3)], order_id=order_id)
    _entered_by_hand_before_the_rule(variant.id, change, kind, order_id)

    assert services.release_stock(order_id) == 3
    assert services.release_stock(order_id) == 0
    assert stock(variant.id) == 10 + change == ledger_sum(variant.id)


def test_what_was_given_back_by_hand_is_not_given_back_twice():
    variant = factories.variant_of(factories.product())
    order_id = uuid.uuid4()
    services.reserve_stock([(variant.id, 3)], order_id=order_id)
    _entered_by_hand_before_the_rule(variant.id, 1, "ORDER_CANCELLED", order_id)

    assert services.release_stock(order_id) == 2
    assert stock(variant.id) == 10 == ledger_sum(variant.id)


def test_a_released_order_with_a_sale_entered_by_hand_holds_nothing():
    from apps.catalog.reservations import open_reservations

    variant = factories.variant_of(factories.product())
    order_id = uuid.uuid4()
    services.reserve_stock([(variant.id, 3)], order_id=order_id)
    _entered_by_hand_before_the_rule(variant.id, -5, "ORDER", order_id)
    assert open_reservations() == {str(order_id): 3}
    services.release_stock(order_id)
    assert open_reservations() == {}


@pytest.mark.parametrize("kind", ["ORDER", "ORDER_CANCELLED"])
def test_adjust_refuses_order_movements_for_a_checkouts_order(kind):
    variant = factories.variant_of(factories.product())
    order_id = uuid.uuid4()
    services.reserve_stock([(variant.id, 3)], order_id=order_id)
    with pytest.raises(BadRequest, match="was placed at checkout"):
        services.adjust_stock(variant.id, 1 if kind == "ORDER_CANCELLED" else -1, kind, related_order_id=order_id)
    assert stock(variant.id) == 7 == ledger_sum(variant.id)
    # An order id of another system (a till's phone sale) is still the staff's to record.
    services.adjust_stock(variant.id, -1, "ORDER", related_order_id=uuid.uuid4())
    assert stock(variant.id) == 6


def test_saving_a_variant_read_earlier_keeps_the_stock_and_never_inserts_it_again(db):
    from django.db import DatabaseError, transaction

    product = factories.product(variants=[{"attributes": {}, "price": Decimal("1.00"), "initial_stock_quantity": 5}])
    stale = product.variants.get()
    services.adjust_stock(stale.id, -2, "ADJUSTMENT")
    stale.price = Decimal("2.00")
    stale.save()
    fresh = Variant.objects.get(id=stale.id)
    assert (fresh.price, fresh.stock_quantity) == (Decimal("2.00"), 3)  # the stock the ledger says
    Variant.objects.filter(id=stale.id).delete()  # as a concurrent delete would, after the read
    with pytest.raises(DatabaseError), transaction.atomic(using=alias_for("catalog")):
        stale.save()
    assert not Variant.objects.filter(id=stale.id).exists()
