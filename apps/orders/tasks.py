"""Periodic tasks of the orders context (scheduled from ``OrdersConfig.ready()``)."""

from celery import shared_task


@shared_task(name="apps.orders.tasks.reconcile_reservations")
def reconcile_reservations(older_than_minutes=10):
    from apps.orders.reconcile import reconcile_reservations as run

    return run(older_than_minutes=older_than_minutes)
