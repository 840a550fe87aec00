"""What the navigation shows of the mail on every page: how many messages wait for a rep."""

from django.utils.functional import SimpleLazyObject

from conversations.selectors import waiting_mail_count


def mail_counts(request) -> dict:
    """Lazy, as the queues' counts are: a fragment rendered without the navigation costs no
    query for it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_mail": SimpleLazyObject(lambda: {"waiting": waiting_mail_count()})}
