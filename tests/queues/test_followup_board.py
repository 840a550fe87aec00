"""The follow-up board's date picker offers only the days the service accepts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from queues.followups import RESCHEDULE_MAX_DAYS


@pytest.mark.django_db
def test_the_reschedule_picker_runs_from_today_to_the_latest_day_allowed(
    client, salesperson, followup
):
    client.force_login(salesperson)
    html = client.get("/followups/").content.decode()
    today = timezone.localdate()
    latest = today + timedelta(days=RESCHEDULE_MAX_DAYS)
    assert f'name="reschedule_on" min="{today:%Y-%m-%d}" max="{latest:%Y-%m-%d}"' in html
