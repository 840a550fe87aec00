"""Prepare the baseline's database (migrated, one user with a token) and count the SQL of one
create through Django's test client. Prints JSON: the token and the counts.

Run by ``bench/pipeline.py`` in a process of its own, since one process holds one Django.
"""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["DJANGO_SETTINGS_MODULE"] = "baseline.settings"


def main() -> None:
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from rest_framework.authtoken.models import Token
    from sqlcount import count_request

    call_command("migrate", verbosity=0)
    user = User.objects.create_user("bench", password=None)
    token = Token.objects.create(user=user).key
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    body = {
        "kind": "bug",
        "channel": "api",
        "subject": "Export fails",
        "description": "Steps",
        "customer_id": 1,
        "product": "Reports",
        "priority": "high",
    }
    for _ in range(3):  # warm up: the first request loads what later ones find cached
        client.post("/entries/", body, content_type="application/json")
    with count_request(connection) as counts:
        response = client.post("/entries/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    connection.close()
    print(json.dumps({"token": token, "sql_per_create": counts.summary()}))


if __name__ == "__main__":
    main()
