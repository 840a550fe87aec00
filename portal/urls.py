from django.urls import path

from portal.views import requests, status, surveys

urlpatterns = [
    path("support/", requests.request_form, name="portal-request"),
    path("support/challenge/", requests.challenge, name="portal-challenge"),
    path("support/link/", requests.link_request, name="portal-link"),
    path("support/my/<str:token>/", status.requests_list, name="portal-requests"),
    path("support/my/<str:token>/<int:ticket_id>/", status.ticket_page, name="portal-ticket"),
    path(
        "support/my/<str:token>/<int:ticket_id>/reply/",
        status.ticket_reply,
        name="portal-reply",
    ),
    path(
        "support/my/<str:token>/<int:ticket_id>/solved/",
        status.ticket_solved,
        name="portal-solved",
    ),
    path(
        "support/my/<str:token>/<int:ticket_id>/not-solved/",
        status.ticket_not_solved,
        name="portal-not-solved",
    ),
    path(
        "support/my/<str:token>/<int:ticket_id>/files/<int:attachment_id>/",
        status.attachment,
        name="portal-attachment",
    ),
    path("support/survey/<str:token>/", surveys.survey_page, name="portal-survey"),
]
