from django.urls import path

from tickets.views import call_log, lookups, ticket_list, ticket_pages

urlpatterns = [
    path("tickets/", ticket_list.ticket_list, name="tickets-page"),
    path("tickets/mine/", ticket_list.ticket_list, {"view": "mine"}, name="tickets-mine"),
    path(
        "tickets/unassigned/",
        ticket_list.ticket_list,
        {"view": "unassigned"},
        name="tickets-unassigned",
    ),
    path("tickets/bulk/", ticket_list.tickets_bulk_change, name="tickets-bulk"),
    path("tickets/views/", ticket_list.saved_view_add, name="saved-view-add"),
    path("tickets/columns/", ticket_list.ticket_list_columns, name="ticket-list-columns"),
    path(
        "tickets/views/<int:pk>/delete/",
        ticket_list.saved_view_remove,
        name="saved-view-delete",
    ),
    path("tickets/new/", call_log.call_log, name="call-log"),
    path("tickets/<int:pk>/", ticket_pages.ticket_detail, name="ticket-page"),
    path("tickets/<int:pk>/edit/", ticket_pages.ticket_edit, name="ticket-edit"),
    path("tickets/<int:pk>/notes/", ticket_pages.ticket_note_add, name="ticket-note-add"),
    path("tickets/<int:pk>/calls/", ticket_pages.ticket_call_add, name="ticket-call-add"),
    path("tickets/<int:pk>/links/", ticket_pages.ticket_link_add, name="ticket-link-add"),
    path(
        "tickets/<int:pk>/timeline/",
        ticket_pages.ticket_timeline_since,
        name="ticket-timeline-since",
    ),
    path("tickets/<int:pk>/live/", ticket_pages.ticket_live, name="ticket-live"),
    path("customers/lookup/", lookups.customer_lookup, name="customer-lookup"),
    path(
        "customers/<int:pk>/standing/",
        lookups.customer_standing_panel,
        name="customer-standing",
    ),
]
