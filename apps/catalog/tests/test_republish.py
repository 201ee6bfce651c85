"""A renamed or moved category's products are republished after the commit, in chunks
(``apps/catalog/republish.py``)."""

import threading

import pytest
from django.core.management import call_command
from django.db import connections, transaction
from kombu.exceptions import OperationalError as BrokerDown

from apps.catalog import republish, services
from apps.catalog.tests import factories
from apps.catalog.tests.test_stock_concurrency import connect_with_patience
from apps.events.models import OutboxEvent
from ecommerce.db import alias_for


def documents_by_product():
    """``{product id: [PRODUCT_UPDATED payloads, oldest first]}`` from the catalogue's outbox."""
    rows = OutboxEvent.objects.using(alias_for("catalog")).filter(event_type="PRODUCT_UPDATED").order_by("id")
    found = {}
    for row in rows:
        found.setdefault(row.aggregate_id, []).append(row.payload)
    return found


@pytest.fixture
def shelves(tree):
    """Five products below "men" (one in both of its leaves), one below "women"."""
    below_men = [
        factories.product(categories=[tree["shirts"]]),
        factories.product(categories=[tree["shirts"]]),
        factories.product(categories=[tree["trousers"]]),
        factories.product(categories=[tree["trousers"]]),
        factories.product(categories=[tree["shirts"], tree["trousers"]]),
    ]
    dress = factories.product(categories=[tree["dresses"]])
    OutboxEvent.objects.using(alias_for("catalog")).all().delete()
    return {"men": sorted(str(p.id) for p in below_men), "dress": str(dress.id)}


def test_a_rename_commits_alone_and_the_run_republishes_its_subtree_in_chunks(settings, tree, shelves):
    settings.CATALOG_REPUBLISH_CHUNK = 2
    services.update_category(tree["men"].id, {"slug": "gentlemen"})
    outbox = OutboxEvent.objects.using(alias_for("catalog"))
    assert list(outbox.values_list("event_type", flat=True)) == ["CATEGORY_UPDATED"]
    assert republish.pending() == [(tree["men"].id, None)]

    assert republish.republish_next_chunk()  # the first two products, then the cursor moves
    assert sorted(documents_by_product()) == shelves["men"][:2]
    assert [str(after) for _, after in republish.pending()] == [shelves["men"][1]]

    assert republish.run_pending() == 2  # two more products, then the last one and the row goes
    assert republish.pending() == []
    assert not republish.republish_next_chunk()
    documents = documents_by_product()
    assert sorted(documents) == shelves["men"]  # not the dress: it is not below "men"
    for product_id in shelves["men"]:
        (document,) = documents[product_id]  # each once, the one in both leaves included
        assert "gentlemen" in document["category_path_slugs"]


def test_an_exact_multiple_of_the_chunk_ends_with_an_empty_chunk(settings, tree, shelves):
    settings.CATALOG_REPUBLISH_CHUNK = 5
    services.update_category(tree["men"].id, {"name": "Gentlemen"})
    assert republish.run_pending() == 2
    assert republish.pending() == [] and sorted(documents_by_product()) == shelves["men"]


def test_a_second_change_restarts_a_republish_under_way(settings, tree, shelves):
    settings.CATALOG_REPUBLISH_CHUNK = 2
    services.update_category(tree["men"].id, {"slug": "gentlemen"})
    republish.republish_next_chunk()
    services.update_category(tree["men"].id, {"slug": "sirs"})
    assert republish.pending() == [(tree["men"].id, None)]  # one row, from the start again
    republish.run_pending()
    for product_id, documents in documents_by_product().items():
        assert "sirs" in documents[-1]["category_path_slugs"], product_id


def test_a_change_that_needs_no_republish_writes_none(tree, shelves):
    services.update_category(tree["men"].id, {"image_url": "/images/images/men.png"})
    assert republish.pending() == []


def test_the_api_starts_the_run_once_the_rename_commits(admin, tree, shelves, catalog_commit):
    with catalog_commit(execute=False) as callbacks:
        response = admin.put(f"/products/categories/{tree['women'].id}", {"name": "Ladies"}, format="json")
    assert response.status_code == 200
    assert documents_by_product() == {}  # nothing republished inside the request's transaction
    for callback in callbacks:
        callback()
    assert list(documents_by_product()) == [shelves["dress"]]
    assert documents_by_product()[shelves["dress"]][0]["category_names"] == ["Dresses"]
    assert republish.pending() == []


def test_a_broker_down_at_commit_leaves_the_row_for_the_sweep(admin, tree, shelves, monkeypatch, catalog_commit):
    from apps.catalog import tasks

    def broker_down(*args, **kwargs):
        raise BrokerDown("connection refused")

    monkeypatch.setattr(tasks.republish_categories, "delay", broker_down)
    with catalog_commit():
        response = admin.put(f"/products/categories/{tree['women'].id}", {"slug": "ladies"}, format="json")
    assert response.status_code == 200  # the rename stands
    assert republish.pending() == [(tree["women"].id, None)]
    assert "catalog_categories_pending_republish 1" in admin.get("/metrics").content.decode()
    tasks.republish_categories()  # what the beat's sweep runs
    assert list(documents_by_product()) == [shelves["dress"]]
    assert republish.pending() == []


def test_the_command_lists_and_runs_the_pending_republishes(tree, shelves, capsys):
    services.update_category(tree["women"].id, {"slug": "ladies"})
    call_command("republish_categories", "--list")
    assert capsys.readouterr().out.splitlines() == [f"{tree['women'].id}: not started", "1 pending"]
    call_command("republish_categories")
    assert capsys.readouterr().out.strip() == "1 categories pending, 1 chunks republished"
    assert list(documents_by_product()) == [shelves["dress"]]


def test_deleting_a_category_drops_its_pending_republish(tree):
    services.update_category(tree["dresses"].id, {"name": "Gowns"})
    services.delete_category(tree["dresses"].id)
    assert republish.pending() == []


@pytest.mark.postgres
def test_two_runners_never_take_the_same_row(transactional_db, tree, shelves, monkeypatch):
    monkeypatch.setattr(republish, "start_run", lambda: None)  # the rename really commits: no eager run
    services.update_category(tree["men"].id, {"slug": "gentlemen"})
    alias = alias_for("catalog")
    holding, release, answer = threading.Event(), threading.Event(), {}

    def first_runner():
        connect_with_patience(alias)
        try:
            with transaction.atomic(using=alias):
                with connections[alias].cursor() as cursor:
                    cursor.execute("SELECT id FROM catalog_categoryrepublish FOR UPDATE")
                holding.set()
                release.wait(30)
        finally:
            connections[alias].close()

    thread = threading.Thread(target=first_runner)
    thread.start()
    try:
        assert holding.wait(30)
        answer["took"] = republish.republish_next_chunk()
    finally:
        release.set()
        thread.join(30)
    assert answer["took"] is False  # the row is another runner's: skipped, not waited for
    assert documents_by_product() == {}
    assert republish.run_pending() == 1
    assert sorted(documents_by_product()) == shelves["men"]
