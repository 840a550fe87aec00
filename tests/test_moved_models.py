"""Queue items, follow-ups, deliveries and webhooks moved out of routing into apps of their own.

The move changes no table: the rows written before it are the rows read after it, permissions
granted on the models stay granted, and the admin's old addresses lead to the new ones.
"""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from deliveries.models import Webhook
from queues.models import Notification

BEFORE_THE_MOVE = [("routing", "0010_rule_set_revision"), ("queues", None), ("deliveries", None)]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


def _latest():
    executor = MigrationExecutor(connection)
    return [key for key in executor.loader.graph.leaf_nodes() if key[0] in ("queues", "deliveries")]


@pytest.mark.django_db(transaction=True)
def test_rows_and_permissions_written_before_the_move_are_there_after_it():
    latest = _latest()
    ContentType.objects.clear_cache()
    old_apps = _migrate(BEFORE_THE_MOVE)
    try:
        # As a database from before the move has them: the models and their content types in
        # routing, with a permission granted on one of them.
        old_webhook = old_apps.get_model("routing", "Webhook")
        old_webhook.objects.create(name="crm", url="https://crm.example.com/hook", secret="s")
        # (Migrating back moved any content types the test database has back to routing.)
        content_type, _ = ContentType.objects.get_or_create(app_label="routing", model="webhook")
        permission, _ = Permission.objects.get_or_create(
            content_type=content_type, codename="change_webhook", name="Can change webhook"
        )
        ContentType.objects.get_or_create(app_label="routing", model="notification")
        # The new code ran before migrate and made its own content type under the new name.
        ContentType.objects.get_or_create(app_label="deliveries", model="webhook")
    finally:
        _migrate(latest)
    ContentType.objects.clear_cache()

    assert Webhook.objects.get(name="crm").url == "https://crm.example.com/hook"
    permission.refresh_from_db()
    assert (permission.content_type.app_label, permission.content_type.model) == (
        "deliveries",
        "webhook",
    )
    assert ContentType.objects.filter(app_label="queues", model="notification").exists()
    assert not ContentType.objects.filter(app_label="routing", model="notification").exists()
    assert Notification._meta.db_table == "routing_notification"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/admin/routing/notification/", "/admin/queues/notification/"),
        ("/admin/routing/followuptask/3/change/", "/admin/queues/followuptask/3/change/"),
        ("/admin/routing/webhook/add/", "/admin/deliveries/webhook/add/"),
        (
            "/admin/routing/emaildelivery/?status=failed",
            "/admin/deliveries/emaildelivery/?status=failed",
        ),
    ],
)
def test_the_admins_old_addresses_lead_to_the_new_ones(client, old, new):
    response = client.get(old)
    assert response.status_code == 301
    assert response["Location"] == new


def test_the_rules_admin_stays_where_it_was(client, admin_user):
    client.force_login(admin_user)
    assert client.get("/admin/routing/rule/").status_code == 200
