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
    assert set(result.stdout.split()) == {
        "postgres",
        "redis",
        "migrate",
        "web",
        "worker-routing",
        "worker-deliveries",
        "worker-inbound",
        "worker-reports",
        "beat",
    }


def test_each_queue_has_its_worker_and_every_service_a_health_check():
    """A worker per Celery queue, each taking only its own (-Q), and health checks for the
    web tier, each worker and beat."""
    import yaml

    from helpdesk.celery_queues import QUEUES

    compose = yaml.safe_load(open("docker-compose.yml"))  # noqa: PTH123, SIM115
    services = compose["services"]
    for queue in QUEUES:
        command = services[f"worker-{queue}"]["command"]
        assert command[command.index("-Q") + 1] == queue
        assert "healthcheck" in services[f"worker-{queue}"]
    assert "healthz" in " ".join(services["web"]["healthcheck"]["test"])
    assert services["beat"]["healthcheck"]["test"][-3:] == ["readyz", "--only", "database,broker"]
    assert services["web"]["environment"]["PROMETHEUS_MULTIPROC_DIR"]
