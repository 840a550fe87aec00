"""Saved views of the ticket list: a rep's own, shared ones by admins, filters chips and sortable
headers as the page offers them, and refused input answered 400 with its reason."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import QueryDict

from tests.factories import UserFactory
from tickets.models import SavedView
from tickets.saved_views import saved_view_delete, saved_view_query, saved_view_save
from tickets.selectors import saved_views_for
from tickets.views.ticket_list import active_filters, header_links

pytestmark = pytest.mark.django_db


def test_a_view_keeps_only_the_filters_and_the_sort_in_one_order():
    query = QueryDict("page=3&sort=oldest&kind=bug&status=&evil=1&q=+crash+&assignee=7")
    assert saved_view_query(query) == "q=crash&kind=bug&assignee=7&sort=oldest"
    assert saved_view_query(QueryDict("status=&kind=")) == ""


def test_saving_again_under_the_same_name_replaces_the_view(rep):
    first = saved_view_save(owner=rep, name="  My   bugs ", query=QueryDict("kind=bug"))
    assert first.name == "My bugs"
    again = saved_view_save(owner=rep, name="My bugs", query=QueryDict("kind=bug&priority=high"))
    assert again.pk == first.pk
    assert SavedView.objects.get().query == "kind=bug&priority=high"


def test_a_name_is_needed_and_only_admins_share(rep, admin_user):
    with pytest.raises(ValidationError) as refused:
        saved_view_save(owner=rep, name="   ", query=QueryDict("kind=bug"), shared=True)
    assert refused.value.message_dict == {
        "name": ["Give the view a name."],
        "shared": ["Only an admin can share a view with everyone."],
    }
    shared = saved_view_save(owner=admin_user, name="Urgent", query=QueryDict("priority=urgent"))
    assert shared.shared is False
    shared = saved_view_save(
        owner=admin_user, name="Urgent", query=QueryDict("priority=urgent"), shared=True
    )
    assert shared.shared is True


def test_each_sees_their_own_views_and_the_shared_ones(rep, admin_user):
    other = UserFactory(username="ravi")
    mine = saved_view_save(owner=rep, name="Mine", query=QueryDict("kind=bug"))
    saved_view_save(owner=other, name="Ravi's", query=QueryDict("kind=rma"))
    shared = saved_view_save(owner=admin_user, name="All urgent", query=QueryDict(), shared=True)
    assert list(saved_views_for(user=rep)) == [shared, mine]


def test_only_the_owner_deletes_a_view_and_an_admin_a_shared_one(rep, admin_user):
    other = UserFactory(username="ravi")
    mine = saved_view_save(owner=rep, name="Mine", query=QueryDict("kind=bug"))
    with pytest.raises(PermissionDenied):
        saved_view_delete(view=mine, actor=other)
    with pytest.raises(PermissionDenied):
        saved_view_delete(view=mine, actor=admin_user)  # not shared: the rep's own business
    shared = saved_view_save(owner=admin_user, name="Team", query=QueryDict(), shared=True)
    # Admin-site access is not the admin role (accounts.roles): staff may not, a superuser may.
    with pytest.raises(PermissionDenied):
        saved_view_delete(view=shared, actor=UserFactory(username="ops", is_staff=True))
    with pytest.raises(ValidationError):
        saved_view_save(
            owner=UserFactory(username="desk", is_staff=True),
            name="x",
            query=QueryDict(),
            shared=True,
        )
    saved_view_delete(view=shared, actor=UserFactory(username="ada", is_superuser=True))
    saved_view_delete(view=mine, actor=rep)
    assert not SavedView.objects.exists()


def test_the_page_saves_lists_and_deletes_views(client, rep):
    client.force_login(rep)
    response = client.post(
        "/tickets/views/", {"name": "Urgent bugs", "query": "kind=bug&priority=urgent&page=2"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/tickets/?kind=bug&priority=urgent"
    saved = SavedView.objects.get(owner=rep)
    page = client.get("/tickets/?kind=bug&priority=urgent&status=").content.decode()
    # Listed, and marked as the view on screen (the same tickets, whatever the empty fields).
    assert (
        '<a href="/tickets/?kind=bug&amp;priority=urgent" aria-current="page">Urgent bugs</a>'
        in page
    )
    assert f'action="/tickets/views/{saved.pk}/delete/"' in page
    assert client.post(f"/tickets/views/{saved.pk}/delete/").status_code == 302
    assert not SavedView.objects.exists()


def test_refused_input_is_a_400_with_the_reason_and_the_name_kept(client, rep):
    client.force_login(rep)
    response = client.post(
        "/tickets/views/", {"name": "Everyone's", "query": "kind=bug", "shared": "on"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Only an admin can share a view with everyone." in page
    assert 'value="Everyone&#x27;s"' in page
    assert 'aria-invalid="true" aria-describedby="view-errors"' in page
    assert not SavedView.objects.exists()
    nul = client.post("/tickets/views/", {"name": "a\x00b", "query": "kind=bug"})
    assert nul.status_code == 400
    assert "cannot be stored" in nul.content.decode()
    other = UserFactory(username="ravi")
    theirs = saved_view_save(owner=other, name="Theirs", query=QueryDict())
    assert client.post(f"/tickets/views/{theirs.pk}/delete/").status_code == 403
    assert client.post("/tickets/views/999999/delete/").status_code == 404
    assert client.get("/tickets/views/").status_code == 405


def test_chips_name_each_filter_as_people_read_it_and_remove_only_it(rep):
    query = QueryDict(f"kind=bug&assignee={rep.pk}&q=crash&page=2&status=")
    chips = active_filters(query, {"kind": [("bug", "Bug report")]}, [rep])
    assert [(chip["label"], chip["value"]) for chip in chips] == [
        ("Kind", "Bug report"),
        ("Assignee", "rep"),
    ]
    assert chips[0]["without"] == f"assignee={rep.pk}&q=crash&status="


def test_headers_toggle_their_sort_and_say_which_way_it_goes():
    default = header_links(QueryDict(""), "")
    assert default["created"] == {"query": "sort=oldest", "sort": "descending"}
    assert default["priority"] == {"query": "sort=priority", "sort": "none"}
    oldest = header_links(QueryDict("sort=oldest&kind=bug"), "oldest")
    assert oldest["created"] == {"query": "sort=newest&kind=bug", "sort": "ascending"}
    searched = header_links(QueryDict("q=crash"), "")  # best match first: no column sorts
    assert searched["created"]["sort"] == "none"
    by_priority = header_links(QueryDict("sort=priority"), "priority")
    assert by_priority["priority"] == {"query": "sort=newest", "sort": "descending"}
