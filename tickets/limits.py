"""How much a ticket may hold, checked at the edge (forms and API serializers) so that input no
help desk needs is refused with a clear 400 rather than failing deep in the database.

The sizes are documented in docs/api.md ("Limits"); change them there too.
"""

from django.core.exceptions import ValidationError

# A description, resolution, note, call summary or answer. Long enough for a pasted log or stack
# trace; bounded so one text cannot fill the search index on its own (PostgreSQL's tsvector holds
# at most 1 MB of lexemes, and distinct words cost about twice their length in it).
TEXT_MAX_LENGTH = 100_000

# Tags: enough to classify a ticket, few enough to read at a glance in the list.
TAGS_MAX_PER_TICKET = 20
TAG_MAX_LENGTH = 50

# Whatever a ticket accumulates, its search index is built from as much of its search text as
# PostgreSQL's tsvector can hold (tickets migration 0013), so no write fails for its words.


def one_line(value: str) -> None:
    """Refuse a line break in a one-line field: a subject becomes an email header, where one
    would make every email of the ticket fail to send."""
    if "\n" in value or "\r" in value:
        raise ValidationError("Write it on one line (no line breaks).", code="one_line")
