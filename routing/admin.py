from copy import copy

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from accounts.roles import can_edit_rules
from helpdesk.read_only_admin import ReadOnlyAdmin
from routing import services
from routing.engine.validation import validate_rule_definition
from routing.models import RoutingRun, Rule, RuleAuditEntry, RuleMatch, RuleVersion
from routing.models.rules import EDITABLE_FIELDS


class _HistoryInline(admin.TabularInline):
    """A rule's record (versions, audit entries): shown, never added to or changed by hand."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class RuleVersionInline(_HistoryInline):
    model = RuleVersion
    fields = ["number", "summary", "author", "created_at"]


class RuleAuditEntryInline(_HistoryInline):
    model = RuleAuditEntry
    fields = ["action", "detail", "author", "created_at"]


class RuleAdminForm(forms.ModelForm):
    """Checks the definition as the services will, each error prefixed by its exact place."""

    class Meta:
        model = Rule
        fields = [*EDITABLE_FIELDS]

    def clean(self):
        data = super().clean()
        # Until _post_clean, the instance still holds the values as they were read.
        previous = services.rule_state(self.instance) if self.instance.pk else None
        draft = copy(self.instance)
        for name in EDITABLE_FIELDS:
            if name in data:
                setattr(draft, name, data[name])
        if services.definition_needs_check(draft, previous):
            try:
                validate_rule_definition(
                    trigger=draft.trigger, conditions=draft.conditions, actions=draft.actions
                )
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    self.add_error(field if field in self.fields else None, messages)
        return data


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    """Rules are data: validated on save with each error at its place, and saved through the
    services so every edit is a new version."""

    form = RuleAdminForm

    list_display = ["name", "order", "trigger", "is_active", "stop_processing", "version"]
    list_editable = ["order", "is_active"]
    list_filter = ["trigger", "is_active"]
    search_fields = ["name", "description"]
    readonly_fields = ["version", "archived_at"]
    inlines = [RuleVersionInline, RuleAuditEntryInline]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(archived_at__isnull=True)

    # One permission, as on the rule pages and in the API: whoever may edit rules adds and
    # archives ("deletes") them too, and nobody else does, whatever else they were granted.
    def has_add_permission(self, request) -> bool:
        return can_edit_rules(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return can_edit_rules(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return can_edit_rules(request.user)

    def get_changelist_form(self, request, **kwargs):
        kwargs.setdefault("form", RuleAdminForm)
        return super().get_changelist_form(request, **kwargs)

    def save_model(self, request, obj, form, change) -> None:
        fields = {name: getattr(obj, name) for name in EDITABLE_FIELDS}
        if change:
            services.rule_update(rule=obj, author=request.user, **fields)
        else:
            obj.pk = services.rule_create(author=request.user, **fields).pk

    def get_deleted_objects(self, objs, request):
        # "Delete" archives: nothing else goes, so the page lists only the rules, and neither
        # their audit trail nor the matches that protect them stand in the way.
        rules = list(objs)
        listed = [f"{rule} (archived: it stops routing, its history stays)" for rule in rules]
        return listed, {Rule._meta.verbose_name_plural: len(rules)}, set(), []

    def delete_model(self, request, obj) -> None:
        services.rule_archive(rule=obj, author=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for rule in queryset:
            services.rule_archive(rule=rule, author=request.user)


@admin.register(RuleAuditEntry)
class RuleAuditEntryAdmin(admin.ModelAdmin):
    """What was done to rules besides editing them: moves, switches, archiving, imports."""

    list_display = ["created_at", "action", "rule", "detail", "author"]
    list_filter = ["action"]
    list_select_related = ["rule", "author"]
    search_fields = ["rule__name", "detail"]
    readonly_fields = ["rule", "action", "detail", "author", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RuleMatch)
class RuleMatchAdmin(ReadOnlyAdmin):
    """Why a rule fired on a ticket: part of the routing audit, never edited."""

    list_display = ["id", "rule", "ticket", "event", "created_at"]
    list_select_related = ["rule", "ticket", "event"]


@admin.register(RoutingRun)
class RoutingRunAdmin(ReadOnlyAdmin):
    """How each event was routed: part of the routing audit, never edited."""

    list_display = ["id", "event", "rules_evaluated", "rules_fired", "skipped_reason"]
    list_select_related = ["event"]
