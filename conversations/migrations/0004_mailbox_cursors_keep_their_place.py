"""Mailboxes polled already keep their cursor: it was read in the folder they name now (as
``Mailbox.imap_cursor_key`` writes it)."""

from django.db import migrations


def keep_their_place(apps, schema_editor):
    Mailbox = apps.get_model("conversations", "Mailbox")
    for mailbox in Mailbox.objects.exclude(imap_uidvalidity=None):
        mailbox.imap_cursor_of = (
            f"{mailbox.imap_host.lower()}/{mailbox.imap_user}/{mailbox.imap_folder}"
        )
        mailbox.save(update_fields=["imap_cursor_of"])


class Migration(migrations.Migration):
    dependencies = [("conversations", "0003_mailbox_imap_cursor_of")]

    operations = [migrations.RunPython(keep_their_place, migrations.RunPython.noop)]
