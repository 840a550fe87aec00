"""Saved views of the ticket list: its filters, search and sort kept under a name, a rep's own
or shared with everyone by an admin."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import QueryDict

from accounts.roles import is_admin
from tickets.list_filters import LIST_FILTERS
from tickets.models import SavedView

# What a saved view keeps of the list's query string: the search, its filters and the sort;
# never the page, nor anything the list does not read.
SAVED_VIEW_PARAMETERS = ("q", *LIST_FILTERS, "sort")


def saved_view_query(query: QueryDict) -> str:
    """The part of a list's query string a view keeps, in one order, without empty values: two
    lists that show the same tickets give the same string."""
    kept = QueryDict(mutable=True)
    for parameter in SAVED_VIEW_PARAMETERS:
        value = query.get(parameter, "").strip()
        if value:
            kept[parameter] = value
    return kept.urlencode()


def saved_view_save(*, owner, name: str, query: QueryDict, shared: bool = False) -> SavedView:
    """Save the list's current filters under ``name`` for ``owner`` (replacing the owner's view
    of that name). Only an admin may share a view with everyone."""
    name = " ".join(name.split())
    errors = {}
    if "\x00" in name or "\x00" in query.urlencode():
        errors["name"] = "The name or the filters hold a character that cannot be stored."
    elif not name:
        errors["name"] = "Give the view a name."
    elif len(name) > SavedView.NAME_MAX_LENGTH:
        errors["name"] = "Sixty characters at most."
    if shared and not is_admin(owner):
        errors["shared"] = "Only an admin can share a view with everyone."
    encoded = saved_view_query(query)
    if len(encoded) > SavedView.QUERY_MAX_LENGTH:
        errors["query"] = "These filters are too long to save."
    if errors:
        raise ValidationError(errors)
    view, _ = SavedView.objects.update_or_create(
        owner=owner, name=name, defaults={"query": encoded, "shared": shared}
    )
    return view


def saved_view_delete(*, view: SavedView, actor) -> None:
    """Delete a saved view: its owner may, and an admin may delete a shared one."""
    if view.owner_id != actor.pk and not (is_admin(actor) and view.shared):
        raise PermissionDenied("Only its owner (or an admin, for a shared view) can delete it.")
    view.delete()
