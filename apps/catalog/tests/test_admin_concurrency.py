"""The admin's deletions of variants (bulk action, product inline) against a stock change in flight
(PostgreSQL row locks)."""

import json
import threading
import time
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.messages.storage.cookie import CookieStorage
from django.db import connections, transaction
from django.test import RequestFactory

from apps.catalog import services
from apps.catalog.models import StockMovement, Variant
from apps.catalog.tests import factories
from ecommerce.db import alias_for

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _waiting_for_a_lock(alias):
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = %s",
            [connections[alias].settings_dict["NAME"]],
        )
        return cursor.fetchone()[0]


def _wait_until(condition, what):
    for _ in range(6000):
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


def _bulk_delete(variant_ids):
    request = RequestFactory().post("/admin/catalog/variant/")
    request._messages = CookieStorage(request)
    model_admin = admin.site._registry[Variant]
    model_admin.delete_queryset(request, Variant.objects.filter(id__in=variant_ids))
    return [str(m) for m in request._messages]


def _in_turn(hold, act, *, hold_first):
    """Both orders of a race. With ``hold_first``, ``act`` runs while ``hold``'s transaction is
    open (``_while_held``); otherwise ``act`` runs to its end, then ``hold`` in its transaction.
    Returns ``(hold's outcome, act's)``: "done" or the exception's class name for ``hold``, what
    ``act`` returned or its exception's repr."""
    if hold_first:
        return "done", _while_held(hold, act)
    try:
        acted = act()
    except Exception as exc:  # noqa: BLE001 - reported by the caller's assertions
        acted = repr(exc)
    try:
        with transaction.atomic(using=alias_for("catalog")):
            hold()
        return "done", acted
    except Exception as exc:  # noqa: BLE001 - reported by the caller's assertions
        return type(exc).__name__, acted


def _give_stock(variant):
    return lambda: services.adjust_stock(variant.id, 4, "ADMIN_UPDATE", reason="delivery")


@pytest.mark.parametrize("first", ["stock change", "bulk delete"])
def test_bulk_delete_and_a_stock_change_of_a_bare_variant(transactional_db, settings, first):
    """A variant with no ledger rows yet (no stock: a checkout cannot take it before some stock
    arrives) is deleted in the admin while staff give it stock. Whichever comes second sees the
    first: the variant is either gone with no movement, or kept with its movement and reported as
    kept. The admin checked the ledger before taking any lock: the delete itself re-read it under
    the product's lock, so the variant was kept, but the admin did not say so."""
    settings.EVENTS_TRANSPORT = "kafka"  # no in-process consumers in the threads
    product = _two_sizes("TEE-1", "Plain tee")
    bare = product.variants.get(stock_quantity=0)
    assert not StockMovement.objects.filter(variant=bare).exists()

    stock_change, reported = _in_turn(
        _give_stock(bare), lambda: _bulk_delete([bare.id]), hold_first=first == "stock change"
    )

    movements = StockMovement.objects.filter(variant_id=bare.id)
    if Variant.objects.filter(id=bare.id).exists():
        assert first == "stock change", reported
        assert Variant.objects.get(id=bare.id).stock_quantity == 4 == sum(m.change_quantity for m in movements)
        assert stock_change == "done"
        assert reported == ["1 variant(s) with stock movements were kept."], reported
    else:
        assert first == "bulk delete", reported
        assert not movements.exists()
        assert stock_change == "NotFound"
        assert reported == [], reported


@pytest.mark.parametrize("first", ["stock change", "inline delete"])
def test_inline_delete_and_a_stock_change_of_a_bare_variant(transactional_db, settings, first):
    """The same race through the product's change page: its variants inline checked the ledger
    while validating the form, before the product's lock; the delete that followed then took the
    variant's first movement along (the cascade), so the stock change's ledger row was lost."""
    from apps.catalog.tests.test_admin import product_change_form

    settings.EVENTS_TRANSPORT = "kafka"  # no in-process consumers in the threads
    product = _two_sizes("TEE-1", "Plain tee")
    bare = product.variants.get(stock_quantity=0)
    assert not StockMovement.objects.filter(variant=bare).exists()
    client, form = _staff_client(), product_change_form(product, delete=[bare])

    stock_change, landed = _in_turn(
        _give_stock(bare),
        lambda: _post(client, f"/admin/catalog/product/{product.id}/change/", form),
        hold_first=first == "stock change",
    )

    movements = StockMovement.objects.filter(variant_id=bare.id)
    status, messages = landed
    assert status == 200, landed
    if first == "stock change":
        assert stock_change == "done"
        assert Variant.objects.filter(id=bare.id).exists(), landed
        assert Variant.objects.get(id=bare.id).stock_quantity == 4 == sum(m.change_quantity for m in movements)
        assert "Variant “TEE-1 Plain tee (size: M)” was kept: it has stock movements." in messages, landed
    else:
        assert not Variant.objects.filter(id=bare.id).exists()
        assert not movements.exists()
        assert stock_change == "NotFound"
        assert not [m for m in messages if "kept" in m], landed


def _staff_client():
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    # A superuser without a role: the flush of a transactional test removed the seeded roles.
    client.force_login(get_user_model().objects.create_superuser("staff@example.com", "password123"))
    return client


def _post(client, url, data):
    """``(status, messages)`` of the page the POST lands on."""
    response = client.post(url, data, follow=True)
    return response.status_code, [str(m) for m in response.context["messages"]]


def _while_held(hold, act):
    """``act()`` in a thread while ``hold()`` runs in a catalogue transaction kept open until
    ``act`` waits for one of its locks; then that transaction commits. Returns ``act``'s result
    (or its exception's repr)."""
    alias = alias_for("catalog")
    holding, release = threading.Event(), threading.Event()
    outcome = {}

    def held():
        try:
            with transaction.atomic(using=alias):
                hold()
                holding.set()
                release.wait(60)
        finally:
            connections.close_all()

    def acting():
        try:
            outcome["act"] = act()
        except Exception as exc:  # noqa: BLE001 - reported by the caller's assertions
            outcome["act"] = repr(exc)
        finally:
            connections.close_all()

    holder, actor = threading.Thread(target=held), threading.Thread(target=acting)
    holder.start()
    assert holding.wait(60)
    actor.start()
    _wait_until(lambda: not actor.is_alive() or _waiting_for_a_lock(alias) >= 1, "the admin waits")
    release.set()
    holder.join(60)
    actor.join(60)
    return outcome["act"]


def _deletions():
    from django.contrib.admin.models import DELETION, LogEntry

    return list(LogEntry.objects.filter(action_flag=DELETION).values_list("object_id", flat=True))


def _two_sizes(sku, name):
    return factories.product(
        sku,
        name,
        variants=[
            {"attributes": {"size": "S"}, "price": Decimal("5.00"), "initial_stock_quantity": 5},
            {"attributes": {"size": "M"}, "price": Decimal("5.00"), "initial_stock_quantity": 0},
        ],
    )


def test_the_delete_page_and_a_stock_change_in_flight(transactional_db, settings):
    """The variant's delete page checked the ledger before any lock, then Django logged the
    deletion and said "deleted successfully" before delete_model ran: a stock change committed
    meanwhile kept the variant (the service's check under the locks), yet the page reported and
    logged its deletion."""
    settings.EVENTS_TRANSPORT = "kafka"  # no in-process consumers in the threads
    product = _two_sizes("TEE-1", "Plain tee")
    bare = product.variants.get(stock_quantity=0)
    client = _staff_client()

    status, messages = _while_held(
        lambda: services.adjust_stock(bare.id, 4, "ADMIN_UPDATE", reason="delivery"),
        lambda: _post(client, f"/admin/catalog/variant/{bare.id}/delete/", {"post": "yes"}),
    )

    assert status == 200
    assert messages == ["Variant “TEE-1 Plain tee (size: M)” was kept: it has stock movements."]
    assert _deletions() == []
    movements = StockMovement.objects.filter(variant_id=bare.id)
    assert Variant.objects.get(id=bare.id).stock_quantity == 4 == sum(m.change_quantity for m in movements)


@pytest.mark.parametrize("page", ["delete page", "bulk delete", "inline delete"])
@pytest.mark.parametrize("meanwhile", ["moved", "deleted"])
def test_a_variant_moved_or_deleted_meanwhile(transactional_db, settings, meanwhile, page):
    """The admin read the variant as the first product's; a move to another product (or a
    deletion) committed before the admin's delete took the first product's lock, so
    ``delete_variant(first, variant)`` found no such variant. The pages took that for "deleted
    meanwhile, as asked": the inline logged a deletion it did not make, the bulk action said
    nothing, the delete page said both "Variant not found" and "deleted successfully". A moved
    variant stays where it was moved (it was changed since the page was read); either way the
    page says what happened and logs no deletion."""
    from apps.catalog import events
    from apps.catalog.tests.test_admin import product_change_form

    settings.EVENTS_TRANSPORT = "kafka"  # no in-process consumers in the threads
    first, other = _two_sizes("TEE-1", "Plain tee"), _two_sizes("TEE-2", "Striped tee")
    bare = first.variants.get(stock_quantity=0)
    client = _staff_client()

    def move():  # as the variant admin's save_model: both products locked, then the variant
        events.lock_products([first.id, other.id])
        Variant.objects.filter(id=bare.id).update(product_id=other.id)

    def delete():
        services.delete_variant(first.id, bare.id)

    act = {
        "delete page": lambda: _post(client, f"/admin/catalog/variant/{bare.id}/delete/", {"post": "yes"}),
        "bulk delete": lambda: (200, _bulk_delete([bare.id])),
        "inline delete": lambda: _post(
            client, f"/admin/catalog/product/{first.id}/change/", product_change_form(first, delete=[bare])
        ),
    }[page]
    status, messages = _while_held(move if meanwhile == "moved" else delete, act)

    assert status == 200
    if meanwhile == "moved":
        assert Variant.objects.get(id=bare.id).product_id == other.id
        said = "Variant “TEE-1 Plain tee (size: M)” was not deleted: it was moved to “TEE-2 Striped tee” meanwhile."
    else:
        assert not Variant.objects.filter(id=bare.id).exists()
        said = {
            "bulk delete": "1 variant(s) had already been deleted.",
        }.get(page, "Variant “TEE-1 Plain tee (size: M)” had already been deleted.")
    assert said in messages, messages
    assert not [m for m in messages if "deleted successfully" in m or "Successfully deleted" in m], messages
    assert _deletions() == []
    if page == "inline delete":
        from django.contrib.admin.models import LogEntry

        (entry,) = LogEntry.objects.filter(object_id=str(first.id))
        assert "Deleted" not in entry.get_change_message(), entry.get_change_message()


def _edit_form(product, variant, page):
    """``(url, data)`` of a page that changes ``variant``'s price to 6.00."""
    from apps.catalog.tests.test_admin import product_change_form

    if page == "variant page":
        data = {"product": str(product.id), "attributes": json.dumps(variant.attributes), "price": "6.00"}
        data.update(cost_price="", low_stock_threshold="")
        return f"/admin/catalog/variant/{variant.id}/change/", data
    data = product_change_form(product)
    data.update({key: "6.00" for key in data if key.endswith("-price")})
    return f"/admin/catalog/product/{product.id}/change/", data


@pytest.mark.parametrize("page", ["variant page", "product page"])
def test_an_admin_edit_does_not_write_back_the_stock_it_read(transactional_db, settings, page):
    """A variant's change page (or the product's inline) read the variant's stock with the form
    and saved every field: a stock change that committed while the save waited for the
    product's lock was overwritten, and the stock no longer matched its ledger."""
    settings.EVENTS_TRANSPORT = "kafka"  # no in-process consumers in the threads
    product = factories.product(
        variants=[{"attributes": {"size": "S"}, "price": Decimal("5.00"), "initial_stock_quantity": 5}]
    )
    (variant,) = product.variants.all()
    client = _staff_client()
    url, data = _edit_form(product, variant, page)

    status = _while_held(
        lambda: services.adjust_stock(variant.id, -2, "ADJUSTMENT", reason="till"),
        lambda: client.post(url, data).status_code,
    )

    variant.refresh_from_db()
    ledger = sum(StockMovement.objects.filter(variant=variant).values_list("change_quantity", flat=True))
    assert status == 302
    assert variant.price == Decimal("6.00")
    assert variant.stock_quantity == 3 == ledger


@pytest.mark.parametrize("page", ["variant page", "product page"])
def test_an_admin_edit_of_a_variant_deleted_meanwhile_does_not_bring_it_back(transactional_db, settings, page):
    """The save waited for the product's lock while the variant was deleted; Django then found
    no row to update and inserted the variant again (its old stock, no ledger, no event)."""
    settings.EVENTS_TRANSPORT = "kafka"  # no in-process consumers in the threads
    product = _two_sizes("SHIRT-9", "Shirt")
    bare = product.variants.get(stock_quantity=0)
    client = _staff_client()
    url, data = _edit_form(product, bare, page)

    landed = _while_held(lambda: services.delete_variant(product.id, bare.id), lambda: _post(client, url, data))

    assert not Variant.objects.filter(id=bare.id).exists()
    status, messages = landed
    assert status == 200 and "Something on this page was deleted while you were editing it: nothing was saved." in (
        messages
    ), landed
    assert Variant.objects.get(product=product).price == Decimal("5.00")  # nothing of the page saved
