"""Run the services as real background processes, with pids and logs in the run directory.

`python -m casestream.procs up|down|status` backs `make up`, `make down` and `make status`;
the e2e tests use the same functions, so what the tests start is what a user starts.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    command: tuple[str, ...]
    grpc_port: int  # 0 = no gRPC (health is then the process being alive)
    metrics_port: int
    group: str = ""  # consumer group, for lag in `status`


SERVICES: dict[str, ServiceSpec] = {
    s.name: s for s in (
        ServiceSpec("smtp-sink", ("python", "-m", "notify.adapters.smtp_sink"), 0, 0),
        ServiceSpec("intake", ("casestream-intake",), 50051, 9101, "casestream-intake"),
        ServiceSpec("escalation", ("casestream-escalation",), 50052, 9102, "casestream-escalation"),
        ServiceSpec("billing", ("casestream-billing",), 50053, 9103, "casestream-billing"),
        ServiceSpec("notify", ("casestream-notify",), 50054, 9104, "casestream-notify"),
        ServiceSpec("auditor", ("casectl", "auditor", "run"), 0, 9105, "casestream-auditor"),
    )
}


def _bin(venv_bin: Path, cmd: tuple[str, ...]) -> list[str]:
    head = cmd[0]
    local = venv_bin / head
    if head == "python":
        return [sys.executable, *cmd[1:]]
    return [str(local) if local.exists() else head, *cmd[1:]]


def installed(spec: ServiceSpec) -> bool:
    """A service is part of the stack once its entry point is installed."""
    venv_bin = Path(sys.executable).parent
    if spec.command[0] == "python":
        import importlib.util

        return importlib.util.find_spec(spec.command[2].rsplit(".", 1)[0].split(".")[0]) is not None
    return (venv_bin / spec.command[0]).exists() or shutil.which(spec.command[0]) is not None


def health(port: int, timeout: float = 1.0) -> str:
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            resp = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
            return health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)
    except grpc.RpcError as e:
        return e.code().name


class Process:
    """One started service process."""

    def __init__(self, spec: ServiceSpec, run_dir: Path, env: dict[str, str], grpc_port: int | None = None,
                 metrics_port: int | None = None, instance: str = "0") -> None:
        self.spec = spec
        self.run_dir = run_dir
        self.grpc_port = spec.grpc_port if grpc_port is None else grpc_port
        self.metrics_port = spec.metrics_port if metrics_port is None else metrics_port
        self.log_path = run_dir / "logs" / f"{spec.name}.log"
        self.pid_path = run_dir / "pids" / f"{spec.name}.pid"
        self.env = {**os.environ, **env, "CASESTREAM_RUN_DIR": str(run_dir), "CASESTREAM_INSTANCE_ID": instance,
                    "CASESTREAM_GRPC_PORT": str(self.grpc_port), "CASESTREAM_METRICS_PORT": str(self.metrics_port)}
        self.popen: subprocess.Popen | None = None

    def start(self) -> "Process":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.pid_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.popen = subprocess.Popen(_bin(Path(sys.executable).parent, self.spec.command), env=self.env,
                                      stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.pid_path.write_text(str(self.popen.pid))
        return self

    def wait_serving(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen is not None and self.popen.poll() is not None:
                raise RuntimeError(f"{self.spec.name} exited with {self.popen.returncode}; see {self.log_path}:\n"
                                   + self.tail())
            if not self.grpc_port or health(self.grpc_port) == "SERVING":
                if not self.grpc_port:
                    time.sleep(1.0)
                return
            time.sleep(0.2)
        raise TimeoutError(f"{self.spec.name} not SERVING after {timeout}s; see {self.log_path}:\n" + self.tail())

    def tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int | None:
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)
        self.pid_path.unlink(missing_ok=True)
        return self.popen.returncode

    def kill9(self) -> None:
        """SIGKILL the whole process group (intake's sequencer workers too), as a crashed pod."""
        if self.popen is not None and self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.stop(signal.SIGKILL)


def _run_dir() -> Path:
    return Path(os.environ.get("CASESTREAM_RUN_DIR", ".run")).resolve()


def up(names: list[str] | None = None) -> None:
    run_dir = _run_dir()
    specs = [SERVICES[n] for n in (names or SERVICES) if installed(SERVICES[n])]
    started = []
    for spec in specs:
        pid_file = run_dir / "pids" / f"{spec.name}.pid"
        if pid_file.exists() and _alive(int(pid_file.read_text())):
            print(f"  {spec.name:<11} already running (pid {pid_file.read_text()})")
            continue
        env = {"CASESTREAM_SMTP_SINK_DIR": str(run_dir / "mail")}
        started.append(Process(spec, run_dir, env).start())
    for p in started:
        p.wait_serving()
        port = f"gRPC :{p.grpc_port}" if p.grpc_port else "no gRPC"
        print(f"  {p.spec.name:<11} SERVING  {port:<12} pid {p.popen.pid}  log {p.log_path}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def down() -> None:
    pids = _run_dir() / "pids"
    for name in reversed(list(SERVICES)):
        f = pids / f"{name}.pid"
        if not f.exists():
            continue
        pid = int(f.read_text())
        if _alive(pid):
            os.killpg(pid, signal.SIGTERM)
            for _ in range(150):
                if not _alive(pid):
                    break
                time.sleep(0.2)
            else:
                os.killpg(pid, signal.SIGKILL)
            print(f"  {name:<11} stopped")
        f.unlink(missing_ok=True)


def lag(group: str, bootstrap: str) -> int | None:
    try:
        from kafka import KafkaConsumer
        from kafka.admin import KafkaAdminClient

        from casestream import topics

        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        try:
            committed = admin.list_group_offsets(topics.group(group)).get(topics.group(group), {})
        finally:
            admin.close()
        if not committed:
            return None
        c = KafkaConsumer(bootstrap_servers=bootstrap)
        try:
            ends = c.end_offsets(list(committed))
        finally:
            c.close()
        return sum(max(0, ends[tp] - om.offset) for tp, om in committed.items() if om.offset >= 0)
    except Exception:
        return None


def status() -> int:
    run_dir = _run_dir()
    bootstrap = os.environ.get("CASESTREAM_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    bad = 0
    print(f"  {'service':<11} {'health':<12} {'port':<7} {'lag':>6}  pid")
    for spec in SERVICES.values():
        if not installed(spec):
            continue
        f = run_dir / "pids" / f"{spec.name}.pid"
        pid = int(f.read_text()) if f.exists() else None
        alive = pid is not None and _alive(pid)
        state = (health(spec.grpc_port) if spec.grpc_port else "RUNNING") if alive else "DOWN"
        bad += state not in ("SERVING", "RUNNING")
        lg = lag(spec.group, bootstrap) if spec.group and alive else None
        print(f"  {spec.name:<11} {state:<12} {spec.grpc_port or '-':<7} {'-' if lg is None else lg:>6}  {pid or '-'}")
    return 1 if bad else 0


def main() -> None:
    p = argparse.ArgumentParser(description="Start, stop and inspect the Casestream services.")
    p.add_argument("action", choices=["up", "down", "status"])
    p.add_argument("services", nargs="*")
    a = p.parse_args()
    if a.action == "up":
        up(a.services or None)
    elif a.action == "down":
        down()
    else:
        sys.exit(status())


if __name__ == "__main__":
    main()
