"""The HTTP client of webhook calls: httpx over a network backend that refuses internal targets.

A webhook's URL is typed by a person in the admin, and a rule calls it from inside our network:
without a check, ``http://169.254.169.254/`` (the cloud's metadata service, with credentials) or
``http://10.0.0.5:6379/`` would be called by us. So every address a call would connect to is
checked *after* name resolution, and the socket is connected to the very address that was checked,
so a name answering a public address to the check and a private one to the connect (DNS
rebinding) gets nowhere. TLS still verifies the certificate against the URL's host name.

Refused: loopback, private, link-local, multicast, reserved, unspecified and other non-global
addresses, the cloud metadata addresses, and IPv6 forms that carry such an IPv4 address
(``::ffff:10.0.0.5``, 6to4, NAT64). ``WEBHOOK_ALLOWED_NETWORKS`` lets named networks through; a
metadata address only when it is named by itself, never as part of a wider network.

Redirects are never followed (the caller treats a 3xx as a failure), and no proxy is used: the
address checked here is the one connected to. The whole call, name resolution included, ends by
one deadline: each step waits at most for the time left.
"""

import ipaddress
import select
import socket
import ssl
import threading
import time
import urllib.parse
from contextlib import contextmanager
from functools import lru_cache

import httpcore
import httpx
from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Instance metadata services hand out the machine's credentials to whoever asks.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, Oracle, DigitalOcean
        "169.254.170.2",  # AWS ECS task metadata
        "169.254.170.23",  # AWS EKS pod identity
        "fd00:ec2::254",  # AWS instance metadata over IPv6
        "fd00:ec2::23",  # AWS EKS pod identity over IPv6
        "100.100.100.200",  # Alibaba Cloud
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# The answer's body is read (so a slow one counts against the deadline) up to this much.
MAX_ANSWER_BYTES = 64 * 1024


class RefusedTarget(Exception):
    """The URL may not be called: its scheme, or an address it names or resolves to."""


def _kind(ip: IPAddress) -> str | None:
    """What makes ``ip`` internal, or None for a public address."""
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    for test, kind in (
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "not a public address"),  # 100.64.0.0/10 (carrier-grade NAT), say
    ):
        if test:
            return kind
    return None


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one leads to through a translator (6to4, NAT64)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(entry) for entry in entries)


def _allowed(ip: IPAddress) -> bool:
    for network in _networks(tuple(settings.WEBHOOK_ALLOWED_NETWORKS)):
        if ip in network and (ip not in METADATA_ADDRESSES or network.num_addresses == 1):
            return True
    return False


def address_refusal(address: str) -> str | None:
    """What makes ``address`` one a call may not connect to ("a private address"), or None."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # without an IPv6 zone (fe80::1%eth0)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        # ::ffff:10.0.0.5 is 10.0.0.5 to a dual-stack socket.
        ip = ip.ipv4_mapped
    if _allowed(ip):
        return None
    # A NAT64 address is judged by the IPv4 one it leads to: on an IPv6-only network DNS64
    # answers every public name with one (Python counts the whole prefix as reserved).
    kind = None if ip in _NAT64 else _kind(ip)
    if kind is not None:
        return kind
    embedded = _embedded_ipv4(ip)
    if embedded is not None and not _allowed(embedded) and (kind := _kind(embedded)):
        return f"an address leading to {embedded}, {kind}"
    return None


def url_refusal(url: str) -> str | None:
    """Why ``url`` may never be called (its scheme, credentials in it, or a literal address that
    is refused), or None. Host names are checked when called: what they resolve to may change."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "not a valid URL"
    if parts.scheme not in ("http", "https"):
        return "only http and https URLs can be called"
    if not host:
        return "the URL names no host"
    if parts.username is not None or parts.password is not None:
        return "the URL may not carry credentials (the payload is signed instead)"
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None  # a name: checked when called
    kind = address_refusal(host)
    return None if kind is None else f"{host} is {kind}"


# --- the deadline -----------------------------------------------------------------------------


def _time_left(deadline: float, timeout: float | None, late: type[Exception], what: str) -> float:
    left = deadline - time.monotonic()
    if timeout is not None:
        left = min(left, timeout)
    if left <= 0:
        raise late(f"{what} before the deadline")
    return left


@contextmanager
def _mapped(timed_out: type[Exception], failed: type[Exception], what: str):
    try:
        yield
    except TimeoutError as exc:  # socket.timeout is TimeoutError
        raise timed_out(f"{what} before the deadline") from exc
    except OSError as exc:
        raise failed(str(exc)) from exc


class _DeadlineStream(httpcore.NetworkStream):
    """A connected socket whose every read, write and handshake waits only until the deadline
    (httpx's own timeouts start again with each operation, so a peer trickling a byte every few
    seconds would hold the call for ever)."""

    def __init__(self, sock: socket.socket, deadline: float):
        self._sock = sock
        self._deadline = deadline

    def _left(self, timeout, late, what) -> float:
        return _time_left(self._deadline, timeout, late, what)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        what = "no complete answer"
        with _mapped(httpcore.ReadTimeout, httpcore.ReadError, what):
            self._sock.settimeout(self._left(timeout, httpcore.ReadTimeout, what))
            return self._sock.recv(max_bytes)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        what, view = "the request not sent", memoryview(buffer)
        with _mapped(httpcore.WriteTimeout, httpcore.WriteError, what):
            while view:
                # One send at a time, each within the time left (sendall's own loop is not).
                self._sock.settimeout(self._left(timeout, httpcore.WriteTimeout, what))
                view = view[self._sock.send(view) :]

    def close(self) -> None:
        self._sock.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> "_DeadlineStream":
        what = "no TLS handshake"
        with _mapped(httpcore.ConnectTimeout, httpcore.ConnectError, what):
            # The certificate is verified against the URL's host name, not the address used.
            sock = ssl_context.wrap_socket(
                self._sock, server_hostname=server_hostname, do_handshake_on_connect=False
            )
            try:
                sock.settimeout(self._left(timeout, httpcore.ConnectTimeout, what))
                sock.do_handshake()  # the whole handshake within one timeout
            except BaseException:
                sock.close()
                raise
        return _DeadlineStream(sock, self._deadline)

    def get_extra_info(self, info: str):
        if info == "ssl_object":
            return self._sock if isinstance(self._sock, ssl.SSLSocket) else None
        if info == "client_addr":
            return self._sock.getsockname()
        if info == "server_addr":
            return self._sock.getpeername()
        if info == "socket":
            return self._sock
        if info == "is_readable":
            return bool(select.select([self._sock], [], [], 0)[0])
        return None


# --- resolving and connecting ------------------------------------------------------------------


def _resolve(host: str, port: int, deadline: float) -> list[tuple]:
    """``getaddrinfo`` within the deadline. The system resolver cannot be interrupted, so it runs
    in a thread of its own; one still waiting at the deadline is left to finish in the
    background, and the call fails at once."""
    try:
        literal = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    else:
        family = socket.AF_INET6 if literal.version == 6 else socket.AF_INET
        sockaddr = (host, port) if family == socket.AF_INET else (host, port, 0, 0)
        return [(family, socket.SOCK_STREAM, 0, "", sockaddr)]
    outcome: dict = {}

    def lookup():
        try:
            outcome["answer"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc

    what = f"no address for {host}"
    left = _time_left(deadline, None, httpcore.ConnectTimeout, what)
    thread = threading.Thread(target=lookup, name="webhook-resolve", daemon=True)
    thread.start()
    thread.join(left)
    if thread.is_alive():
        raise httpcore.ConnectTimeout(f"{what} before the deadline")
    if "error" in outcome:
        error = outcome["error"]
        if isinstance(error, OSError):
            raise httpcore.ConnectError(f"{host}: {error}") from error
        raise error  # SoftTimeLimitExceeded, say
    return outcome["answer"]


class _CheckedBackend(httpcore.NetworkBackend):
    """Resolves the host itself, refuses the call if any address is internal, and connects to an
    address it checked (never resolving again)."""

    def __init__(self, deadline: float):
        self._deadline = deadline

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        answers = _resolve(host, port, self._deadline)
        for *_, sockaddr in answers:
            kind = address_refusal(sockaddr[0])
            if kind is None:
                continue
            if sockaddr[0] == host:
                raise RefusedTarget(f"refused: {host} is {kind}")
            # Any internal answer refuses the name, rather than trying only its public ones.
            raise RefusedTarget(f"refused: {host} resolves to {sockaddr[0]}, {kind}")
        error: Exception = httpcore.ConnectError(f"{host}: no address")
        for family, kind, proto, _, sockaddr in answers:
            try:
                sock = self._connect(family, kind, proto, sockaddr, timeout, local_address)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
                continue
            for option in socket_options or ():
                sock.setsockopt(*option)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return _DeadlineStream(sock, self._deadline)
        raise error

    def _connect(self, family, kind, proto, sockaddr, timeout, local_address) -> socket.socket:
        what = "not connected"
        sock = socket.socket(family, kind, proto)
        try:
            with _mapped(httpcore.ConnectTimeout, httpcore.ConnectError, what):
                if local_address is not None:
                    sock.bind((local_address, 0))
                sock.settimeout(_time_left(self._deadline, timeout, httpcore.ConnectTimeout, what))
                sock.connect(sockaddr)
        except BaseException:
            sock.close()
            raise
        return sock

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise RefusedTarget("refused: webhooks are called over TCP only")


class _Transport(httpx.HTTPTransport):
    def __init__(self, deadline: float):
        # The system's CA store (SSL_CERT_FILE and SSL_CERT_DIR honoured), as before httpx.
        context = ssl.create_default_context()
        super().__init__(verify=context, trust_env=False, retries=0)
        # httpx 0.28 has no argument for a network backend (encode/httpx#3749 proposes one): the
        # pool is the one it builds, with ours. The tests refusing loopback fail if this is lost.
        self._pool = httpcore.ConnectionPool(
            ssl_context=context,
            max_connections=1,
            http1=True,
            http2=False,
            retries=0,
            network_backend=_CheckedBackend(deadline),
        )


def post(url: str, *, content: bytes, headers: dict, timeout: float) -> int:
    """POST ``content`` to ``url`` and return the answer's status once the whole answer (its body
    up to MAX_ANSWER_BYTES) is in, all within ``timeout`` seconds. Raises RefusedTarget for a URL
    or address that may not be called, httpx.HTTPError for a failure to try again."""
    deadline = time.monotonic() + timeout
    refusal = url_refusal(url)
    if refusal is not None:
        raise RefusedTarget(f"refused: {refusal}")
    try:
        httpx.URL(url)
    except httpx.InvalidURL as exc:  # what urlsplit let through, an invalid IDNA name, say
        raise RefusedTarget(f"refused: not a valid URL ({exc})") from exc
    client = httpx.Client(
        transport=_Transport(deadline),
        follow_redirects=False,
        trust_env=False,  # no proxy and no .netrc from the environment
        timeout=timeout,
    )
    with client, client.stream("POST", url, content=content, headers=headers) as response:
        received = 0
        for chunk in response.iter_raw():
            received += len(chunk)
            if received >= MAX_ANSWER_BYTES:
                break
        return response.status_code
