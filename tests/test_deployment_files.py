"""docker-compose.yml is accepted by Compose (validated without a Docker engine)."""

import shutil
import subprocess

import pytest


def _compose_command() -> list[str] | None:
    if compose := shutil.which("docker-compose"):
        return [compose]
    if docker := shutil.which("docker"):
        probe = subprocess.run(  # noqa: S603
            [docker, "compose", "version"], capture_output=True, check=False
        )
        if probe.returncode == 0:
            return [docker, "compose"]
    return None


def test_docker_compose_file_is_valid():
    command = _compose_command()
    if command is None:
        pytest.skip("neither docker compose nor docker-compose is installed (.ci/run installs it)")
    result = subprocess.run(  # noqa: S603
        [*command, "config", "--services"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == {"postgres", "redis", "migrate", "web", "worker", "beat"}
