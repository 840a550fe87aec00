import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_token_login_and_use(rep):
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/", {"username": "rep", "password": "pw-for-tests-only"}
    )
    assert response.status_code == 200
    token = response.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/tickets/").status_code == 200
    client.credentials(HTTP_AUTHORIZATION="Token wrong")
    assert client.get("/api/v1/tickets/").status_code == 401


def test_token_with_wrong_password_is_a_400(rep):
    response = APIClient().post("/api/v1/auth/token/", {"username": "rep", "password": "no"})
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


@pytest.mark.parametrize("body", ['{"username": "rep", "password": 1e400}', "[" * 5000])
def test_token_endpoint_refuses_json_nothing_can_store_with_a_400(rep, body):
    response = APIClient().post("/api/v1/auth/token/", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


def test_token_endpoint_refuses_a_username_longer_than_any_with_a_400(rep):
    response = APIClient().post("/api/v1/auth/token/", {"username": "r" * 300, "password": "x"})
    assert response.status_code == 400
    assert list(response.json()) == ["username"]


def test_session_login_works_for_the_api(client, rep):
    assert client.login(username="rep", password="pw-for-tests-only")
    assert client.get("/api/v1/tickets/").status_code == 200


def test_openapi_schema_describes_every_resource(client, rep):
    client.force_login(rep)
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in [
        "/api/v1/tickets/",
        "/api/v1/tickets/{id}/timeline/",
        "/api/v1/customers/",
        "/api/v1/contacts/",
        "/api/v1/invoices/",
        "/api/v1/notifications/",
        "/api/v1/followups/",
        "/api/v1/rules/",
        "/api/v1/auth/token/",
    ]:
        assert path in paths, path
    assert "post" in paths["/api/v1/tickets/{id}/timeline/"]


def test_api_docs_page_uses_bundled_assets(client, rep):
    client.force_login(rep)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()


def test_home_page_needs_login_and_shows_the_users_queues(client, rep):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    client.force_login(rep)
    response = client.get("/")
    assert response.status_code == 200
    assert b'href="/queues/support/">Support</a>' in response.content
    assert b"Engineering" not in response.content  # not a queue the rep works


def test_health_check(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_page_url_names_do_not_collide_with_api_names():
    """A page named like an API route would have its links point into the API."""
    from django.urls import get_resolver

    def names(patterns, inside_api=False):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                api = inside_api or str(pattern.pattern).startswith("api/")
                yield from names(pattern.url_patterns, api)
            elif pattern.name:
                yield pattern.name, inside_api

    found = list(names(get_resolver().url_patterns))
    api = {name for name, inside in found if inside}
    pages = {name for name, inside in found if not inside}
    assert pages & api == set()


@pytest.mark.parametrize("url", ["/api/v1/tickets/1.5/", "/api/v1/nothing/here/"])
def test_an_api_url_no_route_matches_is_a_json_404(api, url):
    response = api.get(url)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_an_api_url_without_its_slash_still_redirects(api):
    response = api.get("/api/v1/tickets")
    assert response.status_code == 301
    assert response["Location"] == "/api/v1/tickets/"


def test_schema_allows_the_empty_values_the_api_returns(client, rep):
    """No department, no root cause or outcome yet, no author (routing's timeline entries, a
    rule changed by a command): a client generated from the schema must accept them."""
    client.force_login(rep)
    schemas = client.get("/api/schema/", {"format": "json"}).json()["components"]["schemas"]
    assert schemas["Ticket"]["properties"]["department"]["nullable"] is True
    for name, field in [("Ticket", "root_cause"), ("FollowUpTask", "outcome")]:
        choices = schemas[name]["properties"][field]["oneOf"]
        assert {"$ref": "#/components/schemas/BlankEnum"} in choices, name
    for name in ["TimelineEntry", "RuleVersion", "RuleAuditEntry"]:
        assert schemas[name]["properties"]["author"]["nullable"] is True, name


def test_schema_documents_the_errors_each_operation_can_give(client, rep):
    client.force_login(rep)
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]

    def codes(path, method):
        return set(paths[path][method]["responses"])

    assert codes("/api/v1/tickets/", "get") >= {"400", "401", "403", "404", "429"}  # filters, page
    assert codes("/api/v1/tickets/", "post") >= {"201", "400", "401", "403", "429"}
    assert "404" not in codes("/api/v1/tickets/", "post")
    assert codes("/api/v1/tickets/{id}/", "get") >= {"401", "403", "404", "429"}
    assert "400" not in codes("/api/v1/tickets/{id}/", "get")  # nothing to validate
    assert "409" in codes("/api/v1/tickets/{id}/", "patch")  # the view's own stays
    assert "403" not in codes("/api/v1/auth/token/", "post")  # anyone may ask for a token
    detail = paths["/api/v1/tickets/{id}/"]["get"]["responses"]["404"]
    assert detail["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorDetail")
    fields = paths["/api/v1/tickets/"]["post"]["responses"]["400"]
    assert fields["content"]["application/json"]["schema"]["$ref"].endswith("/ValidationError")
    assert "Retry-After" in paths["/api/v1/tickets/"]["get"]["responses"]["429"]["headers"]
