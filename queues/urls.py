from django.urls import path

from queues.views import followups, queues

urlpatterns = [
    path("tickets/<int:pk>/queues/", queues.ticket_who_was_told_page, name="ticket-queues"),
    path("queues/", queues.queue_index, name="queues"),
    path("queues/<slug:slug>/", queues.queue, name="queue"),
    path("queues/<slug:slug>/acknowledge/", queues.items_acknowledge, name="queue-acknowledge"),
    path("queues/<slug:slug>/email/", queues.queue_email_preference, name="queue-email-preference"),
    path("queue-items/<int:pk>/", queues.item_show, name="queue-item"),
    path("queue-items/<int:pk>/acknowledge/", queues.item_acknowledge, name="item-acknowledge"),
    path("queue-items/<int:pk>/respond/", queues.item_respond, name="item-respond"),
    path("queue-items/<int:pk>/complete/", queues.item_complete, name="item-complete"),
    path("queue-items/<int:pk>/return-step/", queues.item_rma_step, name="item-rma-step"),
    path("followups/", followups.followups, name="followups"),
    path("followups/<int:pk>/outcome/", followups.followup_outcome, name="followup-outcome-page"),
]
