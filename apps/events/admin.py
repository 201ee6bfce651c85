"""Read-only admin for outbox rows and dead letters, with a "retry" action for dead letters.

The tables exist in every context database; a "database" filter picks which one is listed
(the default database otherwise), and each of its choices says how many rows wait there.
"""

from django.contrib import admin, messages
from django.db import DatabaseError
from django.http import QueryDict

from apps.events import maintenance
from apps.events.models import DeadLetter, OutboxEvent
from ecommerce.db import context_aliases


class DatabaseFilter(admin.SimpleListFilter):
    """One database at a time (a queryset reads one). The unfiltered choice is labelled with
    the database it lists, ``default``: it read "All", and with one database per context it
    listed an empty table while ``search`` held the dead letters. Each choice shows what waits
    in its database (``waiting_label``), so the operator sees where to look."""

    title = "database"
    parameter_name = "db"

    def lookups(self, request, model_admin):
        return [(alias, alias) for alias in context_aliases() if alias != "default"]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.using(value) if value in context_aliases() else queryset

    @staticmethod
    def _label(alias, model_admin):
        try:
            return f"{alias} ({model_admin.waiting_label(alias)})"
        except DatabaseError:
            return f"{alias} (unreachable)"

    def choices(self, changelist):
        yield {
            "selected": self.value() not in context_aliases(),
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": self._label("default", changelist.model_admin),
        }
        for alias, _ in self.lookup_choices:
            yield {
                "selected": self.value() == alias,
                "query_string": changelist.get_query_string({self.parameter_name: alias}),
                "display": self._label(alias, changelist.model_admin),
            }


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_object(self, request, object_id, from_field=None):
        # A row opened from a list filtered on another context database lives in that database.
        alias = request.GET.get("db") or QueryDict(request.GET.get("_changelist_filters", "")).get("db")
        alias = alias if alias in context_aliases() else "default"
        try:
            return self.model.objects.using(alias).filter(pk=int(object_id)).first()
        except (TypeError, ValueError):
            return None


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "topic", "event_type", "aggregate_id", "created_at", "published_at", "attempts")
    list_filter = (DatabaseFilter, "topic", "event_type", ("published_at", admin.EmptyFieldListFilter))
    search_fields = ("aggregate_id", "event_id")
    readonly_fields = [f.name for f in OutboxEvent._meta.fields]
    ordering = ("-id",)

    def waiting_label(self, alias):
        return f"{OutboxEvent.objects.using(alias).filter(published_at__isnull=True).count()} unpublished"


@admin.register(DeadLetter)
class DeadLetterAdmin(ReadOnlyAdmin):
    list_display = ("id", "group", "topic", "event_id", "short_error", "attempts", "created_at")
    list_filter = (DatabaseFilter, "group", "topic")
    search_fields = ("event_id", "error")
    readonly_fields = [f.name for f in DeadLetter._meta.fields]
    actions = ["retry"]

    def waiting_label(self, alias):
        return f"{DeadLetter.objects.using(alias).count()} dead letters"

    @admin.display(description="error")
    def short_error(self, obj):
        return obj.error[:120]

    @admin.action(description="Retry the selected dead letters (handled ones are removed)")
    def retry(self, request, queryset):
        retried, failed = maintenance.retry_dead_letters(queryset.db, queryset)
        if retried:
            self.message_user(request, f"{retried} dead letter(s) handled and removed.", messages.SUCCESS)
        if failed:
            self.message_user(request, f"{failed} dead letter(s) failed again; see their error.", messages.WARNING)
