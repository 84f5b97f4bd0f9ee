"""SFTP test server: Debian's OpenSSH sshd on 127.0.0.1 and a free port with its own config, an
ed25519 host key and a throwaway ed25519 client key (internal-sftp, key authentication only).
A known_hosts file with the host key is written under the server's own HOME, which env() hands to
dvx (dvx reads $HOME/.ssh/known_hosts). Interface: /work/notes/servers-interface.md."""

import getpass
import os
import shutil
import signal
import subprocess

import common

BACKEND = "sftp"
PERSISTENT = True
SSHD = "/usr/sbin/sshd"


def available():
    if not os.path.exists(SSHD):
        return "sshd not installed: run ./dev setup (package openssh-server)"
    if not shutil.which("ssh-keygen"):
        return "ssh-keygen not installed: run ./dev setup"
    if not os.path.isdir("/run/sshd") and os.geteuid() != 0:
        return "sshd needs its privilege separation folder /run/sshd (create it as root)"
    return None


LOCKED_KEY_PASSPHRASE = "locked-key-Passphrase-9071"


def _keygen(path, passphrase=""):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", "dvx-test", "-f", path], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _descendants(pid):
    """Every process below `pid` (per-connection sshd children start their own sessions, so a
    process-group kill does not reach them)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


class Server:
    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "sshd")
        self.home = os.path.join(self.dir, "home")
        self.data = os.path.join(self.dir, "data")
        self.port = None
        self.proc = None
        self.remotes = 0

    def __enter__(self):
        ssh = os.path.join(self.home, ".ssh")
        os.makedirs(ssh, exist_ok=True)
        os.makedirs(self.data, exist_ok=True)
        os.makedirs("/run/sshd", exist_ok=True)
        self.host_key = os.path.join(self.dir, "host_ed25519")
        self.client_key = os.path.join(self.dir, "client_ed25519")
        self.stranger_key = os.path.join(self.dir, "stranger_ed25519")  # never authorized
        self.locked_key = os.path.join(self.dir, "locked_ed25519")  # authorized, with LOCKED_KEY_PASSPHRASE
        for k in (self.host_key, self.client_key, self.stranger_key):
            _keygen(k)
        _keygen(self.locked_key, LOCKED_KEY_PASSPHRASE)
        with open(os.path.join(self.dir, "authorized_keys"), "w") as out:
            for k in (self.client_key, self.locked_key):
                with open(k + ".pub") as f:
                    out.write(f.read())
        self.port = common.free_port()
        with open(self.host_key + ".pub") as f:
            kind, blob = f.read().split()[:2]
        with open(os.path.join(ssh, "known_hosts"), "w") as f:
            f.write(f"[127.0.0.1]:{self.port} {kind} {blob}\n")
        self.config = os.path.join(self.dir, "sshd_config")
        with open(self.config, "w") as f:
            f.write(f"ListenAddress 127.0.0.1\nPort {self.port}\nHostKey {self.host_key}\n"
                    f"PidFile {self.dir}/sshd.pid\nAuthorizedKeysFile {self.dir}/authorized_keys\n"
                    "PermitRootLogin prohibit-password\nPasswordAuthentication no\n"
                    "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
                    "MaxStartups 100\nMaxSessions 100\nSubsystem sftp internal-sftp\n")
        self.log = os.path.join(self.dir, "sshd.log")
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        self.proc = common.Process([SSHD, "-D", "-e", "-f", self.config], self.log)
        p = self.proc.start()
        common.wait_until(lambda: common.port_open(self.port), 15, f"sshd on port {self.port}", proc=p, log=self.log)

    def stop(self):
        if self.proc is None or self.proc.proc is None:
            return
        pid = self.proc.proc.pid
        try:
            os.kill(pid, signal.SIGSTOP)  # no new connections while the tree is collected
        except ProcessLookupError:
            pass
        for child in _descendants(pid):
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.stop(sig=signal.SIGKILL)
        self.proc = None

    def new_remote(self, tag):
        self.remotes += 1
        path = os.path.join(self.data, f"{self.remotes}-{tag}")
        os.makedirs(path)
        return (f"ssh://{getpass.getuser()}@127.0.0.1:{self.port}{path}", {"keyfile": self.client_key})

    def env(self):
        return {"HOME": self.home}

    def bad_credentials(self, options):
        secret = "sftp-Pa55word-never-printed-4711"
        return dict(options, keyfile=self.stranger_key, password=secret, allow_agent="false"), secret
