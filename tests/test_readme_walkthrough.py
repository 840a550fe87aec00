"""The README's API walkthrough, run as written: its own curl commands, with rita's token from
`seed_demo`, against a live server with a real Celery worker routing the ticket."""

import json
import re
import shlex
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from tests.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, reset_sequences=True)]

README = Path(__file__).resolve().parents[1] / "README.md"
README_ADDRESS = "http://127.0.0.1:8000"


def readme_curl_commands() -> list[str]:
    """The curl commands of the README's API walkthrough, continuation lines joined."""
    text = README.read_text()
    walkthrough = text[text.index("Try the API with rita's token") :]
    block = walkthrough[: walkthrough.index("\n\n", walkthrough.index("curl"))]
    joined = re.sub(r"\\\n\s*", " ", block)
    return [line.strip() for line in joined.splitlines() if line.strip().startswith("curl")]


def run_curl(command: str, *, token: str, address: str) -> dict:
    command = command.replace(README_ADDRESS, address).replace("$TOKEN", token)
    args = shlex.split(command)
    assert args[0] == "curl"
    result = subprocess.run(  # noqa: S603 - the README's own commands, aimed at the test server
        args, capture_output=True, text=True, check=True, timeout=30
    )
    return json.loads(result.stdout)


def test_the_readmes_api_walkthrough_works_as_rita(live_server, live_worker):
    call_command("seed_demo", stdout=StringIO())
    token = Token.objects.get(user__username="rita").key
    find, create, notifications = readme_curl_commands()

    found = run_curl(find, token=token, address=live_server.url)
    assert [customer["name"] for customer in found["results"]] == ["Cobalt Labs"]
    # The README names Cobalt by its id in a fresh demo.
    assert f'"customer": {found["results"][0]["id"]}' in create

    ticket = run_curl(create, token=token, address=live_server.url)
    assert ticket["subject"] == "Crash on save"

    # "The bug for Cobalt is in the engineering and finance queues", and rita may see that.
    listed = notifications.replace("<id>", str(ticket["id"]))
    wait_for(
        lambda: (
            {
                item["department"]
                for item in run_curl(listed, token=token, address=live_server.url)["results"]
            }
            == {"engineering", "finance"}
        )
    )
