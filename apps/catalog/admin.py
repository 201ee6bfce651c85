"""Django admin for the catalogue.

The admin writes through the same rules as the API: product changes publish PRODUCT_* events in
the admin's own transaction, stock is read-only here and changes only through the "Adjust stock"
action (which calls ``services.adjust_stock``), the ledger is read-only, and products can only be
put in leaf categories.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import actions as admin_actions
from django.contrib.admin.exceptions import DisallowedModelAdminToField
from django.contrib.admin.options import TO_FIELD_VAR
from django.contrib.admin.utils import model_ngettext, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from rest_framework.exceptions import ValidationError as DRFValidationError

from apps.catalog import events, services
from apps.catalog.api.serializers import AttributesField
from apps.catalog.models import (
    Category,
    Product,
    ProductCategory,
    ProductImage,
    StockMovement,
    StockMovementType,
    Variant,
)
from ecommerce.db import alias_for
from ecommerce.errors import ApiError, Conflict, NotFound


def _publish_after_admin_change(product_ids, event_type=events.PRODUCT_UPDATED):
    # The admin runs its change views in transaction.atomic on the model's database.
    with transaction.atomic(using=alias_for("catalog")):
        events.product_changed(product_ids, event_type)


class SavesOnlyWhatStillExists:
    """A change page whose object (or an inline's) was deleted after the page read it: the
    models' ``save()`` updates only (``Product``, ``Variant``), so Django's "no row updated" error
    ends the save, rolled back, instead of inserting the row again. The page says so."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DatabaseError as exc:
            if object_id is None or "did not affect any rows" not in str(exc):
                raise
        self.message_user(
            request,
            "Something on this page was deleted while you were editing it: nothing was saved.",
            messages.ERROR,
        )
        return redirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"))


# What became of a variant the admin asked ``delete_variant`` to delete.
DELETED, KEPT, MOVED, GONE = "deleted", "kept", "moved", "gone"


def _variant_label(variant):
    """``SHIRT-1 Oxford shirt (color: blue, size: L)``: ``Variant.__str__`` shows the product's
    UUID. The variant's product must be loaded (it may be deleted by then)."""
    return f"{variant.product} ({variant.attributes_text() or variant.pk})"


def _delete_through_service(variant):
    """Delete ``variant``, as the page read it, through ``delete_variant``, which checks the
    ledger under the product's and the variant's locks. Returns ``(outcome, product)``: DELETED;
    KEPT (it has ledger rows, maybe committed since the page was read); MOVED since the page was
    read, to ``product``; GONE (deleted meanwhile, by someone else).

    A variant moved meanwhile is not followed to its new product: the staff confirmed deleting
    the old product's variant, a move means someone was editing it, and a deletion cannot be
    undone while a refusal is one click from being redone. ``delete_variant(old product, id)``
    raises NotFound for a moved variant as for a deleted one, hence the re-read, unlocked: it
    only chooses what the page says."""
    try:
        services.delete_variant(variant.product_id, variant.pk)
    except Conflict:
        return KEPT, None
    except NotFound:
        now = Variant.objects.select_related("product").filter(pk=variant.pk).first()
        return (GONE, None) if now is None else (MOVED, now.product)
    return DELETED, None


def _not_deleted_message(outcome, variant, product):
    """``(text, level)`` for a variant ``_delete_through_service`` did not delete."""
    label = _variant_label(variant)
    if outcome == KEPT:
        return f"Variant “{label}” was kept: it has stock movements.", messages.WARNING
    if outcome == MOVED:
        return f"Variant “{label}” was not deleted: it was moved to “{product}” meanwhile.", messages.WARNING
    return f"Variant “{label}” had already been deleted.", messages.INFO


class VariantForm(forms.ModelForm):
    """The API's rule for attributes (a flat object of scalars, names without ':'): anything else
    broke the product's document (a list: a 500 on save) or reached the index as nonsense."""

    class Meta:
        model = Variant
        fields = ["product", "attributes", "price", "cost_price", "low_stock_threshold"]

    def clean_attributes(self):
        try:
            return AttributesField().run_validation(self.cleaned_data.get("attributes"))
        except DRFValidationError as exc:
            raise ValidationError(exc.detail)


class VariantFormSet(forms.BaseInlineFormSet):
    """Ticked variants are deleted through ``delete_variant``, in the admin's save transaction.

    The ledger check belongs under the product's and the variant's locks, which the service takes
    (after the product row the admin's save has just updated, so the lock order holds): checked
    while validating the form, before any lock, a stock change committed meanwhile went with the
    variant (the cascade deletes its ledger rows). A variant not deleted (kept for its ledger
    rows, moved to another product or deleted by someone else meanwhile) is listed in
    ``not_deleted`` for the admin's message, and left out of ``deleted_objects`` so the change
    history does not say this save deleted it."""

    def save_existing_objects(self, commit=True):
        self.not_deleted = []
        return super().save_existing_objects(commit)

    def delete_existing(self, obj, commit=True):
        if not commit:
            return
        outcome, product = _delete_through_service(obj)
        if outcome != DELETED:
            self.deleted_objects.remove(obj)
            self.not_deleted.append((outcome, obj, product))


class VariantInline(admin.TabularInline):
    model = Variant
    form = VariantForm
    formset = VariantFormSet
    extra = 0
    fields = ["attributes", "price", "cost_price", "stock_quantity", "low_stock_threshold"]
    readonly_fields = ["stock_quantity"]


class ProductImageFormSet(forms.BaseInlineFormSet):
    def clean(self):
        # The API's rule (services._normalise_images): a product has at most one primary image;
        # with two, the shop and the orders' copy would each pick their own.
        super().clean()
        primary = [
            form
            for form in self.forms
            if getattr(form, "cleaned_data", None)
            and form.cleaned_data.get("is_primary")
            and not form.cleaned_data.get("DELETE")
        ]
        if len(primary) > 1:
            raise ValidationError("Only one image can be primary.")


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    formset = ProductImageFormSet
    extra = 0
    fields = ["image_url", "alt_text", "is_primary", "order"]


class ProductCategoryFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        for form in self.forms:
            category = form.cleaned_data.get("category") if hasattr(form, "cleaned_data") else None
            if category and not form.cleaned_data.get("DELETE") and category.children.exists():
                raise ValidationError(f"Products can only be put in leaf categories: '{category}' has sub-categories.")


class ProductCategoryInline(admin.TabularInline):
    model = ProductCategory
    formset = ProductCategoryFormSet
    extra = 0
    autocomplete_fields = ["category"]


@admin.register(Product)
class ProductAdmin(SavesOnlyWhatStillExists, admin.ModelAdmin):
    list_display = ["sku", "name", "is_active", "variant_count", "created_at"]
    list_filter = ["is_active", ("categories", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["sku", "name"]
    ordering = ["-created_at"]
    inlines = [ProductCategoryInline, VariantInline, ProductImageInline]
    readonly_fields = ["created_at", "updated_at"]

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(n_variants=Count("variants"))

    @admin.display(description="variants", ordering="n_variants")
    def variant_count(self, obj):
        return obj.n_variants

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        for outcome, variant, product in getattr(formset, "not_deleted", ()):
            self.message_user(request, *_not_deleted_message(outcome, variant, product))

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        _publish_after_admin_change([form.instance.pk], events.PRODUCT_UPDATED if change else events.PRODUCT_CREATED)

    def delete_model(self, request, obj):
        self.delete_queryset(request, Product.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        # Through the service, in id order (the lock order of every write path).
        with transaction.atomic(using=alias_for("catalog")):
            for pk in sorted(queryset.values_list("pk", flat=True)):
                try:
                    services.delete_product(pk)
                except NotFound:
                    pass  # deleted meanwhile


class StockAdjustForm(forms.Form):
    change_quantity = forms.IntegerField(help_text="Positive to add, negative to remove; not 0.")
    type = forms.ChoiceField(choices=StockMovementType.choices, initial=StockMovementType.ADMIN_UPDATE)
    reason = forms.CharField(max_length=500, required=False)

    def clean_change_quantity(self):
        value = self.cleaned_data["change_quantity"]
        if value == 0:
            raise ValidationError("Must not be zero.")
        return value


@admin.register(Variant)
class VariantAdmin(SavesOnlyWhatStillExists, admin.ModelAdmin):
    form = VariantForm
    list_display = ["__str__", "product", "price", "stock_quantity", "low_stock_threshold", "updated_at"]
    list_select_related = ["product"]
    search_fields = ["product__sku", "product__name"]
    readonly_fields = ["stock_quantity", "created_at", "updated_at"]
    autocomplete_fields = ["product"]
    actions = ["delete_selected", "adjust_stock"]

    @admin.action(permissions=["delete"], description="Delete selected variants")
    def delete_selected(self, request, queryset):
        # Django's own action logs and counts every selected variant as deleted before
        # delete_queryset runs, so a variant kept for its ledger rows was reported deleted. The
        # confirmation page and the refusals stay Django's; the deletion reports what it did.
        if not request.POST.get("post"):
            return admin_actions.delete_selected(self, request, queryset)
        _, _, perms_needed, protected = self.get_deleted_objects(queryset, request)
        if perms_needed or protected:
            return admin_actions.delete_selected(self, request, queryset)
        outcomes = self._delete_variants(queryset)
        deleted = [variant for variant, _ in outcomes[DELETED]]
        if deleted:
            # After the deletion, unlike Django: the instances were read before it and keep their pk.
            self.log_deletions(request, deleted)
            n = len(deleted)
            self.message_user(request, f"Successfully deleted {n} {model_ngettext(self.opts, n)}.", messages.SUCCESS)
        self._report_not_deleted(request, outcomes)
        return None

    @admin.action(description="Adjust stock of the selected variants")
    def adjust_stock(self, request, queryset):
        form = StockAdjustForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            done, refused = 0, []
            for variant in queryset.order_by("id"):
                try:
                    services.adjust_stock(
                        variant.id,
                        form.cleaned_data["change_quantity"],
                        form.cleaned_data["type"],
                        reason=form.cleaned_data["reason"],
                    )
                    done += 1
                except ApiError as exc:
                    refused.append(f"{variant}: {exc.detail}")
            if done:
                self.message_user(request, f"Stock adjusted for {done} variant(s).", messages.SUCCESS)
            for line in refused:
                self.message_user(request, line, messages.ERROR)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Adjust stock",
            "form": form,
            "variants": queryset,
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/catalog/adjust_stock.html", context)

    def save_model(self, request, obj, form, change):
        # A variant moved to another product leaves the first one too: both documents change.
        moved_from = form.initial.get("product") if change and "product" in form.changed_data else None
        product_ids = {obj.product_id, *([moved_from] if moved_from else [])}
        # Lock order: the products, then the variant (as every write path).
        with transaction.atomic(using=alias_for("catalog")):
            locked = events.lock_products(product_ids)
            super().save_model(request, obj, form, change)
            events.product_changed(product_ids, locked=locked)

    def delete_model(self, request, obj):
        # Not reached from the delete page (delete_view deletes itself); should Django call it,
        # still through the service, which refuses a variant with ledger rows.
        outcome, product = _delete_through_service(obj)
        if outcome != DELETED:
            self.message_user(request, *_not_deleted_message(outcome, obj, product))

    # A variant with ledger rows is kept (as in the API: 409); a whole product may still be deleted
    # with its variants, so this is not a has_delete_permission rule (the cascade check asks it).
    def delete_view(self, request, object_id, extra_context=None):
        """Django's confirmation page and refusals; the confirmed deletion goes through the
        service, and only a real deletion is logged and reported, as in the bulk action.

        Django logs the deletion and says "deleted successfully" before ``delete_model`` runs:
        a variant the service kept (ledger rows committed after this page's own check, which
        took no lock) was logged and reported as deleted, next to the refusal."""
        if not (request.method == "POST" and request.POST):  # the confirmation page
            obj = self.get_object(request, unquote(object_id))
            if obj is not None and StockMovement.objects.filter(variant=obj).exists():
                # Django's page would list the ledger rows as going with the variant, which the
                # service refuses. Only a hint: the confirmation is checked again, under the locks.
                label = _variant_label(obj)
                self.message_user(
                    request, f"Variant “{label}” cannot be deleted: it has stock movements.", messages.ERROR
                )
                return redirect(self._admin_url("changelist"))
            return super().delete_view(request, object_id, extra_context)
        to_field = request.POST.get(TO_FIELD_VAR, request.GET.get(TO_FIELD_VAR))
        if to_field and not self.to_field_allowed(request, to_field):
            raise DisallowedModelAdminToField(f"The field {to_field} cannot be referenced.")
        obj = self.get_object(request, unquote(object_id), to_field)
        if obj is None or not self.has_delete_permission(request, obj):
            return super().delete_view(request, object_id, extra_context)  # Django's redirect or 403
        _, _, perms_needed, protected = self.get_deleted_objects([obj], request)
        if perms_needed or protected:
            return super().delete_view(request, object_id, extra_context)  # Django's refusal
        label = _variant_label(obj)  # before the deletion: the product may go too (a product delete)
        outcome, product = _delete_through_service(obj)
        if outcome == DELETED:
            self.log_deletions(request, [obj])  # the instance was read before, so it keeps its pk
            return self.response_delete(request, label, obj.serializable_value(to_field or self.opts.pk.attname))
        self.message_user(request, *_not_deleted_message(outcome, obj, product))
        return redirect(self._admin_url("changelist") if outcome == GONE else self._admin_url("change", obj.pk))

    def _admin_url(self, view, *args):
        return reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_{view}", args=args, current_app=self.admin_site.name
        )

    def delete_queryset(self, request, queryset):
        self._report_not_deleted(request, self._delete_variants(queryset))

    def _delete_variants(self, queryset):
        """``{outcome: [(variant, product), ...]}`` (``_delete_through_service``'s).

        Each variant through the service, which checks the ledger under the product's and the
        variant's locks: a check made before them (as here once) misses a stock change in flight.
        One transaction, in product then variant id order: the lock order of every write path."""
        outcomes = {DELETED: [], KEPT: [], MOVED: [], GONE: []}
        with transaction.atomic(using=alias_for("catalog")):
            for variant in queryset.select_related("product").order_by("product_id", "id"):
                outcome, product = _delete_through_service(variant)
                outcomes[outcome].append((variant, product))
        return outcomes

    def _report_not_deleted(self, request, outcomes):
        if outcomes[KEPT]:
            n = len(outcomes[KEPT])
            self.message_user(request, f"{n} variant(s) with stock movements were kept.", messages.WARNING)
        # One by one: rare (a move in flight), and the page should say where each one went.
        for variant, product in outcomes[MOVED]:
            self.message_user(request, *_not_deleted_message(MOVED, variant, product))
        if outcomes[GONE]:
            n = len(outcomes[GONE])
            self.message_user(request, f"{n} variant(s) had already been deleted.", messages.INFO)


class ParentFilter(admin.SimpleListFilter):
    title = "parent"
    parameter_name = "parent"

    def lookups(self, request, model_admin):
        parents = Category.objects.filter(children__isnull=False).distinct().order_by("name")
        return [("root", "(top level)"), *[(str(c.pk), c.name) for c in parents]]

    def queryset(self, request, queryset):
        if self.value() == "root":
            return queryset.filter(parent__isnull=True)
        if self.value():
            return queryset.filter(parent_id=self.value())
        return queryset


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ["name", "slug", "parent", "image_url"]

    def clean(self):
        cleaned = super().clean()
        parent, pk = cleaned.get("parent"), self.instance.pk
        if parent is not None and (pk is None or parent.pk != self.instance.parent_id):
            height = services._height(pk) if pk else 1
            try:
                services._parent_for(parent.pk, subtree_height=height, moving_id=pk)
            except ApiError as exc:
                raise ValidationError({"parent": str(exc.detail)})
        return cleaned


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    form = CategoryForm
    list_display = ["tree_name", "slug", "parent"]
    list_select_related = ["parent__parent"]
    list_filter = [ParentFilter]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    ordering = ["parent__parent__name", "parent__name", "name"]

    @admin.display(description="category", ordering="name")
    def tree_name(self, obj):
        path, node = [], obj
        while node is not None:
            path.append(node.name)
            node = node.parent
        return " › ".join(reversed(path))

    def save_model(self, request, obj, form, change):
        if not change:  # a new category has no products: its own event is all there is to say
            super().save_model(request, obj, form, change)
            events.category_changed(obj, events.CATEGORY_CREATED)
            return
        # Through the service: a renamed or moved category also republishes the documents of
        # the products below it (their category names and ancestors' slugs).
        values = {"name": obj.name, "slug": obj.slug, "image_url": obj.image_url, "parent": obj.parent_id}
        changes = {("parent_id" if field == "parent" else field): values[field] for field in form.changed_data}
        services.update_category(obj.pk, changes)

    def delete_model(self, request, obj):
        with transaction.atomic(using=alias_for("catalog")):
            pk = obj.pk
            super().delete_model(request, obj)
            events.category_deleted(pk)

    def delete_queryset(self, request, queryset):
        with transaction.atomic(using=alias_for("catalog")):
            for category in queryset:
                pk = category.pk
                category.delete()
                events.category_deleted(pk)


@admin.register(StockMovement)
class StockMovementAdmin(admin.ModelAdmin):
    list_display = ["timestamp", "variant", "type", "change_quantity", "reason", "related_order_id"]
    list_filter = ["type"]
    search_fields = ["variant__product__sku", "related_order_id", "reason"]
    list_select_related = ["variant"]
    date_hierarchy = "timestamp"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    # Ledger rows are never deleted one by one; deleting a product still takes its ledger along
    # (Django's cascade check asks has_delete_permission for each related row, hence no False here).
    def delete_view(self, request, object_id, extra_context=None):
        raise PermissionDenied

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions
