"""What a rule can do. Each action validates its parameters and performs itself once.

Performers run inside the routing transaction of one event; what they create is unique per
(event, rule, ...), so a repeated run creates nothing new. Rows they create are handed to the
context (``insert_later``) and inserted after every rule ran, one statement per table
(``ActionContext.flush``); ticket changes are collected in the context and applied once after
all rules ran (``apply_ticket_changes``). This module holds the
registry and the actions that change the ticket; queue items and follow-ups (``queues``),
emails and webhook calls (``deliveries``) are actions their own apps register.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Model

from accounts.models import Department, User
from routing.engine.fields import FIELDS
from routing.engine.rows import insert_or_get
from routing.engine.templates import template_context, template_error
from tickets.models import Ticket, TicketEvent
from tickets.services import clean_tag_names, natural_value, ticket_update

ErrorList = list[tuple[str, str]]


# What actions keep between events is read again after this long at the latest, even with
# both revisions unchanged: a write that changed the directory without telling it (a bulk
# update in a shell, a data migration) is seen then.
LASTING_SECONDS = 300
_lasting: tuple[tuple, dict] = ((), {})


def lasting_memo(key: tuple) -> dict:
    """What this process keeps for actions between events while ``key`` (the revisions of the
    rule set and of the directory, as the event's claim read them) stays the same, for at most
    LASTING_SECONDS: a new key starts afresh. Shared by the threads of a worker: an entry is
    replaced whole or added, never changed in place."""
    global _lasting
    key = (*key, int(time.monotonic() // LASTING_SECONDS))
    kept_key, kept = _lasting
    if kept_key != key:
        kept = {}
        _lasting = (key, kept)
    return kept


@dataclass
class RoutingBatch:
    """What the events routed together (one, or a backlog's batch) share: what actions loaded
    once for all of them (``memo``), and the rows they created, inserted together when every
    event's rules have run (``flush``): one statement per table, however many events.
    ``lasting``: what outlasts the batch (``lasting_memo``)."""

    memo: dict = field(default_factory=dict)
    lasting: dict = field(default_factory=dict)
    pending: list[tuple[Model, tuple[str, ...], Callable]] = field(default_factory=list)

    def flush(self) -> None:
        """Insert what the actions handed over, table by table in the order first handed."""
        while self.pending:
            pending, self.pending = self.pending, []
            groups: dict[tuple, list] = {}
            for item in pending:
                groups.setdefault((type(item[0]), item[1]), []).append(item)
            for (_, unique), items in groups.items():
                rows = insert_or_get([obj for obj, _, _ in items], unique=unique)
                for (row, created), (_, _, then) in zip(rows, items, strict=True):
                    then(row, created)


@dataclass
class ActionContext:
    """What actions share while one event is routed.

    Ticket changes are collected in ``changes`` and applied once, after every rule has run, as
    one change with one event of its own: rules that undo each other within a run cancel out
    instead of setting off a chain.
    """

    event: TicketEvent
    ticket: Ticket
    facts: dict
    rule_id: int | None = None
    rule_name: str = ""
    changes: dict = field(default_factory=dict)
    added_tags: set[str] = field(default_factory=set)
    changed_by: list[str] = field(default_factory=list)
    # The rules this event is routed by, so that an action can load at once what all of them
    # will need (the departments they notify, say).
    rules: tuple = ()
    batch: RoutingBatch = field(default_factory=RoutingBatch)
    _template_context: dict | None = None
    _locked: Ticket | None = None
    _current_tags: list[str] | None = None

    def memo(self, key: str, load: Callable[[], Any]) -> Any:
        """What ``load()`` gives, loaded once per batch of events: what every rule of the
        run, and every event routed with this one, shares (so it must not depend on the
        event)."""
        memo = self.batch.memo
        if key not in memo:
            memo[key] = load()
        return memo[key]

    def remember(self, key: str, load: Callable[[], Any]) -> Any:
        """What ``load()`` gives, loaded once for as long as neither the rule set nor the
        directory (departments, memberships, staff accounts) changes: it must depend on
        nothing else (not on the event, nor on tickets or customers)."""
        lasting = self.batch.lasting
        if key not in lasting:
            lasting[key] = load()
        return lasting[key]

    def insert_later(
        self, obj: Model, *, unique: tuple[str, ...], then: Callable[[Model, bool], None]
    ) -> None:
        """Insert ``obj`` when the rules have run, with the other rows of its table in one
        statement; ``then(row, created)`` is called with it, or with the row already there with
        the same ``unique`` fields, and may hand over more rows (a new queue item's emails)."""
        self.batch.pending.append((obj, unique, then))

    def template_context(self) -> dict:
        if self._template_context is None:
            self._template_context = template_context(
                ticket=self.ticket,
                rule_name=self.rule_name,
                event_type=self.event.type,
                survey=(self.event.changes or {}).get("survey"),
            )
        return {**self._template_context, "rule": {"name": self.rule_name}}

    def locked_ticket(self) -> Ticket:
        """The ticket as it is now, locked until routing commits.

        Rules decide on the event's snapshot, but a person may have changed the ticket since:
        changes are made against the locked row, so routing never overwrites a later human edit.
        """
        if self._locked is None:
            self._locked = (
                Ticket.objects.select_for_update(of=("self",))
                .select_related("assignee", "department")
                .get(pk=self.ticket.pk)
            )
        return self._locked

    def current_tags(self) -> list[str]:
        if self._current_tags is None:
            self._current_tags = sorted(self.locked_ticket().tags.values_list("name", flat=True))
        return self._current_tags

    def changed_since_event(self, name: str) -> str | None:
        """Why ``name`` must be left alone, if someone changed it after the event; else None."""
        if name in self.changes:
            return None  # changed by an earlier rule of this run
        now = natural_value(getattr(self.locked_ticket(), name))
        if now != self.event.snapshot.get(name):
            return f"Skipped: {name} was changed to {now!r} after this event"
        return None

    def change(self, name: str, value) -> None:
        self.changes[name] = value
        self.changed_by.append(self.rule_name)


@dataclass(frozen=True)
class ActionSpec:
    """One kind of action, as the app that owns what it does registers it.

    ``parameters`` describe its widgets in the rule editor; ``describe`` says what it does in
    words (``names`` turns slugs and usernames into names); ``effect`` says what it would do to a
    ticket with these facts, for the dry run, as ``(text, effective)``, or None when the
    description says it all; ``vocabulary`` adds what the editor may offer for its parameters
    (the webhooks a rule can name, say), read when the editor opens.
    """

    label: str
    validate: Callable[[dict, str], ErrorList]
    perform: Callable[[dict, ActionContext], dict]
    parameters: tuple[dict, ...] = ()
    describe: Callable[[dict, Any], str] | None = None
    effect: Callable[[dict, dict, Any], tuple[str, bool] | None] | None = None
    vocabulary: Callable[[], dict] | None = None
    # Where the editor lists it: what a rule most often does first.
    order: int = 100


# Every action a rule may take, by type. Routing registers the ticket changes below; the apps
# that own the other effects register theirs in their AppConfig.ready(), so the engine imports
# none of them.
ACTIONS: dict[str, ActionSpec] = {}


def action_register(name: str, spec: ActionSpec) -> None:
    if name in ACTIONS and ACTIONS[name] != spec:
        raise ValueError(f"Two actions registered as {name!r}.")
    ACTIONS[name] = spec
    ordered = sorted(ACTIONS.items(), key=lambda item: item[1].order)
    ACTIONS.clear()
    ACTIONS.update(ordered)


def unknown_keys(action: dict, path: str, allowed: set[str]) -> ErrorList:
    return [(f"{path}.{key}", "Unknown key.") for key in sorted(set(action) - allowed - {"type"})]


def template_errors(action: dict, path: str, key: str, *, required: bool = False) -> ErrorList:
    if key not in action:
        return [(f"{path}.{key}", "This field is required.")] if required else []
    message = template_error(action[key])
    if message is None and required and not action[key].strip():
        message = "Must not be empty."
    return [(f"{path}.{key}", message)] if message else []


def department_errors(action: dict, path: str, key: str = "department") -> ErrorList:
    slug = action.get(key)
    if not isinstance(slug, str) or not Department.objects.filter(slug=slug).exists():
        return [(f"{path}.{key}", f"No department with slug {slug!r}.")]
    return []


# --- ticket changes: set_priority, assign, add_tag ----------------------------------------------


def _validate_priority(action: dict, path: str) -> ErrorList:
    errors = unknown_keys(action, path, {"priority"})
    if action.get("priority") not in Ticket.Priority.values:
        allowed = ", ".join(Ticket.Priority.values)
        errors.append((f"{path}.priority", f"Must be one of {allowed}."))
    return errors


def _perform_priority(action: dict, ctx: ActionContext) -> dict:
    priority = action["priority"]
    done = {"type": "set_priority", "priority": priority}
    if ctx.facts["priority"] == priority:
        return {**done, "done": "Priority already set"}
    overridden = ctx.changed_since_event("priority")
    if overridden:
        return {**done, "done": overridden}
    ctx.change("priority", priority)
    # Later rules for this event see the new priority, as the person reading the ticket would.
    ctx.facts["priority"] = priority
    return {**done, "done": f"Priority set to {Ticket.Priority(priority).label}"}


def _validate_assign(action: dict, path: str) -> ErrorList:
    errors = unknown_keys(action, path, {"user", "department"})
    if ("user" in action) == ("department" in action):
        return errors + [(path, 'Give either "user" or "department".')]
    if "department" in action:
        return errors + department_errors(action, path)
    username = action["user"]
    if (
        not isinstance(username, str)
        or not User.objects.filter(username=username, is_active=True).exists()
    ):
        errors.append((f"{path}.user", f"No active user with username {username!r}."))
    return errors


def _perform_assign(action: dict, ctx: ActionContext) -> dict:
    if "user" in action:
        name, value = "assignee", action["user"]
        target = User.objects.filter(username=value, is_active=True).first()
        if target is None:
            return {"type": "assign", "done": f"Skipped: user {value!r} is no longer active"}
    else:
        name, value = "department", action["department"]
        target = Department.objects.filter(slug=value).first()
        if target is None:
            return {"type": "assign", "done": f"Skipped: department {value!r} no longer exists"}
    if ctx.facts.get(name) == value:
        return {"type": "assign", name: value, "done": f"Already assigned to {value}"}
    overridden = ctx.changed_since_event(name)
    if overridden:
        return {"type": "assign", name: value, "done": overridden}
    ctx.change(name, target)
    ctx.facts[name] = value
    return {"type": "assign", name: value, "done": f"Assigned to {value}"}


def _validate_tag(action: dict, path: str) -> ErrorList:
    errors = unknown_keys(action, path, {"tag"})
    tag = action.get("tag")
    if not isinstance(tag, str):
        return errors + [(f"{path}.tag", "Must be a tag name.")]
    try:
        clean_tag_names([tag])
    except ValidationError as exc:
        errors.append((f"{path}.tag", exc.message_dict["tags"][0]))
    return errors


def _perform_tag(action: dict, ctx: ActionContext) -> dict:
    tag = clean_tag_names([action["tag"]])[0]
    if tag in ctx.facts.get("tags", ()) or tag in ctx.current_tags():
        return {"type": "add_tag", "tag": tag, "done": "Tag already there"}
    # A tag is added to the tags the ticket has now, keeping any a person added or removed since.
    ctx.added_tags.add(tag)
    ctx.changed_by.append(ctx.rule_name)
    ctx.facts["tags"] = sorted({*ctx.facts.get("tags", ()), tag})
    return {"type": "add_tag", "tag": tag, "done": f"Tagged {tag}"}


def apply_ticket_changes(ctx: ActionContext) -> None:
    """Apply what the rules changed on the ticket as one change, caused by the routed event."""
    if not ctx.changes and not ctx.added_tags:
        return
    changes = dict(ctx.changes)
    if ctx.added_tags:
        changes["tags"] = sorted({*ctx.current_tags(), *ctx.added_tags})
    names = ", ".join(f"“{name}”" for name in dict.fromkeys(ctx.changed_by))
    ctx.ticket = ticket_update(
        ticket=ctx.ticket,
        actor=None,
        caused_by=ctx.event,
        reason=f"Set by routing rules {names}",
        **changes,
    )


def perform_action(action: dict, ctx: ActionContext) -> dict:
    return ACTIONS[action["type"]].perform(action, ctx)


# --- registration: the actions on the ticket itself ---------------------------------------------


def _priority(value) -> str:
    return FIELDS["priority"].label_of(value)


def _describe_assign(action: dict, names) -> str:
    if action.get("user"):
        return f"Assign to {names.user(action['user'])}"
    return f"Assign to {names.department(action.get('department'))}"


def _effect_assign(action: dict, facts: dict, names) -> tuple[str, bool] | None:
    target = action.get("user") or action.get("department")
    current = facts.get("assignee") if action.get("user") else facts.get("department")
    if current != target:
        return None
    who = names.user(target) if action.get("user") else names.department(target)
    return f"Already assigned to {who}", False


def _effect_priority(action: dict, facts: dict, names) -> tuple[str, bool]:
    before, after = facts.get("priority"), action.get("priority")
    if before == after:
        return f"Priority already {_priority(after)}", False
    return f"Priority {_priority(before)} → {_priority(after)}", True


def _effect_tag(action: dict, facts: dict, names) -> tuple[str, bool] | None:
    if str(action.get("tag", "")).lower() in {str(t).lower() for t in facts.get("tags", [])}:
        return f"Already tagged {action.get('tag')}", False
    return None


action_register(
    "assign",
    ActionSpec(
        "Assign to a user or department",
        _validate_assign,
        _perform_assign,
        parameters=(
            {"name": "user", "type": "user", "required": False},
            {"name": "department", "type": "department", "required": False},
        ),
        describe=_describe_assign,
        effect=_effect_assign,
        order=30,
    ),
)
action_register(
    "set_priority",
    ActionSpec(
        "Set priority",
        _validate_priority,
        _perform_priority,
        parameters=(
            {
                "name": "priority",
                "type": "choice",
                "required": True,
                "choices": list(Ticket.Priority.values),
                "choice_labels": dict(Ticket.Priority.choices),
            },
        ),
        describe=lambda action, names: f"Set priority to {_priority(action.get('priority'))}",
        effect=_effect_priority,
        order=40,
    ),
)
action_register(
    "add_tag",
    ActionSpec(
        "Add a tag",
        _validate_tag,
        _perform_tag,
        parameters=({"name": "tag", "type": "text", "required": True},),
        describe=lambda action, names: f"Add tag {action.get('tag')}",
        effect=_effect_tag,
        order=50,
    ),
)
