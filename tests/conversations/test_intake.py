"""Storing a message as received: once per Message-ID (or per content, without one), its bytes
in one file, and nothing left behind by a copy already known."""

from pathlib import Path
from unittest import mock

import pytest

from conversations.intake import inbound_store
from conversations.models import InboundMessage
from tests.conversations.conftest import customer_email

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.fixture
def enqueued():
    with mock.patch("conversations.intake.enqueue_on_commit") as enqueue:
        yield enqueue


def _files(media: Path) -> list[Path]:
    return sorted(path for path in media.rglob("*.eml"))


def _copy_to(address: str) -> bytes:
    mail = customer_email(subject="Printer on fire", message_id="<fire@customer.example>")
    mail["Delivered-To"] = address
    return bytes(mail)


def test_the_same_bytes_twice_are_one_message_and_one_file(media, enqueued, mailbox):
    raw = _copy_to("support@example.com")
    first, created = inbound_store(raw=raw, source="pipe", mailbox=mailbox)
    again, created_again = inbound_store(raw=raw, source="imap", mailbox=mailbox)
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert InboundMessage.objects.count() == 1
    assert enqueued.call_count == 1  # processed once
    assert [path.read_bytes() for path in _files(media)] == [raw]


def test_a_copy_with_other_headers_leaves_no_file_behind(media, enqueued, mailbox):
    """The same Message-ID delivered to two of our addresses: one message, and the second
    copy's bytes are not kept (no row names them)."""
    first, _ = inbound_store(raw=_copy_to("support@example.com"), source="pipe", mailbox=mailbox)
    copy, created = inbound_store(raw=_copy_to("sales@example.com"), source="pipe")
    assert not created
    assert copy.pk == first.pk
    assert [path.name for path in _files(media)] == [Path(first.raw.name).name]
    assert first.raw.open("rb").read() == _copy_to("support@example.com")


def test_without_a_message_id_the_content_is_the_key(media, enqueued):
    raw = b"From: someone@example.com\r\nSubject: no id\r\n\r\nHello\r\n"
    first, _ = inbound_store(raw=raw, source="pipe")
    again, created = inbound_store(raw=raw, source="pipe")
    assert not created
    assert again.pk == first.pk
    assert first.dedupe_key == f"sha256:{first.sha256}"
    other, created_other = inbound_store(raw=raw + b"PS\r\n", source="pipe")
    assert created_other
    assert other.pk != first.pk
    assert len(_files(media)) == 2


def test_storing_a_new_message_is_one_statement(
    media, enqueued, mailbox, django_assert_num_queries
):
    with django_assert_num_queries(1):
        inbound_store(raw=_copy_to("support@example.com"), source="pipe", mailbox=mailbox)


def test_a_large_copy_already_known_writes_no_file(media, enqueued, mailbox, monkeypatch):
    """Over LOOK_FIRST_BYTES a copy is looked for first: nothing is written for it."""
    from conversations import intake

    monkeypatch.setattr(intake, "LOOK_FIRST_BYTES", 100)
    first, _ = inbound_store(raw=_copy_to("support@example.com"), source="pipe", mailbox=mailbox)
    saved = []
    real_save = intake.default_storage.save
    monkeypatch.setattr(
        intake.default_storage, "save", lambda *a, **k: saved.append(a[0]) or real_save(*a, **k)
    )
    copy, created = inbound_store(raw=_copy_to("sales@example.com"), source="pipe")
    assert not created
    assert copy.pk == first.pk
    assert saved == []


def test_two_long_message_ids_alike_up_to_the_column_size_are_two_messages(
    media, enqueued, mailbox
):
    """Ids longer than the column keep a digest of the whole: cut short, the second message
    would be taken for a duplicate of the first and lost."""
    from conversations.mime import normalise_message_id

    stem = "x" * 260
    stored = []
    for ending in ("a", "b"):
        raw = (
            f"From: ada@customer.example\r\nTo: support@example.com\r\nSubject: {ending}\r\n"
            f"Message-ID: <{stem}{ending}@customer.example>\r\n\r\nHello.\r\n"
        ).encode()
        inbound, created = inbound_store(raw=raw, source="pipe", mailbox=mailbox)
        assert created
        stored.append(inbound)
    assert stored[0].pk != stored[1].pk
    # The same long id always comes out the same: a reply quoting it still threads.
    long_id = f"<{stem}a@customer.example>"
    assert normalise_message_id(long_id) == normalise_message_id(f" {long_id} ")
    assert len(normalise_message_id(long_id)) <= 250


def test_a_file_cut_short_by_a_writer_that_died_is_written_again(media, enqueued, mailbox):
    from conversations.intake import _raw_name, dedupe_key

    raw = _copy_to("support@example.com")
    _, digest = dedupe_key(raw)
    partial = media / _raw_name(digest)
    partial.parent.mkdir(parents=True)
    partial.write_bytes(raw[:40])  # the pipe was killed mid-write; the mail server retries
    inbound, created = inbound_store(raw=raw, source="pipe", mailbox=mailbox)
    assert created
    assert inbound.raw.read() == raw


def test_a_new_file_is_on_disk_before_the_message_is_acknowledged(
    media, enqueued, mailbox, monkeypatch
):
    import os

    flushed = []
    real = os.fsync

    def fsync(descriptor):
        flushed.append(os.readlink(f"/proc/self/fd/{descriptor}"))
        return real(descriptor)

    monkeypatch.setattr(os, "fsync", fsync)
    raw = _copy_to("support@example.com")
    inbound, _ = inbound_store(raw=raw, source="pipe", mailbox=mailbox)
    path = inbound.raw.path
    # Written under a name of its own, flushed, renamed onto its name, the folder flushed:
    # never seen part-written, by a reader or by a second writer.
    written, folder = flushed
    assert folder == os.path.dirname(path)
    assert os.path.dirname(written) == folder
    assert written != path
    assert not os.path.exists(written)
    assert inbound.raw.read() == raw
    assert [name for name in os.listdir(folder) if name.startswith(".incoming-")] == []
