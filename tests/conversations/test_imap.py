"""Polling a real IMAP server: Dovecot, Debian's, started for the test on a free port with its
mail in a temporary folder. What is appended there becomes tickets, once; mail someone else
already read is fetched all the same; a rebuilt folder (new UIDVALIDITY) stores nothing twice."""

import shutil
import socket
import subprocess
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from imap_tools import MailBoxUnencrypted, MailMessageFlags

from conversations.imap import mailbox_poll
from conversations.models import InboundMessage, Mailbox
from conversations.processing import inbound_process
from tickets.models import Ticket

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
FOLDER = "Support"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def dovecot():
    """A Dovecot serving one user (agent/secret) on a free port of 127.0.0.1, without TLS."""
    if not Path(DOVECOT).exists():
        pytest.fail("Dovecot is missing: apt-get install dovecot-imapd (.ci/run installs it)")
    root = Path(tempfile.mkdtemp(prefix="switchboard-imap-"))
    root.chmod(0o755)
    for name in ("run", "state", "home"):
        (root / name).mkdir()
    shutil.chown(root / "home", "dovecot", "dovecot")
    (root / "passwd").write_text("agent:{PLAIN}secret\n")
    port = _free_port()
    (root / "dovecot.conf").write_text(
        f"""protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={root}/home/%u
}}
mail_location = maildir:~/Maildir
first_valid_uid = 1
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
"""
    )
    subprocess.run([DOVECOT, "-c", str(root / "dovecot.conf")], check=True)  # noqa: S603
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    yield port
    subprocess.run([DOVECOT, "-c", str(root / "dovecot.conf"), "stop"], check=False)  # noqa: S603
    shutil.rmtree(root, ignore_errors=True)


def _box(port):
    return MailBoxUnencrypted("127.0.0.1", port).login("agent", "secret", initial_folder=None)


@pytest.fixture
def folder(dovecot):
    """An empty folder to poll, made afresh for each test."""
    with _box(dovecot) as box:
        if box.folder.exists(FOLDER):
            box.folder.delete(FOLDER)
        box.folder.create(FOLDER)
    return dovecot


def _append(port, number: int, *, seen: bool = False) -> None:
    mail = EmailMessage()
    mail["From"] = "ada@customer.example"
    mail["To"] = "support@example.com"
    mail["Subject"] = f"Question {number}"
    mail["Message-ID"] = f"<imap-{number}@customer.example>"
    mail.set_content(f"Question number {number}.")
    with _box(port) as box:
        flags = [MailMessageFlags.SEEN] if seen else []
        box.append(bytes(mail), FOLDER, flag_set=flags)


@pytest.fixture
def imap_mailbox(db, folder, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return Mailbox.objects.create(
        name="support",
        address="support@example.com",
        imap_host="127.0.0.1",
        imap_port=folder,
        imap_security=Mailbox.Security.PLAIN,
        imap_user="agent",
        imap_password="secret",  # noqa: S106 - the test server's
        imap_folder=FOLDER,
    )


def _process_all():
    for inbound_id in InboundMessage.objects.filter(status="pending").values_list("id", flat=True):
        inbound_process(inbound_id=inbound_id)


def test_mail_appended_becomes_tickets_once(imap_mailbox, contact):
    for number in range(3):
        _append(imap_mailbox.imap_port, number)
    assert mailbox_poll(mailbox_id=imap_mailbox.pk, force=True) == 3
    _process_all()
    assert Ticket.objects.count() == 3
    assert mailbox_poll(mailbox_id=imap_mailbox.pk, force=True) == 0
    imap_mailbox.refresh_from_db()
    assert imap_mailbox.imap_last_uid == 3
    assert imap_mailbox.last_success_at is not None
    # Nothing was marked read: the people reading the box see it as they left it.
    with _box(imap_mailbox.imap_port) as box:
        box.folder.set(FOLDER)
        assert all(MailMessageFlags.SEEN not in m.flags for m in box.fetch(mark_seen=False))


def test_mail_another_client_already_read_is_fetched(imap_mailbox, contact):
    _append(imap_mailbox.imap_port, 1, seen=True)
    assert mailbox_poll(mailbox_id=imap_mailbox.pk, force=True) == 1


def test_the_highest_uid_is_not_fetched_again(imap_mailbox, contact):
    """``last+1:*`` names the highest UID even when it is not above ``last`` (RFC 3501)."""
    _append(imap_mailbox.imap_port, 1)
    mailbox_poll(mailbox_id=imap_mailbox.pk, force=True)
    InboundMessage.objects.all().delete()  # were it fetched again, it would be stored again
    assert mailbox_poll(mailbox_id=imap_mailbox.pk, force=True) == 0
    assert not InboundMessage.objects.exists()


def test_a_rebuilt_folder_is_looked_at_again_without_duplicates(imap_mailbox, contact):
    for number in range(2):
        _append(imap_mailbox.imap_port, number)
    mailbox_poll(mailbox_id=imap_mailbox.pk, force=True)
    before = Mailbox.objects.get(pk=imap_mailbox.pk).imap_uidvalidity
    with _box(imap_mailbox.imap_port) as box:  # the folder deleted and made again
        box.folder.delete(FOLDER)
        box.folder.create(FOLDER)
    time.sleep(1)  # Dovecot's UIDVALIDITY is a time in seconds
    for number in range(3):  # the two known, and one new
        _append(imap_mailbox.imap_port, number)
    assert mailbox_poll(mailbox_id=imap_mailbox.pk, force=True) == 1
    imap_mailbox.refresh_from_db()
    assert imap_mailbox.imap_uidvalidity != before
    assert InboundMessage.objects.count() == 3


def test_another_folder_is_read_from_its_first_message_even_with_the_same_uidvalidity(
    imap_mailbox, contact
):
    for number in range(3):
        _append(imap_mailbox.imap_port, number)
    assert mailbox_poll(mailbox_id=imap_mailbox.pk, force=True) == 3
    other = "Support-new"
    with _box(imap_mailbox.imap_port) as box:
        if box.folder.exists(other):
            box.folder.delete(other)
        box.folder.create(other)
        for number in (10, 11):
            mail = EmailMessage()
            mail["From"] = "ada@customer.example"
            mail["Subject"] = f"Question {number}"
            mail["Message-ID"] = f"<imap-{number}@customer.example>"
            mail.set_content("In the new folder.")
            box.append(bytes(mail), other)
        uidvalidity = int(box.folder.status(other, ["UIDVALIDITY"])["UIDVALIDITY"])
    # The admin points the mailbox at the new folder; its UIDVALIDITY happens to be the old
    # one's (Dovecot gives folders made in the same second the same), and its UIDs are 1 and 2,
    # under the 3 read in the old folder.
    Mailbox.objects.filter(pk=imap_mailbox.pk).update(
        imap_folder=other, imap_uidvalidity=uidvalidity
    )
    assert mailbox_poll(mailbox_id=imap_mailbox.pk, force=True) == 2
    imap_mailbox.refresh_from_db()
    assert imap_mailbox.imap_cursor_of.endswith("/agent/Support-new")
    assert mailbox_poll(mailbox_id=imap_mailbox.pk, force=True) == 0  # and not again
    # The same server on another port is the same folder: nothing is read again.
    assert Mailbox.objects.get(pk=imap_mailbox.pk).imap_cursor_key == imap_mailbox.imap_cursor_of
    Mailbox.objects.filter(pk=imap_mailbox.pk).update(imap_port=993)
    assert Mailbox.objects.get(pk=imap_mailbox.pk).imap_cursor_key == imap_mailbox.imap_cursor_of


def test_processed_mail_can_be_moved_to_a_folder(imap_mailbox, contact):
    with _box(imap_mailbox.imap_port) as box:
        if not box.folder.exists("Done"):
            box.folder.create("Done")
    Mailbox.objects.filter(pk=imap_mailbox.pk).update(imap_move_to="Done")
    _append(imap_mailbox.imap_port, 7)
    assert mailbox_poll(mailbox_id=imap_mailbox.pk, force=True) == 1
    with _box(imap_mailbox.imap_port) as box:
        assert box.folder.status(FOLDER)["MESSAGES"] == 0
        assert box.folder.status("Done")["MESSAGES"] >= 1
        # Moved as it was: still unread for the people who read the box.
        box.folder.set("Done")
        assert all(MailMessageFlags.SEEN not in m.flags for m in box.fetch(mark_seen=False))


def test_a_mailbox_that_cannot_log_in_says_why_and_backs_off(imap_mailbox):
    Mailbox.objects.filter(pk=imap_mailbox.pk).update(imap_password="wrong")
    with pytest.raises(Exception, match="(?i)auth"):
        mailbox_poll(mailbox_id=imap_mailbox.pk, force=True)
    imap_mailbox.refresh_from_db()
    assert imap_mailbox.failures == 1
    assert "auth" in imap_mailbox.last_error.lower()
    assert imap_mailbox.last_success_at is None
    assert imap_mailbox.next_poll_at is not None
    # Not due again before the backoff has passed.
    assert mailbox_poll(mailbox_id=imap_mailbox.pk) == 0


def test_the_admin_tests_a_mailbox_and_says_what_came_of_it(imap_mailbox, contact, admin_client):
    _append(imap_mailbox.imap_port, 9)
    url = "/admin/conversations/mailbox/"
    response = admin_client.post(
        url, {"action": "poll_now", "_selected_action": [imap_mailbox.pk]}, follow=True
    )
    assert "connected; 1 new message(s)" in response.content.decode()
    Mailbox.objects.filter(pk=imap_mailbox.pk).update(imap_password="wrong")
    response = admin_client.post(
        url, {"action": "poll_now", "_selected_action": [imap_mailbox.pk]}, follow=True
    )
    page = response.content.decode()
    assert "AUTHENTICATIONFAILED" in page or "authentication failed" in page.lower()
    listing = admin_client.get(url).content.decode()
    assert "Last error" in listing
    assert "failing: 1 poll in a row" in listing  # active, but not working


def test_an_xoauth2_token_file_outside_its_folder_is_never_read(imap_mailbox, settings, tmp_path):
    secret = tmp_path / "secret.env"
    secret.write_text("DJANGO_SECRET_KEY=do-not-send")
    settings.EMAIL_IMAP_TOKEN_DIR = str(tmp_path / "tokens")
    Mailbox.objects.filter(pk=imap_mailbox.pk).update(
        imap_auth=Mailbox.Auth.XOAUTH2, imap_token_file=str(secret)
    )
    with pytest.raises(PermissionError, match="EMAIL_IMAP_TOKEN_DIR"):
        mailbox_poll(mailbox_id=imap_mailbox.pk, force=True)


def _done_folder(port) -> None:
    with _box(port) as box:
        if box.folder.exists("Done"):
            box.folder.delete("Done")
        box.folder.create("Done")


def _uids(port, folder=FOLDER) -> list[int]:
    with _box(port) as box:
        box.folder.set(folder)
        return sorted(int(uid) for uid in box.uids())


def _flag_deleted_by_someone_else(port, uid: int) -> None:
    with _box(port) as box:
        box.folder.set(FOLDER)
        # The raw STORE: imap-tools' flag() expunges right after.
        assert box.client.uid("STORE", str(uid), "+FLAGS", r"(\Deleted)")[0] == "OK"


def test_moving_processed_mail_leaves_what_someone_else_flagged_deleted(
    imap_mailbox, contact, settings
):
    """A plain EXPUNGE after the copy would also remove the message another client flagged
    deleted, before it was ever fetched."""
    settings.EMAIL_IMAP_BATCH = 1
    _done_folder(imap_mailbox.imap_port)
    Mailbox.objects.filter(pk=imap_mailbox.pk).update(imap_move_to="Done")
    _append(imap_mailbox.imap_port, 21)
    _append(imap_mailbox.imap_port, 22)
    first, second = _uids(imap_mailbox.imap_port)
    _flag_deleted_by_someone_else(imap_mailbox.imap_port, second)
    assert mailbox_poll(mailbox_id=imap_mailbox.pk, force=True) == 1
    assert _uids(imap_mailbox.imap_port) == [second]
    assert mailbox_poll(mailbox_id=imap_mailbox.pk, force=True) == 1
    assert InboundMessage.objects.count() == 2


def test_without_move_a_server_with_uidplus_expunges_only_the_message_moved(imap_mailbox, contact):
    from conversations import imap

    _done_folder(imap_mailbox.imap_port)
    _append(imap_mailbox.imap_port, 23)
    _append(imap_mailbox.imap_port, 24)
    first, second = _uids(imap_mailbox.imap_port)
    _flag_deleted_by_someone_else(imap_mailbox.imap_port, second)
    with imap._session(imap_mailbox) as box:
        assert "UIDPLUS" in box.client.capabilities
        box.client.capabilities = tuple(c for c in box.client.capabilities if c != "MOVE")
        box.folder.set(FOLDER)
        imap._move(box, first, "Done")
    assert _uids(imap_mailbox.imap_port) == [second]
    assert len(_uids(imap_mailbox.imap_port, "Done")) == 1


def test_a_folder_to_move_to_that_is_missing_fails_the_poll_before_anything_is_fetched(
    imap_mailbox, contact
):
    Mailbox.objects.filter(pk=imap_mailbox.pk).update(imap_move_to="Dnoe")
    _append(imap_mailbox.imap_port, 25)
    with pytest.raises(ValueError, match="does not exist: Dnoe"):
        mailbox_poll(mailbox_id=imap_mailbox.pk, force=True)
    imap_mailbox.refresh_from_db()
    assert "Dnoe" in imap_mailbox.last_error
    assert imap_mailbox.imap_last_uid == 0
    assert not InboundMessage.objects.exists()


def test_the_cursor_never_moves_back(imap_mailbox, contact):
    from conversations import imap

    _append(imap_mailbox.imap_port, 26)
    assert mailbox_poll(mailbox_id=imap_mailbox.pk, force=True) == 1
    imap_mailbox.refresh_from_db()
    ahead = imap_mailbox.imap_last_uid
    # A slower poll overlapping this one (the admin's "test now") gets to an earlier UID.
    imap._advance(
        imap_mailbox,
        uid=ahead - 1,
        uidvalidity=imap_mailbox.imap_uidvalidity,
        where=imap_mailbox.imap_cursor_of,
    )
    imap_mailbox.refresh_from_db()
    assert imap_mailbox.imap_last_uid == ahead


def test_a_message_the_server_gives_no_body_for_is_not_passed_over():
    """The cursor may move past a message whose FETCH came back empty only if it is gone."""
    from conversations import imap

    class Client:
        def __init__(self, still_there):
            self.still_there = still_there

        def uid(self, command, *args):
            if command == "FETCH":
                return "OK", [b"7 (UID 7)"]
            return "OK", [b"7" if self.still_there else b""]

    class Box:
        def __init__(self, still_there):
            self.client = Client(still_there)

    with pytest.raises(imap.Refused, match="still there"):
        imap._fetch_raw(Box(still_there=True), 7)
    assert imap._fetch_raw(Box(still_there=False), 7) is None


def test_a_bad_answer_to_a_fetch_counts_as_a_refusal(imap_mailbox):
    """imaplib raises on BAD itself (it never returns it): that is the server refusing the
    message, counted towards going past it; a connection that broke is not."""
    import imaplib

    from conversations import imap

    with imap._session(imap_mailbox) as box:
        box.folder.set(FOLDER)
        # A FETCH Dovecot answers BAD: the message set is not a number.
        with pytest.raises(imap.Refused, match="BAD"):
            imap._fetch_raw(box, "x")

    class Broken:
        def uid(self, *args):
            raise imaplib.IMAP4.abort("socket error: EOF")

    class Box:
        client = Broken()

    with pytest.raises(imaplib.IMAP4.abort):
        imap._fetch_raw(Box(), 7)


def test_the_stored_password_goes_only_to_the_server_it_was_given_for(db):
    from conversations.admin import MailboxForm

    mailbox = Mailbox.objects.create(
        name="support",
        address="support@example.com",
        imap_host="imap.example.com",
        imap_port=993,
        imap_user="agent",
        imap_password="secret",  # noqa: S106 - a test's
        imap_folder="INBOX",
    )
    fields = {
        "name": "support",
        "address": "support@example.com",
        "is_active": "on",
        "imap_host": "imap.example.com",
        "imap_port": "993",
        "imap_security": mailbox.imap_security,
        "imap_auth": mailbox.imap_auth,
        "imap_user": "agent",
        "imap_password": "",
        "imap_token_file": "",
        "imap_folder": "INBOX",
        "imap_move_to": "",
    }
    # Another folder, the password left empty: the stored one is kept.
    form = MailboxForm({**fields, "imap_folder": "Support"}, instance=mailbox)
    assert form.is_valid(), form.errors
    assert form.save().imap_password == "secret"
    # Another server: the stored password is not sent there unless typed again.
    elsewhere = MailboxForm({**fields, "imap_host": "imap.attacker.example"}, instance=mailbox)
    assert not elsewhere.is_valid()
    assert "type the password again" in str(elsewhere.errors["imap_password"])
    # The same for an OAuth token: it goes to the new server only once that is confirmed.
    token = Mailbox.Auth.XOAUTH2
    Mailbox.objects.filter(pk=mailbox.pk).update(
        imap_auth=token, imap_password="", imap_token_file="office365.token"
    )
    mailbox.refresh_from_db()
    oauth = {**fields, "imap_auth": token, "imap_token_file": "office365.token"}
    moved = MailboxForm({**oauth, "imap_host": "imap.attacker.example"}, instance=mailbox)
    assert not moved.is_valid()
    assert "tick the box below" in str(moved.errors["imap_token_file"])
    confirmed = MailboxForm(
        {**oauth, "imap_host": "outlook.office365.com", "confirm_token_server": "on"},
        instance=mailbox,
    )
    assert confirmed.is_valid(), confirmed.errors
    Mailbox.objects.filter(pk=mailbox.pk).update(
        imap_auth=Mailbox.Auth.PASSWORD, imap_password="secret", imap_token_file=""
    )
    mailbox.refresh_from_db()
    elsewhere = MailboxForm({**fields, "imap_host": "imap.attacker.example"}, instance=mailbox)
    assert not elsewhere.is_valid()
    assert "type the password again" in str(elsewhere.errors["imap_password"])
    mailbox.refresh_from_db()
    assert mailbox.imap_host == "imap.example.com"
    typed = MailboxForm(
        {**fields, "imap_host": "imap2.example.com", "imap_password": "new"}, instance=mailbox
    )
    assert typed.is_valid(), typed.errors
    assert typed.save().imap_password == "new"


def test_a_token_file_named_without_its_folder_is_found_in_the_token_folder(settings, tmp_path):
    from conversations.imap import _token_file

    settings.EMAIL_IMAP_TOKEN_DIR = str(tmp_path / "tokens")
    mailbox = Mailbox(imap_auth=Mailbox.Auth.XOAUTH2, imap_token_file="office365.token")
    assert _token_file(mailbox) == (tmp_path / "tokens" / "office365.token").resolve()
    mailbox.imap_token_file = "../secret.env"  # named relative, it still may not leave it
    with pytest.raises(PermissionError, match="EMAIL_IMAP_TOKEN_DIR"):
        _token_file(mailbox)


def test_a_message_the_server_keeps_refusing_is_passed_with_a_note_for_a_rep(
    imap_mailbox, contact, settings, monkeypatch
):
    """Exchange answers BAD to a FETCH of a corrupt item, every time: without a way past it,
    nothing after it would ever be fetched."""
    from conversations import imap

    settings.EMAIL_IMAP_UNFETCHABLE_AFTER = 2
    _append(imap_mailbox.imap_port, 31)
    _append(imap_mailbox.imap_port, 32)
    corrupt, fine = _uids(imap_mailbox.imap_port)
    real = imap._fetch_raw

    def refusing(box, uid):
        if uid == corrupt:  # what Dovecot cannot be made to answer: a server's own refusal
            raise imap.Refused(f"FETCH {uid} answered BAD: [b'Command Error. 12']")
        return real(box, uid)

    monkeypatch.setattr(imap, "_fetch_raw", refusing)
    with pytest.raises(imap.Refused):
        mailbox_poll(mailbox_id=imap_mailbox.pk, force=True)
    assert not InboundMessage.objects.exists()
    assert mailbox_poll(mailbox_id=imap_mailbox.pk, force=True) == 2
    _process_all()
    note = InboundMessage.objects.get(imap_uid=corrupt)
    assert note.status == "quarantined"
    assert f"UID {corrupt}" in note.subject
    assert b"Command Error. 12" in note.raw.read()
    assert InboundMessage.objects.get(imap_uid=fine).status == "ticket"
    imap_mailbox.refresh_from_db()
    assert imap_mailbox.imap_last_uid == fine
