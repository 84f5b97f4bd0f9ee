"""What only the SFTP remote has: host keys checked against $HOME/.ssh/known_hosts (an unknown or
changed key is an error naming the host and the fix), login errors that name the user and what
was tried without printing the password. Against a real sshd (tests/servers/sshd.py); transfers
themselves are in the shared conformance suite (test_remote_conformance.py)."""

import os
import shutil
import sys
import tempfile
import unittest

import dvxtest

sys.path.insert(0, os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "servers")))
import sshd  # noqa: E402

REASON = sshd.available()


@unittest.skipIf(REASON, REASON or "")
class SftpRemote(dvxtest.DvxTestCase):
    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="dvx-sftp-")
        cls.server = sshd.Server(cls.workdir).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)
        shutil.rmtree(cls.workdir, ignore_errors=True)

    def setUp(self):
        super().setUp()
        self.known_hosts = os.path.join(self.server.home, ".ssh", "known_hosts")
        with open(self.known_hosts) as f:
            self.good_known_hosts = f.read()
        self.addCleanup(lambda: dvxtest.DvxTestCase.write(self, self.known_hosts, self.good_known_hosts))
        self.init_git()
        self.dvx("init", "-q")
        self.write(self.p("f.txt"), b"over ssh\n")
        self.dvx("add", "f.txt")
        url, options = self.server.new_remote("t")
        self.url = url
        self.dvx("remote", "add", "-d", "r", url)
        for k, v in options.items():
            self.dvx("remote", "modify", "r", k, v)

    def push(self, env=None):
        return self.run("push", env=dict(self.server.env(), **(env or {})))

    def test_push_and_host_key_known(self):
        code, out, err = self.push()
        self.assertEqual((code, out), (0, "1 file pushed\n"), err)
        oid = dvxtest.md5_bytes(b"over ssh\n")
        path = self.url.split(f":{self.server.port}", 1)[1]
        obj = os.path.join(path, "files", "md5", oid[:2], oid[2:])
        with open(obj, "rb") as f:
            self.assertEqual(f.read(), b"over ssh\n")
        self.assertEqual([n for n in os.listdir(os.path.dirname(obj)) if n.endswith(".tmp")], [])

    def test_unknown_host_key_is_refused(self):
        os.makedirs(os.path.join(self.tmp, "nohome", ".ssh"))
        code, out, err = self.push(env={"HOME": os.path.join(self.tmp, "nohome")})
        self.assertNotEqual(code, 0)
        self.assertIn(f"127.0.0.1:{self.server.port}", err)
        self.assertIn("unknown", err)
        self.assertIn(f"ssh-keyscan -p {self.server.port} 127.0.0.1", err)

    def test_changed_host_key_is_refused(self):
        with open(self.server.stranger_key + ".pub") as f:
            kind, blob = f.read().split()[:2]
        self.write(self.known_hosts, f"[127.0.0.1]:{self.server.port} {kind} {blob}\n")
        code, out, err = self.push()
        self.assertNotEqual(code, 0)
        self.assertIn(f"127.0.0.1:{self.server.port}", err)
        self.assertIn("does not match", err)
        self.assertIn(f"-R '[127.0.0.1]:{self.server.port}'", err)

    def test_wrong_key_and_password_never_printed(self):
        secret = "Pa55-word-of-the-sftp-test"
        self.dvx("remote", "modify", "--local", "r", "keyfile", self.server.stranger_key)
        self.dvx("remote", "modify", "--local", "r", "password", secret)
        for cmd in (("push",), ("status", "-c")):
            code, out, err = self.run(*cmd, env=self.server.env())
            self.assertNotEqual(code, 0, cmd)
            self.assertNotIn(secret, out + err)
        code, out, err = self.push()
        self.assertIn("permission denied for", err)
        self.assertIn(os.path.basename(self.server.stranger_key), err)

    def test_ask_passphrase_prompts_on_the_terminal(self):
        # DVC's ask_passphrase: the key's passphrase is typed on the terminal, never printed.
        self.dvx("remote", "modify", "r", "keyfile", self.server.locked_key)
        self.dvx("remote", "modify", "r", "allow_agent", "false")
        self.dvx("remote", "modify", "r", "ask_passphrase", "true")
        code, shown, prompts = self.run_on_terminal(["push"], sshd.LOCKED_KEY_PASSPHRASE, env=self.server.env())
        self.assertEqual(code, 0, shown)
        user = self.url.split("//")[1].split("@")[0]
        self.assertEqual(prompts, [f"Enter a private key passphrase for host '127.0.0.1' port '{self.server.port}' "
                                   f"user '{user}':"], shown)
        self.assertNotIn(sshd.LOCKED_KEY_PASSPHRASE, shown)
        self.assertIn("1 file pushed", shown)

    def test_user_option_overrides_the_url(self):
        self.dvx("remote", "modify", "r", "user", "nobody-here")
        code, out, err = self.push()
        self.assertNotEqual(code, 0)
        self.assertIn("nobody-here@127.0.0.1", err)


if __name__ == "__main__":
    unittest.main()
