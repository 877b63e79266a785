"""The preprocess pipeline on Beam's portable path, the Fn API path that Flink and Spark use: a local job service
and an EXTERNAL worker pool as separate processes on 127.0.0.1.

    [unshare -n] python -m tests.support.portable_job PREPROCESS_ARGS...

Both servers listen on every interface, so the test runs this inside a loopback-only network namespace when it
can (MUSICVAE_NETNS=1 brings the namespace's loopback up first)."""

import fcntl
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

from pipelines import preprocess
from tests.support import ROOT


def loopback_up() -> None:
    """`ip link set lo up` without iproute2: SIOCGIFFLAGS / SIOCSIFFLAGS on lo."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        flags = struct.unpack("16sH", fcntl.ioctl(s, 0x8913, struct.pack("16sH", b"lo", 0)))[1]
        fcntl.ioctl(s, 0x8914, struct.pack("16sH", b"lo", flags | 0x1))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"{server.args} exited with {server.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


def main(args: list[str]) -> None:
    if os.environ.get("MUSICVAE_NETNS") == "1":
        loopback_up()
    job_port, pool_port = free_port(), free_port()
    # The pool starts workers as `python -c ...` from PATH, and they must import this project's DoFns.
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
    }
    servers = [
        subprocess.Popen([sys.executable, "-m", module, flag, str(port)], env=env, start_new_session=True)
        for module, flag, port in (
            ("apache_beam.runners.worker.worker_pool_main", "--service_port", pool_port),
            ("apache_beam.runners.portability.local_job_service_main", "--port", job_port),
        )
    ]
    try:
        for server, port in zip(servers, (pool_port, job_port)):
            wait_for(port, server)
        preprocess.run(
            [
                *args,
                "--runner",
                "PortableRunner",
                "--job_endpoint",
                f"localhost:{job_port}",
                "--environment_type",
                "EXTERNAL",
                "--environment_config",
                f"localhost:{pool_port}",
            ]
        )
    finally:
        for server in servers:  # the pool's workers are in its process group
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


if __name__ == "__main__":
    main(sys.argv[1:])
