"""The ticket list's filters beside the search and the sort, with the labels people read them
by, in the order of the list's filter panel: the chips that show them (tickets.views) and the
saved views that keep them (tickets.saved_views) both follow this."""

LIST_FILTERS = {
    "kind": "Kind",
    "status": "Status",
    "channel": "Channel",
    "priority": "Priority",
    "root_cause": "Root cause",
    "customer_name": "Customer",
    "product": "Product",
    "assignee": "Assignee",
    "created_from": "Created from",
    "created_to": "Created to",
}
