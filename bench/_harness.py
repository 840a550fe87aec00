"""What the end-to-end benchmarks share: starting and stopping servers and workers, loading an
HTTP endpoint over kept connections, percentiles and rates, and what machine and code ran."""

import http.client
import itertools
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _setup import percentile


class Processes:
    """The processes this run started, each in a session of its own (so its children, gunicorn's
    and Celery's workers, can be stopped with it), logged to one file each."""

    def __init__(self) -> None:
        self.logs = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str], env: dict, cwd: Path) -> None:
        log = (self.logs / f"{name}.log").open("ab")
        self.running[name] = subprocess.Popen(  # noqa: S603 - our own servers on loopback
            argv,
            cwd=cwd,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self, name: str) -> None:
        proc = self.running.pop(name)
        proc.terminate()  # the master or main process shuts its children down
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        try:  # whatever of its session is left
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()

    def stop_all(self) -> None:
        for name in list(self.running):
            self.stop(name)

    def check(self) -> None:
        for name, proc in self.running.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}; see {self.logs}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(procs: Processes, port: int, path: str, token: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        procs.check()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path, headers={"Authorization": f"Token {token}"})
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing answers 200 on :{port}{path}; see {procs.logs}")
        time.sleep(0.2)


def smtp_relay(procs: Processes, cwd: Path) -> dict:
    """A local SMTP server that accepts and discards mail (aiosmtpd's ``Sink``): the worker sends
    as it would to a deployment's relay, not to the console backend, whose output Celery turns
    into log lines. The settings that point the worker at it."""
    port = free_port()
    argv = [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}"]
    procs.start("smtp-relay", [*argv, "-c", "aiosmtpd.handlers.Sink"], {}, cwd)
    deadline = time.monotonic() + 30
    while True:
        procs.check()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                if sock.recv(64).startswith(b"220"):
                    return {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(port)}
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the SMTP relay does not answer on :{port}; see {procs.logs}")
        time.sleep(0.1)


def spread(values: list[float]) -> dict:
    return {
        "p50_ms": round(statistics.median(values), 2),
        "p95_ms": round(percentile(values, 0.95), 2),
        "p99_ms": round(percentile(values, 0.99), 2),
    }


def post_load(port: int, path: str, token: str, body, total: int, *, connections: int) -> dict:
    """``total`` POSTs over ``connections`` client connections kept open (reopened when the
    server closes one: gunicorn's sync workers answer ``Connection: close``)."""
    counter = itertools.count()
    timings: list[float] = []
    failures: list[str] = []
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        while (index := next(counter)) < total:
            payload = json.dumps(body(index))
            started = time.perf_counter()
            conn.request("POST", path, payload, headers)
            response = conn.getresponse()
            content = response.read()
            mine.append((time.perf_counter() - started) * 1000)
            if response.status != 201:
                failures.append(f"{response.status} {content[:200]!r}")
        conn.close()
        timings.extend(mine)

    elapsed = run_together([threading.Thread(target=client) for _ in range(connections)])
    if failures:
        raise RuntimeError(f"{len(failures)} creates failed, first: {failures[0]}")
    return {"requests": total, "per_s": round(total / elapsed, 1), **spread(timings)}


def run_together(threads: list[threading.Thread]) -> float:
    """Start the client threads at once, wait for them all; the seconds that took."""
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def rate(times: list[float]) -> float:
    """Completions per second between the first and the last completion."""
    return round((len(times) - 1) / (max(times) - min(times)), 1)


def machine() -> dict:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {"cpus": os.cpu_count(), "cpu": model, "python": platform.python_version()}


def code_version(root: Path) -> str:
    """The commit measured: ``git describe`` of the checkout, or BENCH_CODE_VERSION (an export
    of a commit has no .git)."""
    if version := os.environ.get("BENCH_CODE_VERSION"):
        return version
    done = subprocess.run(  # noqa: S603
        ["git", "describe", "--always", "--dirty"],  # noqa: S607
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"
