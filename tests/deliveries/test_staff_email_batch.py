"""Staff emails stored together are published together after commit, as one task, and a broker
that is down loses none of them: they stay pending for the deliveries sweep."""

import pytest

from deliveries import staff_emails
from deliveries.tasks import send_email_deliveries

pytestmark = pytest.mark.django_db


def test_nothing_is_published_before_commit_and_all_after(
    monkeypatch, django_capture_on_commit_callbacks
):
    published = []
    monkeypatch.setattr(send_email_deliveries, "apply_async", lambda args: published.append(args))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        ids = staff_emails.staff_emails_send_on_commit()
        ids += [7, 8]
        assert published == []
    assert len(callbacks) == 1
    assert published == [([7, 8],)]


def test_a_broker_that_is_down_is_logged_not_raised(
    monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(send_email_deliveries, "apply_async", down)
    with django_capture_on_commit_callbacks(execute=True):
        staff_emails.staff_emails_send_on_commit().append(7)
    assert "Could not enqueue staff emails [7]" in caplog.text
