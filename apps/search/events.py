"""What search consumes: ``product_events`` (created, updated, deleted) keep the index in sync.

The runner (``apps.events.runner``) records each event id with the handler's effect in one
transaction on the search database, so redelivery is harmless; ``index_product`` also ignores an
update older than the indexed one and any update of a deleted product.
"""

from apps.events.registry import Event, consumer
from apps.search.services import index_product, remove_product

UPSERT_EVENTS = ("PRODUCT_CREATED", "PRODUCT_UPDATED")


@consumer(topic="product_events", group="search", context="search")
def on_product_event(event: Event):
    if event.type in UPSERT_EVENTS:
        index_product(event.payload)
    elif event.type == "PRODUCT_DELETED":
        remove_product(event.payload.get("id"))
    # CATEGORY_* and anything else on the topic: not the index's concern.
