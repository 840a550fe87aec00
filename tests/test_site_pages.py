"""What every page shares: error pages of the application's own, the icon, message levels."""

import pytest
from django.contrib import messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.views import defaults

pytestmark = pytest.mark.django_db


def test_an_unknown_address_is_the_applications_404_page(client, rep):
    client.force_login(rep)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "<title>Page not found · Switchboard</title>" in page
    assert "Back to the start page" in page
    assert 'href="/tickets/"' in page  # the navigation is there: the user is not stranded


def test_the_500_page_needs_nothing_but_itself():
    # Rendered when something failed, perhaps the database: no user, no context processors.
    response = defaults.server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page
    assert "Nothing you had already saved is lost" in page


def test_the_403_page_is_a_page_of_the_application(rf, rep):
    request = rf.get("/")
    request.user = rep
    response = defaults.permission_denied(request, exception=None)
    assert response.status_code == 403
    assert "<title>Not allowed · Switchboard</title>" in response.content.decode()


def test_the_icon_is_found_from_every_page(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    assert b"<svg" in b"".join(icon.streaming_content)


def test_messages_are_shown_by_level_and_errors_are_announced(rf):
    request = rf.get("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    for level, text in [
        (messages.SUCCESS, "Saved T-1."),
        (messages.INFO, "Nothing to change."),
        (messages.WARNING, "T-1 was changed meanwhile."),
        (messages.ERROR, "Write the response."),
    ]:
        messages.add_message(request, level, text)
    html = render_to_string("components/messages.html", request=request)
    assert '<p class="message message-success" role="status">' in html
    assert '<p class="message message-info" role="status">' in html
    assert '<p class="message message-warning" role="status">' in html
    assert (
        '<p class="message message-error" role="alert"><span class="message-level">Error:</span> '
        "Write the response.</p>"
    ) in html


def test_the_start_page_shows_the_users_own_queues_only(client, rep):
    from accounts.models import Department, Membership
    from tests.factories import UserFactory

    engineer = UserFactory(username="erin")
    Membership.objects.create(user=engineer, department=Department.objects.get(slug="engineering"))
    client.force_login(engineer)
    page = client.get("/").content.decode()
    assert 'href="/queues/engineering/">Engineering</a>' in page
    assert "Finance" not in page
    client.force_login(UserFactory(username="nobody"))
    assert "Your queues" not in client.get("/").content.decode()
