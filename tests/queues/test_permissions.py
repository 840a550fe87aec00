"""Who may see and work what: every role against every queue and the follow-up, in the pages
and the API. Reading (who was told about a ticket, what became of it) is open to whoever can see
the ticket; working an item stays with its department's members, leads and admins, a follow-up
with its salesperson, the sales lead and admins."""

import pytest
from rest_framework.test import APIClient

from accounts.departments import DEFAULT_DEPARTMENTS
from accounts.models import Department, Membership
from queues.models import FollowUpTask, Notification
from routing.services import rule_create
from tests.conftest import dispatch_pending
from tests.factories import CustomerFactory, UserFactory
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db

DEPARTMENTS = [slug for slug, _ in DEFAULT_DEPARTMENTS]


def _member(username, slug, *, lead=False):
    user = UserFactory(username=username)
    Membership.objects.create(user=user, department=Department.objects.get(slug=slug), is_lead=lead)
    return user


# role: (how to make the user, the queues it works, whether it works the follow-up)
ROLES = {
    "rep": (lambda: _member("rita", "support"), {"support"}, False),
    **{
        f"{slug}_member": (lambda slug=slug: _member(f"{slug}-m", slug), {slug}, False)
        for slug in DEPARTMENTS
        if slug not in ("support", "sales")
    },
    **{
        f"{slug}_lead": (lambda slug=slug: _member(f"{slug}-l", slug, lead=True), {slug}, False)
        for slug in DEPARTMENTS
    },
    "salesperson": (lambda: _member("sally", "sales"), {"sales"}, True),
    "other_salesperson": (lambda: _member("steve", "sales"), {"sales"}, False),
    "admin": (
        lambda: UserFactory(username="ada", is_superuser=True, is_staff=True),
        set(DEPARTMENTS),
        True,
    ),
}
ROLES["sales_lead"] = (ROLES.pop("sales_lead")[0], {"sales"}, True)


@pytest.fixture
def user(request):
    make, _, _ = ROLES[request.param]
    return make()


@pytest.fixture
def routed():
    """Two returns (one worked through the API, one through the pages) sent to every queue,
    each with a follow-up for the customer's salesperson."""
    seller = Membership.objects.filter(user__username="sally").first()
    seller = seller.user if seller else _member("sally", "sales")
    customer = CustomerFactory(salesperson=seller)
    rule_create(
        name="Everything to everyone",
        trigger="ticket.created",
        conditions={},
        actions=[
            *({"type": "notify_department", "department": slug} for slug in DEPARTMENTS),
            {"type": "create_followup", "due_in_working_days": 1},
        ],
    )
    tickets = [
        ticket_create(customer=customer, kind="rma", channel="phone", subject=f"Return {n}")
        for n in ("api", "page")
    ]
    dispatch_pending()
    return tickets


def _clients(user, client):
    api = APIClient()
    api.force_authenticate(user)
    client.force_login(user)
    return api, client


@pytest.mark.parametrize("slug", DEPARTMENTS)
@pytest.mark.parametrize("user", list(ROLES), indirect=True)
def test_every_role_against_every_queue(request, user, slug, routed, client):
    role = request.node.callspec.params["user"]
    works = slug in ROLES[role][1]
    api, page = _clients(user, client)
    by_api, by_page = (Notification.objects.get(ticket=t, department__slug=slug) for t in routed)
    refused = 403

    # Reading: the queue page and the list of one's queues are the workers'; a ticket's items,
    # and each item by its id, whoever sees the ticket.
    assert page.get(f"/queues/{slug}/").status_code == (200 if works else refused)
    mine = {n["department"] for n in api.get("/api/v1/notifications/").json()["results"]}
    assert (slug in mine) is works
    told = api.get("/api/v1/notifications/", {"ticket": by_api.ticket_id}).json()
    assert {n["department"] for n in told["results"]} == set(DEPARTMENTS)
    assert api.get(f"/api/v1/notifications/{by_api.pk}/").json()["status"] == "new"
    who = page.get(f"/tickets/{by_api.ticket_id}/queues/")
    assert who.status_code == 200
    assert f'id="told-{by_api.pk}"' in who.content.decode()
    counted = {q["slug"] for q in page.get("/nav/counts/").json()["queues"]["queues"]}
    assert (slug in counted) is works

    # Working, in the API: bulk acknowledge, respond, complete.
    bulk = api.post("/api/v1/notifications/acknowledge/", {"ids": [by_api.pk]}, format="json")
    assert bulk.json() == {"acknowledged": 1 if works else 0}
    answer = api.post(f"/api/v1/notifications/{by_api.pk}/respond/", {})
    assert answer.status_code == (400 if works else refused)
    answer = api.post(f"/api/v1/notifications/{by_api.pk}/respond/", {"body": "Seen"})
    assert answer.status_code == (200 if works else refused)
    answer = api.post(f"/api/v1/notifications/{by_api.pk}/complete/")
    assert answer.status_code == (200 if works else refused)
    answer = api.post(f"/api/v1/notifications/{by_api.pk}/acknowledge/")
    assert answer.status_code == (200 if works else refused)
    by_api.refresh_from_db()
    assert (by_api.status, by_api.responses) == (("done", 1) if works else ("new", 0))

    # Working, in the pages: bulk take-on, take on, respond, a return step, done.
    bulk = page.post(f"/queues/{slug}/acknowledge/", {"items": [by_page.pk]})
    assert bulk.status_code == (302 if works else refused)
    by_page.refresh_from_db()
    assert (by_page.status == "acknowledged") is works
    for action, data in [
        ("acknowledge", {}),
        ("respond", {"body": "On it"}),
        ("return-step", {"status": "authorised"}),
        ("complete", {}),
    ]:
        response = page.post(f"/queue-items/{by_page.pk}/{action}/", data)
        expected = 302 if works and (action != "return-step" or slug == "shipping") else refused
        assert response.status_code == expected, action
    by_page.refresh_from_db()
    by_page.ticket.refresh_from_db()
    assert (by_page.status == "done") is works
    assert (by_page.ticket.rma_status == "authorised") is (works and slug == "shipping")


@pytest.mark.parametrize("user", list(ROLES), indirect=True)
def test_every_role_against_the_follow_up(request, user, routed, client):
    role = request.node.callspec.params["user"]
    works = ROLES[role][2]
    api, page = _clients(user, client)
    first, second = (FollowUpTask.objects.get(ticket=t) for t in routed)
    refused = 403

    mine = api.get("/api/v1/followups/").json()
    assert (first.pk in {t["id"] for t in mine["results"]}) is works
    of_ticket = api.get("/api/v1/followups/", {"ticket": first.ticket_id}).json()
    assert [t["id"] for t in of_ticket["results"]] == [first.pk]
    detail = api.get(f"/api/v1/followups/{first.pk}/").json()
    assert (detail["status"], detail["salesperson_name"]) == ("open", str(first.salesperson))
    assert (f"followup-{first.pk}" in page.get("/followups/").content.decode()) is works
    who = page.get(f"/tickets/{first.ticket_id}/queues/").content.decode()
    assert f'id="told-followup-{first.pk}"' in who

    answer = api.post(f"/api/v1/followups/{first.pk}/outcome/", {"outcome": "perhaps"})
    assert answer.status_code == (400 if works else refused)
    answer = api.post(f"/api/v1/followups/{first.pk}/outcome/", {"outcome": "no_answer"})
    assert answer.status_code == (200 if works else refused)
    answer = page.post("/followups/", {"task": second.pk, "outcome": "satisfied"})
    assert answer.status_code == (302 if works else refused)
    # The board's address is the only one the pages post to; the task is closed now.
    answer = page.post("/followups/", {"task": second.pk, "outcome": "satisfied"})
    assert answer.status_code == (400 if works else refused)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.attempts == (1 if works else 0)
    assert (second.status == "done") is works


def test_unknown_items_and_tasks_are_404_for_everyone(routed, client):
    user = _member("rita", "support")
    api, page = _clients(user, client)
    assert api.get("/api/v1/notifications/999999/").status_code == 404
    assert api.post("/api/v1/notifications/999999/complete/").status_code == 404
    assert page.post("/queue-items/999999/respond/", {"body": "x"}).status_code == 404
    assert (
        api.post("/api/v1/followups/999999/outcome/", {"outcome": "satisfied"}).status_code == 404
    )
    assert page.post("/followups/", {"task": "999999", "outcome": "x"}).status_code == 404
    assert page.get("/tickets/999999/queues/").status_code == 404
