from django.urls import include, path

from conversations.views import inbox, messages, replies
from conversations.webhooks import inbound_urlpatterns

urlpatterns = [
    path("tickets/<int:pk>/reply/", replies.reply_add, name="ticket-reply"),
    path(
        "tickets/<int:pk>/emails/<int:delivery_id>/retry/",
        replies.email_retry,
        name="ticket-email-retry",
    ),
    path(
        "tickets/<int:pk>/reply-templates/",
        replies.reply_templates_for,
        name="ticket-reply-templates",
    ),
    path("messages/<int:pk>/html/", messages.message_html, name="message-html"),
    path("attachments/<int:pk>/", messages.attachment_download, name="attachment-download"),
    path("mail/", inbox.inbox, name="mail-inbox"),
    path("mail/<int:pk>/", inbox.inbound_detail, name="inbound-detail"),
    path("mail/<int:pk>/original.eml", messages.inbound_raw, name="inbound-raw"),
    path("mail/<int:pk>/assign/", inbox.inbound_assign, name="inbound-assign"),
    path("mail/<int:pk>/attach/", inbox.inbound_attach, name="inbound-attach"),
    path("mail/<int:pk>/retry/", inbox.inbound_retry, name="inbound-retry"),
    path("mail/<int:pk>/dismiss/", inbox.inbound_dismiss, name="inbound-dismiss"),
]
# The providers' inbound webhooks: anymail's views (signature and basic auth verified); they
# answer 404 until ANYMAIL_WEBHOOK_SECRET is set.
urlpatterns.append(path("email/webhooks/", include((inbound_urlpatterns(), "anymail"))))
