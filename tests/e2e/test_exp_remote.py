#!/usr/bin/env python3
"""Experiments and Git remotes: `exp push`, `exp pull`, `exp list <git_remote>`, `exp remove -g`
(DVC 3.64's messages), against a bare repository over file:// and through `git daemon` on
127.0.0.1. Refs are checked with the git CLI on the bare repository, data on the DVC remote (a
folder) by the objects' paths.
"""
import hashlib
import os
import shutil
import socket
import subprocess
import time
import unittest

from dvxtest import DvxTestCase

DVC_REAL = shutil.which("dvc-real")

TRAIN_PY = (
    "import json\n"
    "lr = None\n"
    "for line in open('params.yaml'):\n"
    "    if line.startswith('lr:'):\n"
    "        lr = float(line.split(':', 1)[1])\n"
    "open('model.bin', 'w').write(f'model trained with lr={lr}\\n')\n"
    "json.dump({'acc': lr * 2}, open('metrics.json', 'w'))\n"
)
DVC_YAML = (
    "stages:\n"
    "  train:\n"
    "    cmd: python3 train.py\n"
    "    deps:\n"
    "    - train.py\n"
    "    params:\n"
    "    - lr\n"
    "    outs:\n"
    "    - model.bin\n"
    "    metrics:\n"
    "    - metrics.json:\n"
    "        cache: false\n"
)


def model_md5(lr):
    return hashlib.md5(f"model trained with lr={lr}\n".encode()).hexdigest()


class ExpRemoteCase(DvxTestCase):
    def setUp(self):
        super().setUp()
        self.store = os.path.join(self.tmp, "store")
        os.makedirs(self.store)
        self.bare = os.path.join(self.tmp, "origin.git")
        subprocess.run(["git", "init", "-q", "--bare", self.bare], check=True, env=self.env)
        config = f"[core]\n    remote = store\n['remote \"store\"']\n    url = {self.store}\n"
        self.make_repo(config=config.encode())
        self.write("params.yaml", "lr: 0.1\n")
        self.write("train.py", TRAIN_PY)
        self.write("dvc.yaml", DVC_YAML)
        self.commit_all("pipeline")
        self.baseline = self.git("rev-parse", "HEAD").strip()
        self.git("remote", "add", "origin", "file://" + self.bare)
        self.git("push", "-q", "origin", "main")

    def ref(self, name):
        return f"refs/exps/{self.baseline[:2]}/{self.baseline[2:]}/{name}"

    def refs_of(self, git_dir):
        out = subprocess.run(["git", "--git-dir", git_dir, "for-each-ref", "--format=%(refname) %(objectname)",
                              "refs/exps"], stdout=subprocess.PIPE, check=True, env=self.env).stdout.decode()
        return dict(line.split() for line in out.splitlines())

    def local_sha(self, name, cwd=None):
        return self.git("rev-parse", self.ref(name), cwd=cwd).strip()

    def on_store(self, md5):
        return os.path.exists(os.path.join(self.store, "files", "md5", md5[:2], md5[2:]))

    def in_cache(self, md5, repo):
        return os.path.exists(os.path.join(repo, ".dvc", "cache", "files", "md5", md5[:2], md5[2:]))

    def exp_run(self, name, lr, cwd=None):
        self.dvx("exp", "run", "-n", name, "-S", f"lr={lr}", cwd=cwd)

    def clone(self, url, name="clone"):
        path = os.path.join(self.tmp, name)
        subprocess.run(["git", "clone", "-q", "-b", "main", url, path], check=True, env=self.env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.git("config", "user.name", "DVX Tests", cwd=path)
        self.git("config", "user.email", "tests@dvx.invalid", cwd=path)
        return path


class TestExpPushPullFileUrl(ExpRemoteCase):
    def test_push_pull_conflicts_list_remove(self):
        self.exp_run("exp-a", 0.2)
        self.exp_run("exp-b", 0.3)

        # push: ref and data arrive.
        out = self.dvx("exp", "push", "origin", "exp-a")
        self.assertIn("Pushed experiment exp-a to Git remote 'origin'.", out)
        self.assertIn("1 file uploaded", out)
        self.assertEqual(self.refs_of(self.bare), {self.ref("exp-a"): self.local_sha("exp-a")})
        self.assertTrue(self.on_store(model_md5(0.2)))
        self.assertEqual(self.dvx("exp", "push", "origin", "exp-a").strip(),
                         "Experiment exp-a is up to date on Git remote 'origin'.")

        # --no-cache: the ref only.
        out = self.dvx("exp", "push", "--no-cache", "origin", "exp-b")
        self.assertIn("Pushed experiment exp-b to Git remote 'origin'.", out)
        self.assertIn("re-run this command without '--no-cache'", out)
        self.assertIn(self.ref("exp-b"), self.refs_of(self.bare))
        self.assertFalse(self.on_store(model_md5(0.3)))

        code, _, err = self.run("exp", "push", "origin", "nope")
        self.assertNotEqual(code, 0)
        self.assertIn("'nope' is not a valid experiment name", err)

        # pull into a fresh clone: ref and data, then apply.
        clone = self.clone("file://" + self.bare)
        out = self.dvx("exp", "pull", "origin", "exp-a", cwd=clone)
        self.assertIn("Pulled experiment '['exp-a']' from Git remote 'origin'.", out)
        self.assertEqual(self.local_sha("exp-a", cwd=clone), self.local_sha("exp-a"))
        self.assertTrue(self.in_cache(model_md5(0.2), clone))
        self.dvx("exp", "apply", "exp-a", cwd=clone)
        with open(os.path.join(clone, "model.bin")) as f:
            self.assertEqual(f.read(), "model trained with lr=0.2\n")
        with open(os.path.join(clone, "metrics.json")) as f:
            self.assertIn("0.4", f.read())
        self.git("reset", "-q", "--hard", cwd=clone)

        out = self.dvx("exp", "pull", "--no-cache", "origin", "exp-b", cwd=clone)
        self.assertIn("Pulled experiment '['exp-b']'", out)
        self.assertIn("without '--no-cache'", out)
        self.assertFalse(self.in_cache(model_md5(0.3), clone))
        # Already pulled: no ref moves, but its data comes once the remote has it.
        out = self.dvx("exp", "push", "origin", "exp-b")
        self.assertIn("Experiment exp-b is up to date on Git remote 'origin'.", out)
        self.assertIn("1 file uploaded", out)
        self.assertTrue(self.on_store(model_md5(0.3)))
        self.assertEqual(self.dvx("exp", "pull", "origin", "exp-b", cwd=clone).strip(), "No experiments to pull.")
        self.assertTrue(self.in_cache(model_md5(0.3), clone))

        # Same name, different experiment: push refused without -f, replaced with it.
        self.exp_run("exp-c", 0.5)
        self.dvx("exp", "push", "origin", "exp-c")
        self.exp_run("exp-c", 0.7, cwd=clone)
        theirs = self.local_sha("exp-c")
        ours = self.local_sha("exp-c", cwd=clone)
        self.assertNotEqual(theirs, ours)
        code, out, err = self.run("exp", "push", "origin", "exp-c", cwd=clone)
        self.assertEqual(code, 0)
        self.assertIn("Local experiment exp-c has diverged from remote experiment with the same name.", err)
        self.assertIn("No experiments to push.", out)
        self.assertEqual(self.refs_of(self.bare)[self.ref("exp-c")], theirs)
        out = self.dvx("exp", "push", "-f", "origin", "exp-c", cwd=clone)
        self.assertIn("Pushed experiment exp-c", out)
        self.assertEqual(self.refs_of(self.bare)[self.ref("exp-c")], ours)
        self.assertTrue(self.on_store(model_md5(0.7)))

        # ... and pull the same way.
        code, out, err = self.run("exp", "pull", "origin", "exp-c")
        self.assertEqual(code, 0)
        self.assertIn("Local experiment '['exp-c']' has diverged", err)
        self.assertIn("No experiments to pull.", out)
        self.assertEqual(self.local_sha("exp-c"), theirs)
        self.dvx("exp", "pull", "-f", "origin", "exp-c")
        self.assertEqual(self.local_sha("exp-c"), ours)

        # list and remove on the remote.
        names = self.dvx("exp", "list", "--name-only", "origin").split()
        self.assertEqual(sorted(names), ["exp-a", "exp-b", "exp-c"])
        out = self.dvx("exp", "list", "origin")
        self.assertEqual(out.splitlines()[0], "main:")
        self.assertIn("\texp-a", out.splitlines())
        out = self.dvx("exp", "remove", "-g", "origin", "exp-a")
        self.assertEqual(out.strip(), "Removed experiments: 'exp-a'")
        self.assertNotIn(self.ref("exp-a"), self.refs_of(self.bare))
        self.assertEqual(self.local_sha("exp-a"), self.local_sha("exp-a"))  # local ref kept
        code, _, err = self.run("exp", "remove", "-g", "origin", "exp-a")
        self.assertNotEqual(code, 0)
        self.assertIn("Experiment 'exp-a' does not exist in 'origin'", err)

        code, _, err = self.run("exp", "push", "no-such-remote", "exp-a")
        self.assertNotEqual(code, 0)
        self.assertIn("'no-such-remote' is not a valid Git remote or URL", err)

        self.assertEqual(self.dvx("exp", "clean").splitlines(), ["Cleaning up dvc-task messages...", "Done!"])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TestExpPushPullGitDaemon(ExpRemoteCase):
    def setUp(self):
        super().setUp()
        self.port = free_port()
        self.daemon = subprocess.Popen(
            ["git", "daemon", "--export-all", "--enable=receive-pack", f"--base-path={self.tmp}",
             f"--port={self.port}", "--listen=127.0.0.1", "--reuseaddr", self.tmp],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=self.env)
        self.addCleanup(self.stop_daemon)
        deadline = time.time() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                if time.time() > deadline or self.daemon.poll() is not None:
                    self.skipTest("git daemon did not start")
                time.sleep(0.05)
        self.url = f"git://127.0.0.1:{self.port}/origin.git"

    def stop_daemon(self):
        self.daemon.terminate()
        try:
            self.daemon.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.daemon.kill()
            self.daemon.wait()

    def test_push_and_pull_through_daemon(self):
        self.exp_run("exp-a", 0.2)
        self.exp_run("exp-b", 0.3)
        # No names: the experiments of HEAD's commit.
        out = self.dvx("exp", "push", self.url)
        self.assertIn(f"Pushed experiment exp-a and exp-b to Git remote '{self.url}'.", out)
        self.assertIn("2 files uploaded", out)
        self.assertEqual(self.refs_of(self.bare), {self.ref("exp-a"): self.local_sha("exp-a"),
                                                   self.ref("exp-b"): self.local_sha("exp-b")})
        self.assertTrue(self.on_store(model_md5(0.2)) and self.on_store(model_md5(0.3)))

        clone = self.clone(self.url)
        self.assertEqual(sorted(self.dvx("exp", "list", "--name-only", self.url, cwd=clone).split()),
                         ["exp-a", "exp-b"])
        out = self.dvx("exp", "pull", self.url, "exp-b", cwd=clone)
        self.assertIn(f"Pulled experiment '['exp-b']' from Git remote '{self.url}'.", out)
        self.assertEqual(self.local_sha("exp-b", cwd=clone), self.local_sha("exp-b"))
        self.assertTrue(self.in_cache(model_md5(0.3), clone))
        self.assertFalse(self.in_cache(model_md5(0.2), clone))
        self.dvx("exp", "apply", "exp-b", cwd=clone)
        with open(os.path.join(clone, "model.bin")) as f:
            self.assertEqual(f.read(), "model trained with lr=0.3\n")

        self.dvx("exp", "remove", "-g", self.url, "exp-a")
        self.assertEqual(list(self.refs_of(self.bare)), [self.ref("exp-b")])


@unittest.skipUnless(DVC_REAL, "dvc-real (DVC 3.64) is not installed")
class TestExpRemoteWithDvc(ExpRemoteCase):
    """Experiments dvx pushes are pulled by DVC, and the other way round, with the same messages."""

    def dvc(self, *args, cwd):
        proc = subprocess.run([DVC_REAL, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=self.env, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        return proc.stdout.decode()

    def test_interchange(self):
        self.exp_run("exp-a", 0.2)
        self.dvx("exp", "push", "origin", "exp-a")
        clone = self.clone("file://" + self.bare)
        self.assertEqual(self.dvc("exp", "list", "--name-only", "origin", cwd=clone).split(), ["exp-a"])
        out = self.dvc("exp", "pull", "origin", "exp-a", cwd=clone)
        self.assertEqual(out.strip(), "Pulled experiment '['exp-a']' from Git remote 'origin'.")
        self.assertEqual(self.local_sha("exp-a", cwd=clone), self.local_sha("exp-a"))
        self.assertTrue(self.in_cache(model_md5(0.2), clone))

        # DVC's experiment, pushed by DVC, pulled by dvx; then the same command by both.
        self.dvc("exp", "run", "-q", "-n", "exp-d", "-S", "lr=0.9", cwd=clone)
        dvc_out = self.dvc("exp", "push", "origin", "exp-d", cwd=clone)
        self.assertEqual(self.dvx("exp", "push", "origin", "exp-d", cwd=clone), dvc_out.replace(
            "Pushed experiment exp-d", "Experiment exp-d is").replace(" to Git remote", " up to date on Git remote")
            .replace("1 file uploaded\n", ""))
        out = self.dvx("exp", "pull", "origin", "exp-d")
        self.assertEqual(out.strip(), "Pulled experiment '['exp-d']' from Git remote 'origin'.")
        self.assertTrue(self.in_cache(model_md5(0.9), self.repo))
        self.assertEqual(self.dvx("exp", "pull", "origin", "exp-d"), self.dvc("exp", "pull", "origin", "exp-d", cwd=self.repo))


if __name__ == "__main__":
    unittest.main()
