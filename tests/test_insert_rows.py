"""``ecommerce.sql.insert_rows`` writes what ``bulk_create`` writes (SQLite and PostgreSQL tiers)."""

import uuid
from decimal import Decimal

import pytest
from django.db import IntegrityError, connections, transaction
from django.db.models import Value
from django.db.models.expressions import DatabaseDefault
from django.test.utils import CaptureQueriesContext

from apps.catalog.models import StockMovement, StockMovementType
from apps.catalog.tests import factories
from apps.events.models import OutboxEvent
from apps.orders.models import Order, OrderItem
from ecommerce import sql
from ecommerce.db import alias_for

pytestmark = pytest.mark.django_db


def stored(model, objs, exclude=()):
    """The rows of ``objs`` as read back through the ORM, without the columns in ``exclude``."""
    rows = model._base_manager.using(objs[0]._state.db).filter(pk__in=[o.pk for o in objs]).order_by("pk").values()
    return [{k: v for k, v in row.items() if k not in exclude} for row in rows]


def orders(cart=None):
    return [
        Order(
            phone="+33 6 12 34 56 78",
            guest_email="jane@example.com",
            guest_name="Jane",
            payment_method="CASH_ON_DELIVERY",
            shipping_cost=Decimal("4.90"),
            total_amount=Decimal("1234567.89"),
            shipping_address={"city": "Paris", "lines": ["1 rue", None], "é": 1.5},
            cart_id=cart,
            cart_instance_id=cart,
        )
        for _ in range(3)
    ]


def test_orders_and_items_as_bulk_create_writes_them():
    using = alias_for("orders")
    fast, orm = orders(), orders()
    assert sql.insert_rows(fast, using) == fast
    Order.objects.using(using).bulk_create(orm)
    assert all(o.pk and not o._state.adding and o._state.db == using for o in fast)
    volatile = ("id", "created_at", "updated_at")
    assert stored(Order, fast, volatile) == stored(Order, orm, volatile)
    assert all(o.created_at and o.updated_at for o in fast)
    line = {
        "product_id": uuid.uuid4(),
        "variant_id": uuid.uuid4(),
        "product_name": "Shirt",
        "variant_attributes": {"color": "red"},
        "image_url": None,
        "price_at_time_of_order": Decimal("19.90"),
        "quantity": 2,
    }
    fast_items = sql.insert_rows([OrderItem(order=fast[0], **line)], using)
    orm_items = OrderItem.objects.using(using).bulk_create([OrderItem(order=orm[0], **line)])
    assert stored(OrderItem, fast_items, ("id", "order_id")) == stored(OrderItem, orm_items, ("id", "order_id"))


def test_an_auto_increment_key_is_read_back_in_order():
    using = alias_for("catalog")
    events = [
        OutboxEvent(topic="t", event_type="E", aggregate_id=str(n), payload={"n": n, "q": 'a "quoted" \\ text'})
        for n in range(sql.INSERT_CHUNK + 3)  # two statements
    ]
    with transaction.atomic(using=using):
        sql.insert_rows(events, using)
    assert [e.pk for e in events] == sorted(e.pk for e in events)
    rows = {row.pk: row for row in OutboxEvent.objects.using(using).filter(pk__in=[e.pk for e in events])}
    assert [(rows[e.pk].aggregate_id, rows[e.pk].payload) for e in events] == [
        (e.aggregate_id, e.payload) for e in events
    ]
    assert all(rows[e.pk].created_at == e.created_at for e in events)


def test_uuid_keys_defaults_and_database_defaults():
    using = alias_for("catalog")
    variant = factories.variant_of(factories.product())
    movement = StockMovement(variant_id=variant.id, change_quantity=3, type=StockMovementType.ADJUSTMENT)
    (saved,) = sql.insert_rows([movement], using)
    assert StockMovement.objects.get(pk=saved.pk).is_reservation is False
    # A value left to the database (a database default) goes through bulk_create.
    later = StockMovement(variant_id=variant.id, change_quantity=1, type=StockMovementType.ADJUSTMENT)
    field = StockMovement._meta.get_field("is_reservation")
    later.is_reservation = DatabaseDefault(Value(False), output_field=field)
    sql.insert_rows([later], using)
    assert StockMovement.objects.get(pk=later.pk).is_reservation is False


def test_a_constraint_violation_is_django_s_integrity_error():
    using = alias_for("orders")
    cart = uuid.uuid4()
    sql.insert_rows(orders(cart)[:1], using)
    with pytest.raises(IntegrityError), transaction.atomic(using=using):
        sql.insert_rows(orders(cart)[:1], using)


def test_one_statement_per_table_and_chunk():
    using = alias_for("orders")
    with CaptureQueriesContext(connections[using]) as captured:
        sql.insert_rows(orders(), using)
    inserts = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1


@pytest.mark.postgres
def test_the_same_on_postgresql():
    """Also in the shared-database tier, which binds parameters on the client."""
    test_orders_and_items_as_bulk_create_writes_them()
    test_an_auto_increment_key_is_read_back_in_order()


@pytest.mark.parametrize("values", [
    {"payload": {"name": "Mug", "price": "9.90", "tags": ["a", None], "é": 1.5}, "in_stock": True,
     "variant_offers": [[990, 3], [1290, 0]], "version": 7},
    {"payload": {}, "in_stock": False, "variant_offers": [], "version": None, "updated_at": None},
])  # fmt: skip
def test_update_row_writes_what_update_writes(values):
    from django.utils import timezone

    from apps.search.models import SearchDocument

    using = alias_for("search")
    made = {"payload": {"old": True}, "name": "Mug", "variant_offers": [[1, 1]], "version": 1}
    fast, orm = (SearchDocument.objects.using(using).create(product_id=uuid.uuid4(), **made) for _ in range(2))
    values = {"updated_at": timezone.now(), "indexed_at": timezone.now(), **values}
    assert sql.update_row(SearchDocument, fast.pk, values, using) == 1
    assert SearchDocument.objects.using(using).filter(pk=orm.pk).update(**values) == 1
    volatile = ("id", "product_id")
    assert stored(SearchDocument, [fast], volatile) == stored(SearchDocument, [orm], volatile)
    assert sql.update_row(SearchDocument, orm.pk + fast.pk + 1000, values, using) == 0  # no such row
