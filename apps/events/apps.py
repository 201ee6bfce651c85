from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "apps.events"
    label = "events"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.conf import settings

        from apps.events import maintenance, tasks
        from ecommerce.health import register_check, register_metrics

        register_metrics(maintenance.metrics)
        register_check("outbox", maintenance.outbox_check)
        if settings.EVENTS_TRANSPORT == "kafka":
            # Writes go on while the broker is away (events wait in the outbox): not critical
            # unless EVENTS_BROKER_READINESS_STRICT says so.
            register_check("broker", maintenance.broker_check, critical=settings.EVENTS_BROKER_READINESS_STRICT)
            relay_seconds = max(settings.EVENTS_RELAY_INTERVAL_SECONDS, 1.0)
        else:
            relay_seconds = 30.0  # inline: rows go at commit; this picks up any whose hand-over failed
        settings.CELERY_BEAT_SCHEDULE.update(tasks.beat_schedule(relay_seconds))
