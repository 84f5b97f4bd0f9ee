"""Helpers shared by the real test servers in tests/servers/ (see the conformance suite,
tests/e2e/test_remote_conformance.py): a free port on 127.0.0.1, waiting for readiness, and a
server process that is started, stopped and restarted with its output kept for error messages."""

import os
import signal
import socket
import subprocess
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(predicate, timeout, what, proc=None, log=None):
    """Polls `predicate` until true; raises with `what` and the server's log when `timeout`
    seconds pass or `proc` exits first."""
    deadline = time.time() + timeout
    while True:
        try:
            if predicate():
                return
        except Exception:  # noqa: BLE001 - readiness probes fail in many ways until ready
            pass
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what}: the server exited with {proc.returncode}\n{read_log(log)}")
        if time.time() > deadline:
            raise RuntimeError(f"{what}: not ready after {timeout} s\n{read_log(log)}")
        time.sleep(0.05)


def read_log(path):
    if not path or not os.path.exists(path):
        return ""
    with open(path, "rb") as f:
        return f.read()[-4000:].decode("utf-8", "replace")


class Process:
    """A server process: output appended to `log`, its own process group (killed whole)."""

    def __init__(self, argv, log, env=None, cwd=None):
        self.argv, self.log, self.env, self.cwd = argv, log, env, cwd
        self.proc = None

    def start(self):
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env=self.env, cwd=self.cwd, start_new_session=True)
        return self.proc

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None
