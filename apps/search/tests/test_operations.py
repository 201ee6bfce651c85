"""The index kept in sync with the catalogue end to end, reindex, status, outages, dead letters."""

import io
import json
import uuid

import pytest
from django.core.management import CommandError, call_command

from apps.events.models import DeadLetter
from apps.events.runner import deliver
from apps.search.backends import SearchUnavailable, get_backend
from apps.search.params import SearchQuery
from apps.search.services import reindex
from apps.search.tests.conftest import make_product, send
from ecommerce.db import alias_for

pytestmark = pytest.mark.django_db


def _catalogue(client, method, path, body=None, capture=None):
    """A catalogue API call whose events are delivered (inline transport, after commit)."""
    with capture(using=alias_for("catalog"), execute=True):
        response = getattr(client, method)(path, body, format="json")
    assert response.status_code in (200, 201, 204), response.content
    return response.json() if response.content else None


def test_catalogue_changes_reach_the_search_end_to_end(search, client_as, django_capture_on_commit_callbacks):
    admin, _ = client_as("ADMIN")
    call = lambda method, path, body=None: _catalogue(admin, method, path, body, django_capture_on_commit_callbacks)  # noqa: E731
    category = call("post", "/products/categories", {"name": "Screens", "slug": "screens"})
    product = call(
        "post",
        "/products",
        {
            "sku": "MON-27",
            "name": "Curved Monitor",
            "description": "27 inch",
            "categoryIds": [category["id"]],
            "variants": [{"attributes": {"size": "27"}, "price": "249.90", "initialStockQuantity": 4}],
        },
    )
    body = search.get(q="moniter")
    (item,) = body["data"]
    assert item["id"] == product["id"] and item["category_slugs"] == ["screens"]
    assert item["variants"][0]["price"] == "249.90" and item["variants"][0]["stockQuantity"] == 4
    assert body["facets"]["categories"] == [{"slug": "screens", "count": 1}]
    assert body["facets"]["attributes"] == [{"name": "size", "options": [{"value": "27", "count": 1}]}]

    call("put", f"/products/{product['id']}", {"name": "Flat Monitor"})
    assert search.names(q="monitor") == ["Flat Monitor"]

    call("delete", f"/products/{product['id']}")
    assert search.names(q="monitor") == []
    assert search.api.get("/products").status_code == 200


def test_reindex_command_rebuilds_from_the_catalogue(search, client_as, settings):
    from apps.catalog import services as catalogue

    # Written without delivering events (no on_commit here): only a reindex can find them.
    for i in range(5):
        catalogue.create_product(
            {"sku": f"R-{i}", "name": f"Reindexed Lamp {i}", "variants": [{"price": "10.00", "attributes": {}}]}
        )
    ghost = make_product("Ghost Lamp")  # in the index, not in the catalogue
    send("PRODUCT_CREATED", ghost)
    assert search.names(q="lamp") == ["Ghost Lamp"]

    out, err = io.StringIO(), io.StringIO()
    call_command("reindex", "--batch-size", "2", stdout=out, stderr=err)
    assert f"Indexed 5 documents into '{search.backend}'" in out.getvalue()
    assert "documents/s" in out.getvalue()
    assert "5doc" in err.getvalue().replace(" ", "")  # the progress bar
    assert sorted(search.names(q="lamp")) == [f"Reindexed Lamp {i}" for i in range(5)]

    out = io.StringIO()
    call_command("search_status", "--json", stdout=out)
    status = json.loads(out.getvalue())
    assert status["backend"] == search.backend and status["documents"] == 5
    if search.backend == "elasticsearch":
        assert status["alias"] == settings.ELASTICSEARCH_INDEX
        assert len(status["indices"]) == 1 and status["indices"][0].startswith(settings.ELASTICSEARCH_INDEX + "_")


def test_reindex_replaces_everything_and_a_second_rebuild_keeps_one_index(search, settings):
    send("PRODUCT_CREATED", make_product("Old Chair"))
    batches = [[make_product("New Chair A"), make_product("New Chair B")], [make_product("New Chair C")]]
    from apps.search.documents import from_payload

    assert reindex(batches=[[from_payload(p) for p in batch] for batch in batches]) == 3
    assert sorted(search.names(q="chair")) == ["New Chair A", "New Chair B", "New Chair C"]
    assert reindex(batches=[[from_payload(make_product("Only Chair"))]]) == 1
    assert search.names(q="chair") == ["Only Chair"]
    if search.backend == "elasticsearch":
        status = get_backend().status()
        assert len(status["indices"]) == 1  # the old index was deleted after the swap


def test_search_status_command_database(settings):
    settings.SEARCH_BACKEND = "database"
    send("PRODUCT_CREATED", make_product("Status Lamp"))
    out = io.StringIO()
    call_command("search_status", stdout=out)
    assert "backend: database" in out.getvalue()
    assert "documents: 1" in out.getvalue()


def test_elasticsearch_down_is_503_and_the_product_list_still_works(api_client, settings):
    settings.SEARCH_BACKEND = "elasticsearch"
    settings.ELASTICSEARCH_URL = "http://127.0.0.1:1"  # nothing listens there
    response = api_client.get("/search/products", {"q": "anything"})
    assert response.status_code == 503
    assert response.json() == {"message": "Search is temporarily unavailable. Please try again later."}
    assert api_client.get("/products").status_code == 200
    with pytest.raises(SearchUnavailable):
        get_backend().check()


def test_reindex_with_elasticsearch_down_is_a_command_error(settings):
    settings.ELASTICSEARCH_URL = "http://127.0.0.1:1"  # nothing listens there
    with pytest.raises(CommandError, match="search backend unavailable: Elasticsearch: ConnectionError"):
        call_command("reindex", "--backend", "elasticsearch", "--no-progress", stdout=io.StringIO())


def test_an_event_that_finds_elasticsearch_down_waits_instead_of_being_dead_lettered(settings):
    """The consumer gets the failure (it then rewinds and retries the batch): the event is kept."""
    settings.SEARCH_BACKEND = "elasticsearch"
    settings.ELASTICSEARCH_URL = "http://127.0.0.1:1"  # nothing listens there
    envelope = {"id": str(uuid.uuid4()), "type": "PRODUCT_CREATED", "payload": make_product("Kept Lamp")}
    with pytest.raises(SearchUnavailable):
        deliver("product_events", json.dumps(envelope), groups=["search"])
    assert not DeadLetter.objects.using(alias_for("search")).exists()


@pytest.mark.elasticsearch
def test_readiness_reports_elasticsearch(settings, elastic):
    with pytest.raises(SearchUnavailable, match="points at no index"):
        get_backend().check()
    send("PRODUCT_CREATED", make_product("Ready Lamp"))
    details = get_backend().check()
    assert details["documents"] == 1 and details["alias"] == settings.ELASTICSEARCH_INDEX


def test_a_payload_the_index_cannot_hold_is_dead_lettered(settings):
    settings.SEARCH_BACKEND = "database"
    envelope = {"id": str(uuid.uuid4()), "type": "PRODUCT_CREATED", "payload": {"id": "not-a-uuid"}}
    deliver("product_events", envelope, groups=["search"], attempts=1)
    letter = DeadLetter.objects.using(alias_for("search")).get(group="search")
    assert "not a product id" in letter.error
    good = make_product("After Poison")
    deliver("product_events", {"id": str(uuid.uuid4()), "type": "PRODUCT_CREATED", "payload": good}, groups=["search"])
    assert get_backend().search(SearchQuery())["total"] == 1


@pytest.mark.parametrize("missing", ["name", "sku"])
@pytest.mark.parametrize("value", [None, "", "  ", 42])
def test_a_document_without_a_name_or_sku_is_dead_lettered_not_indexed(settings, missing, value):
    settings.SEARCH_BACKEND = "database"
    payload = {**make_product("Nameless"), missing: value}
    deliver("product_events", {"id": str(uuid.uuid4()), "type": "PRODUCT_UPDATED", "payload": payload}, attempts=1)
    letter = DeadLetter.objects.using(alias_for("search")).get(group="search")
    assert f"no {missing}" in letter.error
    assert get_backend().search(SearchQuery())["total"] == 0


@pytest.mark.parametrize("version", ["3", -1, True, 2.5])
def test_a_document_with_a_malformed_version_is_dead_lettered(settings, version):
    settings.SEARCH_BACKEND = "database"
    payload = {**make_product("Bad Version"), "version": version}
    deliver("product_events", {"id": str(uuid.uuid4()), "type": "PRODUCT_UPDATED", "payload": payload}, attempts=1)
    letter = DeadLetter.objects.using(alias_for("search")).get(group="search")
    assert "not a version" in letter.error
    assert get_backend().search(SearchQuery())["total"] == 0


@pytest.mark.postgres
def test_postgres_full_text_structures(settings):
    from django.db import connections

    from apps.search.models import SearchDocument

    settings.SEARCH_BACKEND = "database"
    send("PRODUCT_CREATED", make_product("Monitor", sku="MON-1", description="bright"))
    alias = alias_for("search")
    vector = SearchDocument.objects.using(alias).values_list("search_vector", flat=True).get()
    assert "'monitor':1A" in vector and "'mon':2B" in vector and "'bright':4" in vector
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename IN ('search_searchdocument', 'search_searchterm')"
        )
        names = {row[0] for row in cursor.fetchall()}
    assert {"search_doc_vector_gin", "search_term_trgm_gin"} <= names
    # pg_trgm finds a typo on the first letter too.
    assert get_backend().search(SearchQuery(q="lonitor"))["total"] == 1


@pytest.mark.postgres
def test_a_rebuild_writes_each_document_row_once(settings):
    """The full-text vector is computed in the INSERT: an UPDATE afterwards wrote every row twice
    (the rebuilt table took twice its size, and broad queries read twice the pages)."""
    from django.db import connections

    from apps.search.documents import from_payload

    def written():
        # This transaction's counts (a backend reports them to the shared statistics only when
        # idle between transactions: within the test's transaction the difference is exact).
        with connections[alias_for("search")].cursor() as cursor:
            cursor.execute(
                "SELECT n_tup_ins, n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'search_searchdocument'"
            )
            return cursor.fetchone()

    settings.SEARCH_BACKEND = "database"
    documents = [from_payload(make_product(name)) for name in ("Oak Table", "Pine Shelf", "Birch Stool")]
    inserted, updated = written()
    assert reindex(batches=[documents]) == 3
    assert written() == (inserted + 3, updated)  # three rows written, none rewritten
    assert get_backend().search(SearchQuery(q="stool"))["total"] == 1  # the vector is there


def test_the_facet_keys_migration_fills_documents_indexed_before_it(settings):
    """Documents written before 0006 have empty facet keys: the migration derives them from the
    payloads, and the facets count them again."""
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connections

    from apps.search.models import SearchDocument

    settings.SEARCH_BACKEND = "database"
    send("PRODUCT_CREATED", make_product("Old Lamp", category_slugs=["lighting"], attributes={"color": "red"}))
    send("PRODUCT_CREATED", make_product("Old Desk", category_slugs=["desks", "office"], attributes={"wood": "oak"}))
    before = get_backend().search(SearchQuery())["facets"]
    alias = alias_for("search")
    SearchDocument.objects.using(alias).update(facet_categories=[], facet_attributes=[])
    assert get_backend().search(SearchQuery())["facets"]["categories"] == []

    migration = importlib.import_module("apps.search.migrations.0006_facet_keys")
    migration.fill(apps, SimpleNamespace(connection=connections[alias]))

    after = get_backend().search(SearchQuery())["facets"]
    assert after == before
    assert {c["slug"] for c in after["categories"]} == {"lighting", "desks", "office"}


@pytest.mark.postgres
def test_a_rebuild_vacuums_the_old_rows_away(transactional_db, settings):
    """Outside a transaction, the rebuild ends with VACUUM ANALYZE: the old generation of every
    document leaves the full-text index at once instead of whenever autovacuum comes."""
    from django.db import connections

    from apps.search.documents import from_payload

    settings.SEARCH_BACKEND = "database"

    def vacuums():
        with connections[alias_for("search")].cursor() as cursor:
            cursor.execute("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'search_searchdocument'")
            return cursor.fetchone()[0]

    before = vacuums()
    assert reindex(batches=[[from_payload(make_product("Vacuumed Chair"))]]) == 1
    assert vacuums() == before + 1
    assert get_backend().search(SearchQuery(q="chair"))["total"] == 1


@pytest.mark.django_db(transaction=True)
def test_the_variant_offers_migration_moves_the_variants_onto_their_documents(settings):
    """Migration 0007 on a database indexed before it: the search schema goes back to 0006,
    documents and variants are written there, then 0007 runs (and the rest after it)."""
    from django.db import connections
    from django.db.migrations.executor import MigrationExecutor

    alias = alias_for("search")
    connection = connections[alias]
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("search")
    executor.migrate([("search", "0006_facet_keys")])
    try:
        old = MigrationExecutor(connection).loader.project_state(("search", "0006_facet_keys")).apps
        document, variant = old.get_model("search", "SearchDocument"), old.get_model("search", "SearchVariant")
        fields = {f.name for f in document._meta.concrete_fields}
        base = {f: make_product("x")[f] for f in ("name", "sku") if f in fields}
        lamp = document.objects.using(alias).create(product_id=uuid.uuid4(), payload={}, **base)
        bare = document.objects.using(alias).create(product_id=uuid.uuid4(), payload={}, **base)
        for price, stock in (("19.90", 3), ("5.05", 0)):
            variant.objects.using(alias).create(
                document=lamp, variant_id=str(uuid.uuid4()), price=price, stock_quantity=stock
            )
        executor = MigrationExecutor(connection)
        executor.migrate([("search", "0007_variant_offers")])
        with connection.cursor() as cursor:  # the table as the migration left it
            cursor.execute(
                "SELECT id, variant_offers FROM search_searchdocument WHERE id IN (%s, %s)", [lamp.id, bare.id]
            )
            decoded = {k: json.loads(v) if isinstance(v, str) else v for k, v in cursor.fetchall()}
        assert sorted(decoded[lamp.id]) == [[505, 0], [1990, 3]]
        assert decoded[bare.id] == []
    finally:
        MigrationExecutor(connection).migrate(latest)


@pytest.mark.django_db(transaction=True)
def test_the_facet_keys_migration_converts_the_lists_both_ways(settings):
    """Migration 0011 on documents indexed before it: their JSON facet keys become text[] on
    PostgreSQL, in order and unchanged (quotes, backslashes, accents); backwards they are JSON
    lists again. Elsewhere the column stays JSON; the facets count the same either way."""
    from django.db import connections
    from django.db.migrations.executor import MigrationExecutor

    settings.SEARCH_BACKEND = "database"
    alias = alias_for("search")
    connection = connections[alias]
    keys = ['color:say "hi"', "size:1\\2", "material:bois flotté", "color:red"]
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("search")
    executor.migrate([("search", "0010_search_vector_trigger")])

    def stored():
        with connection.cursor() as cursor:
            cursor.execute("SELECT facet_categories, facet_attributes FROM search_searchdocument")
            (row,) = cursor.fetchall()
        return [json.loads(v) if isinstance(v, str) else v for v in row]

    try:
        old = MigrationExecutor(connection).loader.project_state(("search", "0010_search_vector_trigger")).apps
        document = old.get_model("search", "SearchDocument")
        document.objects.using(alias).create(
            product_id=uuid.uuid4(), payload={}, name="Lamp", facet_categories=["lighting"], facet_attributes=keys
        )
        MigrationExecutor(connection).migrate([("search", "0011_facet_keys_text_array")])
        assert stored() == [["lighting"], keys]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT data_type FROM information_schema.columns "
                    "WHERE table_name = 'search_searchdocument' AND column_name LIKE 'facet_%%'"
                )
                assert {row[0] for row in cursor.fetchall()} == {"ARRAY"}
        MigrationExecutor(connection).migrate([("search", "0010_search_vector_trigger")])
        assert stored() == [["lighting"], keys]
    finally:
        MigrationExecutor(connection).migrate(latest)


def test_inline_delivery_keeps_an_event_while_elasticsearch_is_down(settings, django_capture_on_commit_callbacks):
    """The embedded transport with the Elasticsearch backend: the row stays in the outbox with
    its backoff (no dead letter) and goes out once the index answers."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.catalog.tests import factories
    from apps.events.models import OutboxEvent
    from apps.events.relay import relay_pending

    settings.EVENTS_TRANSPORT = "inline"
    settings.SEARCH_BACKEND = "elasticsearch"
    settings.ELASTICSEARCH_URL = "http://127.0.0.1:1"  # nothing listens there
    with django_capture_on_commit_callbacks(using=alias_for("catalog"), execute=True):
        product = factories.product(name="Patient Lamp")
    row = OutboxEvent.objects.using(alias_for("catalog")).get(aggregate_id=str(product.id))
    assert row.published_at is None and row.attempts == 1 and "Elasticsearch" in row.last_error
    assert not DeadLetter.objects.using(alias_for("search")).exists()

    settings.SEARCH_BACKEND = "database"  # the index answers again
    OutboxEvent.objects.using(alias_for("catalog")).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    relay_pending(aliases=[alias_for("catalog")])
    row.refresh_from_db()
    assert row.published_at is not None
    assert [p["name"] for p in get_backend().search(SearchQuery(q="patient"))["data"]] == ["Patient Lamp"]
