"""The catalogue's Django admin: pages render, stock changes only through the service action."""

import json

import pytest
from django.db.models import Sum

from apps.catalog.models import StockMovement, Variant

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, make_user):
    user = make_user(role="ADMIN", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/admin/catalog/product/",
        "/admin/catalog/category/",
        "/admin/catalog/category/?parent=root",
        "/admin/catalog/variant/",
        "/admin/catalog/stockmovement/",
        "/admin/catalog/product/add/",
    ],
)
def test_pages_render(staff_client, shirt, url):
    assert staff_client.get(url).status_code == 200


def test_product_change_page_has_inlines(staff_client, shirt):
    response = staff_client.get(f"/admin/catalog/product/{shirt.id}/change/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "variants-TOTAL_FORMS" in body and "images-TOTAL_FORMS" in body


def test_category_tree_display(staff_client, tree):
    body = staff_client.get("/admin/catalog/category/").content.decode()
    assert "Clothing › Men › Shirts" in body


def test_stock_movements_are_read_only(staff_client, shirt):
    movement = StockMovement.objects.first()
    assert staff_client.get("/admin/catalog/stockmovement/add/").status_code == 403
    response = staff_client.post(f"/admin/catalog/stockmovement/{movement.id}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert StockMovement.objects.filter(id=movement.id).exists()


def test_adjust_stock_action_goes_through_the_service(staff_client, shirt):
    variants = list(shirt.variants.order_by("price"))  # 5 and 0 in stock
    ids = [str(v.id) for v in variants]
    page = staff_client.post("/admin/catalog/variant/", {"action": "adjust_stock", "_selected_action": ids})
    assert page.status_code == 200 and b"Adjust stock" in page.content
    response = staff_client.post(
        "/admin/catalog/variant/",
        {
            "action": "adjust_stock",
            "_selected_action": ids,
            "apply": "1",
            "change_quantity": "-3",
            "type": "ADMIN_UPDATE",
            "reason": "inventory",
        },  # fmt: skip
        follow=True,
    )
    assert response.status_code == 200
    assert [Variant.objects.get(id=v.id).stock_quantity for v in variants] == [2, 0]  # the second is refused
    assert "Insufficient stock" in response.content.decode()
    for v in variants:
        ledger = StockMovement.objects.filter(variant_id=v.id).aggregate(s=Sum("change_quantity"))["s"] or 0
        assert ledger == Variant.objects.get(id=v.id).stock_quantity
    assert StockMovement.objects.get(variant_id=variants[0].id, type="ADMIN_UPDATE").reason == "inventory"


def test_category_form_refuses_fourth_level(staff_client, tree):
    response = staff_client.post(
        "/admin/catalog/category/add/", {"name": "Deep", "slug": "deep", "parent": str(tree["shirts"].id)}
    )
    assert response.status_code == 200  # the form again, with its error
    assert b"deeper than 3 levels" in response.content


def test_deleting_a_product_in_the_admin_publishes_the_event(staff_client, shirt):
    from apps.events.models import OutboxEvent
    from ecommerce.db import alias_for

    response = staff_client.post(f"/admin/catalog/product/{shirt.id}/delete/", {"post": "yes"})
    assert response.status_code == 302
    event = OutboxEvent.objects.using(alias_for("catalog")).get(event_type="PRODUCT_DELETED")
    assert event.payload == {"id": str(shirt.id), "version": 2}  # created as version 1


def test_a_variant_with_ledger_rows_is_kept(staff_client, shirt):
    variant = shirt.variants.get(stock_quantity=5)
    staff_client.post(f"/admin/catalog/variant/{variant.id}/delete/", {"post": "yes"})
    assert Variant.objects.filter(id=variant.id).exists()


def test_the_delete_page_reports_and_logs_only_a_real_deletion(staff_client, shirt):
    """Confirmed on the variant's delete page, a variant with ledger rows is refused by the
    service (its check under the locks): a warning, no "deleted successfully", no log entry.
    Django logged and reported the deletion before delete_model ran; only this page's own check,
    made before any lock, hid that here (test_admin_concurrency has the stock change that slips
    past it)."""
    from django.contrib.admin.models import DELETION, LogEntry

    stocked, spare = shirt.variants.get(stock_quantity=5), shirt.variants.get(stock_quantity=0)
    response = staff_client.post(f"/admin/catalog/variant/{stocked.id}/delete/", {"post": "yes"}, follow=True)
    assert response.redirect_chain[-1][0] == f"/admin/catalog/variant/{stocked.id}/change/"
    assert [str(m) for m in response.context["messages"]] == [
        "Variant “SHIRT-1 Oxford shirt (color: white, size: M)” was kept: it has stock movements."
    ]
    assert Variant.objects.filter(id=stocked.id).exists()
    assert not LogEntry.objects.filter(action_flag=DELETION).exists()

    response = staff_client.post(f"/admin/catalog/variant/{spare.id}/delete/", {"post": "yes"}, follow=True)
    assert response.redirect_chain[-1][0] == "/admin/catalog/variant/"
    assert [str(m) for m in response.context["messages"]] == [
        "The variant “SHIRT-1 Oxford shirt (color: blue, size: L)” was deleted successfully."
    ]
    assert not Variant.objects.filter(id=spare.id).exists()
    (entry,) = LogEntry.objects.filter(action_flag=DELETION)
    assert entry.object_id == str(spare.id)


def product_documents(product_id):
    from apps.events.models import OutboxEvent
    from ecommerce.db import alias_for

    rows = OutboxEvent.objects.using(alias_for("catalog")).filter(
        aggregate_id=str(product_id), event_type="PRODUCT_UPDATED"
    )
    return [row.payload for row in rows.order_by("id")]


def test_deleting_a_variant_in_the_admin_publishes_the_products_document(staff_client, shirt):
    spare = shirt.variants.get(stock_quantity=0)
    assert not StockMovement.objects.filter(variant=spare).exists()
    response = staff_client.post(f"/admin/catalog/variant/{spare.id}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Variant.objects.filter(id=spare.id).exists()
    (document,) = product_documents(shirt.id)
    assert [v["id"] for v in document["variants"]] == [str(shirt.variants.get().id)]


def test_moving_a_variant_to_another_product_in_the_admin_publishes_both_documents(staff_client, shirt):
    from apps.catalog.tests import factories

    other = factories.product("OTHER-1", "Other shirt")
    spare = shirt.variants.get(stock_quantity=0)
    form = {
        "product": str(other.id),
        "attributes": '{"color": "blue", "size": "L"}',
        "price": "44.00",
        "cost_price": "",
        "low_stock_threshold": "",
    }
    response = staff_client.post(f"/admin/catalog/variant/{spare.id}/change/", form)
    assert response.status_code == 302, response.content[:2000]
    (left,) = product_documents(shirt.id)
    assert str(spare.id) not in [v["id"] for v in left["variants"]]
    assert str(spare.id) in [v["id"] for v in product_documents(other.id)[-1]["variants"]]


def test_renaming_a_category_in_the_admin_republishes_its_products(staff_client, tree, shirt, catalog_commit):
    form = {"name": "Formal shirts", "slug": "formal-shirts", "parent": str(tree["men"].id), "image_url": ""}
    with catalog_commit():  # the republish runs after the commit
        response = staff_client.post(f"/admin/catalog/category/{tree['shirts'].id}/change/", form)
    assert response.status_code == 302, response.content[:2000]
    (document,) = product_documents(shirt.id)
    assert document["category_names"] == ["Formal shirts"]
    assert document["category_slugs"] == ["formal-shirts"]


def test_moving_a_category_in_the_admin_republishes_the_products_below_it(staff_client, tree, shirt, catalog_commit):
    form = {"name": "Men", "slug": "men", "parent": "", "image_url": ""}
    with catalog_commit():  # the republish runs after the commit
        response = staff_client.post(f"/admin/catalog/category/{tree['men'].id}/change/", form)
    assert response.status_code == 302, response.content[:2000]
    (document,) = product_documents(shirt.id)
    assert document["category_path_slugs"] == ["shirts", "men"]


@pytest.mark.parametrize(
    "attributes", ['["red"]', '"red"', '{"color": {"shade": "dark"}}', '{"": "x"}', '{"a\\u0000": "x"}']
)
def test_the_variant_admin_refuses_the_attributes_the_api_refuses(staff_client, shirt, attributes):
    variant = shirt.variants.get(stock_quantity=0)
    form = {
        "product": str(shirt.id),
        "attributes": attributes,
        "price": "44.00",
        "cost_price": "",
        "low_stock_threshold": "",
    }
    response = staff_client.post(f"/admin/catalog/variant/{variant.id}/change/", form)
    assert response.status_code == 200 and b"errorlist" in response.content  # the form again, with its error
    variant.refresh_from_db()
    assert variant.attributes == {"color": "blue", "size": "L"}


def test_the_image_inline_allows_one_primary_image_as_the_api(rf, shirt):
    from django.contrib import admin as django_admin
    from django.contrib.auth.models import AnonymousUser

    from apps.catalog.admin import ProductImageInline
    from apps.catalog.models import Product

    request = rf.post("/")
    request.user = AnonymousUser()
    formset_class = ProductImageInline(Product, django_admin.site).get_formset(request, shirt)
    data = {"images-TOTAL_FORMS": "2", "images-INITIAL_FORMS": "2", "images-MIN_NUM_FORMS": "0"}
    for n, image in enumerate(shirt.images.order_by("order")):
        data.update({
            f"images-{n}-id": str(image.id), f"images-{n}-product": str(shirt.id),
            f"images-{n}-image_url": image.image_url, f"images-{n}-order": str(image.order),
            f"images-{n}-is_primary": "on",
        })  # fmt: skip
    formset = formset_class(data, instance=shirt, prefix="images")
    assert not formset.is_valid()
    assert "Only one image can be primary" in str(formset.non_form_errors())
    del data["images-1-is_primary"]
    assert formset_class(data, instance=shirt, prefix="images").is_valid()


def test_bulk_delete_of_variants_keeps_those_with_ledger_rows_and_says_so(staff_client, shirt):
    stocked, spare = shirt.variants.get(stock_quantity=5), shirt.variants.get(stock_quantity=0)
    response = staff_client.post(
        "/admin/catalog/variant/",
        {"action": "delete_selected", "_selected_action": [str(stocked.id), str(spare.id)], "post": "yes"},
        follow=True,
    )
    assert response.status_code == 200
    assert list(Variant.objects.filter(product=shirt).values_list("id", flat=True)) == [stocked.id]
    (document,) = product_documents(shirt.id)
    assert [v["id"] for v in document["variants"]] == [str(stocked.id)]


def test_the_bulk_delete_of_variants_reports_and_logs_only_the_deleted_ones(staff_client, shirt):
    """Django's action counted and logged every selected variant as deleted, the kept one too."""
    from django.contrib.admin.models import DELETION, LogEntry

    stocked, spare = shirt.variants.get(stock_quantity=5), shirt.variants.get(stock_quantity=0)
    selected = [str(stocked.id), str(spare.id)]
    page = staff_client.post("/admin/catalog/variant/", {"action": "delete_selected", "_selected_action": selected})
    assert page.status_code == 200 and b"Are you sure" in page.content  # Django's confirmation page
    response = staff_client.post(
        "/admin/catalog/variant/",
        {"action": "delete_selected", "_selected_action": selected, "post": "yes"},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == [
        "Successfully deleted 1 variant.",
        "1 variant(s) with stock movements were kept.",
    ]
    assert list(LogEntry.objects.filter(action_flag=DELETION).values_list("object_id", flat=True)) == [str(spare.id)]


def product_change_form(product, delete=()):
    """The product's change form as the admin page posts it, with the ``delete`` variants ticked."""
    deleted = {v.id for v in delete}
    data = {"sku": product.sku, "name": product.name, "description": product.description or ""}
    if product.is_active:
        data["is_active"] = "on"

    def optional(value):
        return "" if value is None else str(value)

    inlines = {
        "product_categories": [
            (link, {"category": str(link.category_id)}) for link in product.product_categories.all()
        ],
        "variants": [
            (
                v,
                {
                    "attributes": json.dumps(v.attributes),
                    "price": str(v.price),
                    "cost_price": optional(v.cost_price),
                    "low_stock_threshold": optional(v.low_stock_threshold),
                    **({"DELETE": "on"} if v.id in deleted else {}),
                },
            )
            for v in product.variants.order_by("created_at", "id")
        ],
        "images": [
            (
                i,
                {
                    "image_url": i.image_url,
                    "alt_text": i.alt_text or "",
                    "order": str(i.order),
                    **({"is_primary": "on"} if i.is_primary else {}),
                },
            )
            for i in product.images.order_by("order", "created_at", "id")
        ],
    }
    for prefix, rows in inlines.items():
        data.update({f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(len(rows))})
        data.update({f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"})
        for n, (row, fields) in enumerate(rows):
            data.update({f"{prefix}-{n}-id": str(row.id), f"{prefix}-{n}-product": str(product.id)})
            data.update({f"{prefix}-{n}-{name}": value for name, value in fields.items()})
    return data


def test_deleting_variants_in_the_product_inline_keeps_those_with_ledger_rows_and_says_so(staff_client, shirt):
    """The inline deletes through delete_variant: the variant without movements goes, the one with
    movements stays, and the page says which was kept (the save itself goes through)."""
    from django.contrib.admin.models import LogEntry

    stocked, spare = shirt.variants.get(stock_quantity=5), shirt.variants.get(stock_quantity=0)
    form = product_change_form(shirt, delete=[stocked, spare])
    form["name"] = "Oxford shirt, slim"
    response = staff_client.post(f"/admin/catalog/product/{shirt.id}/change/", form, follow=True)
    assert response.status_code == 200
    assert list(Variant.objects.filter(product=shirt).values_list("id", flat=True)) == [stocked.id]
    messages = [str(m) for m in response.context["messages"]]
    assert (
        "Variant “SHIRT-1 Oxford shirt, slim (color: white, size: M)” was kept: it has stock movements." in messages
    ), messages
    shirt.refresh_from_db()
    assert shirt.name == "Oxford shirt, slim"
    (entry,) = LogEntry.objects.filter(object_id=str(shirt.id))
    assert str(spare) in entry.get_change_message() and str(stocked) not in entry.get_change_message()
    document = product_documents(shirt.id)[-1]
    assert [v["id"] for v in document["variants"]] == [str(stocked.id)]
    assert document["name"] == "Oxford shirt, slim"
