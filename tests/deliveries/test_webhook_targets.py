"""Webhook calls reach public addresses only: loopback, private, link-local and metadata addresses
are refused after name resolution (unless WEBHOOK_ALLOWED_NETWORKS names them), the socket goes to
the address that was checked, and the admin refuses what it can tell from the URL alone."""

import http.server
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading

import pytest
from django.core.exceptions import ValidationError

from deliveries import services as deliveries
from deliveries import webhook_client
from deliveries.models import Webhook, WebhookDelivery
from routing.services import rule_create
from tests.conftest import dispatch_pending
from tickets.services import ticket_create

_real_getaddrinfo = socket.getaddrinfo


def _deliver(customer, url: str) -> WebhookDelivery:
    """A delivery to ``url`` made by a rule, after one attempt at it."""
    Webhook.objects.create(name="crm", url=url)
    rule_create(
        name="r",
        trigger="ticket.created",
        conditions={},
        actions=[{"type": "call_webhook", "webhook": "crm"}],
    )
    ticket_create(customer=customer, kind="bug", channel="email", subject="Printer on fire")
    dispatch_pending()
    delivery = WebhookDelivery.objects.get()
    deliveries.webhook_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    return delivery


class _FakeDNS(dict):
    """Answers for chosen names (``dns["hooks.test"] = ["10.0.0.5"]``; a list of lists answers
    each lookup in turn), and the names looked up."""

    def __init__(self):
        super().__init__()
        self.lookups: list[str] = []

    def getaddrinfo(self, host, port, *args, **kwargs):
        if host not in self:
            return _real_getaddrinfo(host, port, *args, **kwargs)
        self.lookups.append(host)
        found = self[host]
        addresses = found.pop(0) if isinstance(found[0], list) else found
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in addresses
        ]


@pytest.fixture
def dns(monkeypatch):
    """Fake DNS answers for chosen names; every other name, and every connection, stays real."""
    fake = _FakeDNS()
    monkeypatch.setattr(socket, "getaddrinfo", fake.getaddrinfo)
    return fake


def _port(receiver) -> int:
    return int(receiver.url.rsplit(":", 1)[1].split("/")[0])


@pytest.mark.django_db
class TestAtSendTime:
    def test_loopback_is_refused_by_default_and_fails_for_good(
        self, settings, customer, http_receiver
    ):
        settings.WEBHOOK_ALLOWED_NETWORKS = []
        delivery = _deliver(customer, http_receiver.url)
        assert delivery.status == "failed"
        assert delivery.reason == "refused: 127.0.0.1 is a loopback address"
        assert delivery.next_attempt_at is None
        attempt = delivery.tries.get()
        assert (attempt.status_code, attempt.error) == (None, delivery.reason)
        assert http_receiver.requests == []  # never connected

    def test_loopback_named_in_the_allow_list_is_called(self, settings, customer, http_receiver):
        settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
        delivery = _deliver(customer, http_receiver.url)
        assert delivery.status == "sent"
        assert len(http_receiver.requests) == 1

    def test_a_name_resolving_to_loopback_is_refused(self, settings, customer, http_receiver):
        settings.WEBHOOK_ALLOWED_NETWORKS = []
        delivery = _deliver(customer, f"http://localhost:{_port(http_receiver)}/hook")
        assert delivery.status == "failed"
        assert delivery.reason.startswith("refused: localhost resolves to ")
        assert delivery.reason.endswith(", a loopback address")
        assert http_receiver.requests == []

    def test_a_name_resolving_to_a_private_address_is_refused(self, settings, customer, dns):
        settings.WEBHOOK_ALLOWED_NETWORKS = []
        dns["hooks.test"] = ["10.0.0.5"]
        delivery = _deliver(customer, "http://hooks.test/hook")
        assert (delivery.status, delivery.reason) == (
            "failed",
            "refused: hooks.test resolves to 10.0.0.5, a private address",
        )

    def test_one_internal_answer_among_public_ones_refuses_the_name(self, customer, dns):
        dns["hooks.test"] = ["93.184.215.14", "192.168.1.20"]
        delivery = _deliver(customer, "http://hooks.test/hook")
        assert delivery.reason == "refused: hooks.test resolves to 192.168.1.20, a private address"

    def test_the_call_goes_to_the_address_checked_not_to_a_second_answer(
        self, settings, customer, http_receiver, dns
    ):
        # DNS rebinding: the first answer passes the check, a later one would be internal.
        settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1"]
        dns["hooks.test"] = [["127.0.0.1"], ["10.0.0.5"]]
        delivery = _deliver(customer, f"http://hooks.test:{_port(http_receiver)}/hook")
        assert delivery.status == "sent", delivery.reason
        assert dns.lookups == ["hooks.test"]  # resolved once, connected to what was checked
        [request] = http_receiver.requests
        assert request["headers"]["Host"] == f"hooks.test:{_port(http_receiver)}"

    def test_the_metadata_address_is_refused(self, settings, customer):
        settings.WEBHOOK_ALLOWED_NETWORKS = ["169.254.0.0/16"]  # a wider network does not do
        delivery = _deliver(customer, "http://169.254.169.254/latest/meta-data/")
        assert delivery.reason == "refused: 169.254.169.254 is a cloud metadata address"

    def test_an_ipv4_mapped_ipv6_loopback_is_refused(self, settings, customer, http_receiver):
        settings.WEBHOOK_ALLOWED_NETWORKS = []
        delivery = _deliver(customer, f"http://[::ffff:127.0.0.1]:{_port(http_receiver)}/hook")
        assert delivery.reason == "refused: ::ffff:127.0.0.1 is a loopback address"
        assert http_receiver.requests == []

    def test_a_stored_url_of_another_scheme_fails_for_good(self, customer):
        delivery = _deliver(customer, "ftp://files.example.com/drop")
        assert (delivery.status, delivery.reason) == (
            "failed",
            "refused: only http and https URLs can be called",
        )

    def test_a_redirect_is_still_a_failure_and_not_followed(self, customer, http_receiver):
        http_receiver.statuses = [307]
        delivery = _deliver(customer, http_receiver.url)
        assert (delivery.status, delivery.reason) == ("failed", "HTTP 307")
        assert [r["method"] for r in http_receiver.requests] == ["POST"]


class TestAddresses:
    @pytest.mark.parametrize(
        ("address", "refusal"),
        [
            ("127.0.0.1", "a loopback address"),
            ("::1", "a loopback address"),
            ("0.0.0.0", "an unspecified address"),  # noqa: S104 - what is refused
            ("10.1.2.3", "a private address"),
            ("172.16.0.1", "a private address"),
            ("192.168.0.1", "a private address"),
            ("fd12:3456::1", "a private address"),
            ("169.254.1.1", "a link-local address"),
            ("fe80::1%eth0", "a link-local address"),
            ("224.0.0.1", "a multicast address"),
            ("100.64.0.1", "not a public address"),
            ("169.254.169.254", "a cloud metadata address"),
            ("fd00:ec2::254", "a cloud metadata address"),
            ("100.100.100.200", "a cloud metadata address"),
            ("::ffff:10.0.0.5", "a private address"),
            ("::ffff:169.254.169.254", "a cloud metadata address"),
            ("64:ff9b::a00:5", "an address leading to 10.0.0.5, a private address"),
            ("2002:a00:5::1", "an address leading to 10.0.0.5, a private address"),
            ("93.184.215.14", None),
            ("2606:4700::1111", None),
            ("::ffff:93.184.215.14", None),
            ("64:ff9b::5db8:d70e", None),  # NAT64 of 93.184.215.14
        ],
    )
    def test_refused_by_default(self, settings, address, refusal):
        settings.WEBHOOK_ALLOWED_NETWORKS = []
        assert webhook_client.address_refusal(address) == refusal

    def test_the_allow_list_takes_networks_and_addresses(self, settings):
        settings.WEBHOOK_ALLOWED_NETWORKS = ["10.0.0.0/8", "fd12::/16", "192.168.1.20"]
        for address in ("10.9.9.9", "::ffff:10.9.9.9", "fd12:3456::1", "192.168.1.20"):
            assert webhook_client.address_refusal(address) is None, address
        assert webhook_client.address_refusal("192.168.1.21") == "a private address"

    def test_a_metadata_address_passes_only_when_named_by_itself(self, settings):
        settings.WEBHOOK_ALLOWED_NETWORKS = ["169.254.0.0/16", "fd00:ec2::/32"]
        assert webhook_client.address_refusal("169.254.1.1") is None
        assert webhook_client.address_refusal("169.254.169.254") == "a cloud metadata address"
        assert webhook_client.address_refusal("fd00:ec2::254") == "a cloud metadata address"
        settings.WEBHOOK_ALLOWED_NETWORKS = ["169.254.169.254"]
        assert webhook_client.address_refusal("169.254.169.254") is None

    def test_a_bad_allow_list_stops_the_start(self):
        env = os.environ | {
            "WEBHOOK_ALLOWED_NETWORKS": "10.0.0.0/8, 10.0.0.5/8",
            "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        }
        result = subprocess.run(
            [sys.executable, "-c", "import django; django.setup()"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode != 0
        assert "WEBHOOK_ALLOWED_NETWORKS" in result.stderr


@pytest.mark.django_db
class TestAtTheEdge:
    @pytest.mark.parametrize(
        ("url", "message"),
        [
            ("ftp://files.example.com/drop", "only http and https URLs can be called"),
            ("https://ann:secret@hooks.example.com/", "the URL may not carry credentials"),
            ("http://10.0.0.5/hook", "10.0.0.5 is a private address"),
            ("http://[::ffff:127.0.0.1]:8080/", "::ffff:127.0.0.1 is a loopback address"),
            ("http://169.254.169.254/", "169.254.169.254 is a cloud metadata address"),
        ],
    )
    def test_the_admin_refuses_with_a_field_error(self, client, admin_user, url, message):
        client.force_login(admin_user)
        response = client.post(
            "/admin/deliveries/webhook/add/",
            {"name": "crm", "url": url, "secret": "s3cret", "is_active": "on"},
        )
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors
        assert list(errors) == ["url"]
        assert message in errors["url"][0]
        assert not Webhook.objects.exists()

    def test_the_admin_saves_a_public_url_and_an_allowed_address(
        self, settings, client, admin_user
    ):
        settings.WEBHOOK_ALLOWED_NETWORKS = ["10.0.0.0/8"]
        client.force_login(admin_user)
        for name, url in [("crm", "https://hooks.example.com/in"), ("lan", "http://10.0.0.5/")]:
            response = client.post(
                "/admin/deliveries/webhook/add/",
                {"name": name, "url": url, "secret": "s3cret", "is_active": "on"},
            )
            assert response.status_code == 302, name
        assert Webhook.objects.count() == 2

    def test_a_host_name_is_left_for_send_time(self):
        # localhost resolves to loopback, but what a name resolves to is checked when called.
        Webhook(name="crm", url="http://localhost:8080/").clean()
        with pytest.raises(ValidationError) as refused:
            Webhook(name="crm", url="http://127.0.0.1:8080/").clean()
        assert refused.value.message_dict == {
            "url": ["This URL cannot be called: 127.0.0.1 is a loopback address."]
        }


@pytest.fixture
def tls_receiver(tmp_path, monkeypatch):
    """An HTTPS server on loopback with a certificate for the name ``hooks.test`` only, which this
    process trusts."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(  # noqa: S603 - fixed arguments
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=hooks.test", "-addext", "subjectAltName=DNS:hooks.test"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.django_db
class TestTLS:
    def test_the_certificate_is_checked_against_the_name_not_the_address(
        self, settings, customer, tls_receiver, dns
    ):
        settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1"]
        dns["hooks.test"] = ["127.0.0.1"]
        delivery = _deliver(customer, f"https://hooks.test:{tls_receiver}/hook")
        assert delivery.status == "sent", delivery.reason

    def test_a_certificate_for_another_name_is_refused(self, settings, customer, tls_receiver):
        settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1"]
        delivery = _deliver(customer, f"https://127.0.0.1:{tls_receiver}/hook")
        assert delivery.status == "retrying"
        assert "CERTIFICATE_VERIFY_FAILED" in delivery.reason
