"""Two commands on one repository (issue 14, formats.md 10.4): dvx and dvx, and dvx and DVC,
exclude each other through DVC's own locks — flock(2) on `.dvc/tmp/lock` for the whole command,
and the path claims in `.dvc/tmp/rwlock` that DVC keeps while a stage's command runs with the
repository lock released. The loser gets a clear error (or waits with --wait-for-lock); nothing
is corrupted (fsck clean, files intact)."""

import json
import os
import shutil
import subprocess
import sys
import time

import dvxtest

DVC_REAL = shutil.which("dvc-real")

SLEEP_STAGE = """stages:
  slow:
    cmd: python3 -c "import time, pathlib; pathlib.Path('started').write_text('1'); time.sleep({secs}); pathlib.Path('out.txt').write_text('done\\\\n')"
    deps:
    - in.txt
    outs:
    - out.txt
"""


class Concurrency(dvxtest.DvxTestCase):
    def setUp(self):
        super().setUp()
        self.make_repo()
        self.track_file("data.txt", "data\n")
        self.write("in.txt", "in\n")
        self.commit_all("track")
        self.write("other.txt", "other\n")
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.communicate()
        super().tearDown()

    def spawn(self, argv, **kw):
        p = subprocess.Popen(argv, cwd=self.repo, env=self.env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
        self.procs.append(p)
        return p

    def wait_for_file(self, rel, timeout=30):
        deadline = time.time() + timeout
        while not self.exists(rel):
            self.assertLess(time.time(), deadline, f"{rel} never appeared")
            time.sleep(0.05)

    def sleeper(self):
        """A live process whose PID a claim can name."""
        return self.spawn([sys.executable, "-c", "import time; time.sleep(120)"])

    def write_claims(self, read=None, write=None):
        doc = {}
        if read:
            doc["read"] = read
        if write:
            doc["write"] = write
        self.write(".dvc/tmp/rwlock", json.dumps(doc))

    def assert_consistent(self):
        out = self.json_out("fsck", "--json")
        self.assertTrue(out.get("ok", True), out)
        self.assertEqual(self.read("data.txt"), b"data\n")

    # ------------------------------------------------------------------ DVC's path claims

    def test_write_claim_blocks_overlapping_commands_only(self):
        pid = self.sleeper().pid
        data = os.path.join(self.repo, "data.txt")
        self.write_claims(write={data: {"pid": pid, "cmd": "dvc repro"}})
        self.write("data.txt", "changed\n")
        code, out, err = self.run("commit", "-f", "data.txt.dvc")
        self.assertEqual(code, 1, err)
        self.assertIn(f"'{data}' is busy, it is being blocked by:\n  (PID {pid}): dvc repro\n", err)
        self.assertIn("rwlock' and try again.", err)
        self.assertNotIn(b"changed", self.read("data.txt.dvc"))  # nothing committed
        # the whole workspace overlaps too; a reader (status) is blocked by a writer
        code, out, err = self.run("checkout", "-f")
        self.assertNotEqual(code, 0)
        self.assertIn("is busy", err)
        self.assertEqual(self.read("data.txt"), b"changed\n")  # not checked out under the stage
        code, out, err = self.run("status")
        self.assertNotEqual(code, 0)
        self.assertIn("is busy", err)
        # a path the claim does not cover is free, as with DVC
        self.dvx("add", "other.txt")
        self.assertTrue(self.exists("other.txt.dvc"))

    def test_read_claim_blocks_writers_not_readers(self):
        pid = self.sleeper().pid
        data = os.path.join(self.repo, "data.txt")
        self.write_claims(read={data: [{"pid": pid, "cmd": "dvc repro"}]})
        self.write("data.txt", "changed\n")
        code, out, err = self.run("commit", "-f", "data.txt.dvc")
        self.assertEqual(code, 1)
        self.assertIn("is busy", err)
        code, out, err = self.run("status", "data.txt.dvc")
        self.assertEqual(code, 0, err)
        self.assertIn("modified", out)

    def test_claims_of_dead_processes_are_released(self):
        p = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
        dead = int(p.stdout)
        live = self.sleeper().pid
        data = os.path.join(self.repo, "data.txt")
        other = os.path.join(self.repo, "elsewhere")
        self.write_claims(write={data: {"pid": dead, "cmd": "dvc repro"}},
                          read={other: [{"pid": live, "cmd": "dvc status"}]})
        self.write("data.txt", "changed\n")
        code, out, err = self.run("commit", "-f", "data.txt.dvc")
        self.assertEqual(code, 0, err)
        self.assertIn(f"(Pid {dead})", err)
        self.assertIn("had been killed. Auto removed it from the lock file.", err)
        left = json.loads(self.read(".dvc/tmp/rwlock"))
        self.assertEqual(left, {"read": {other: [{"pid": live, "cmd": "dvc status"}]}})

    def test_corrupted_claims_file_is_named(self):
        self.write(".dvc/tmp/rwlock", "{not json")
        code, out, err = self.run("add", "other.txt")
        self.assertEqual(code, 1)
        self.assertIn("Unable to read RWLock-file", err)
        self.assertIn("JSON structure is corrupted", err)
        self.assertFalse(self.exists("other.txt.dvc"))

    # ------------------------------------------------------------------ two dvx processes

    def test_two_dvx_processes(self):
        self.write("dvc.yaml", SLEEP_STAGE.format(secs=4))
        first = self.spawn([dvxtest.DVX_BIN, "repro"])
        self.wait_for_file("started")
        t0 = time.monotonic()
        code, out, err = self.run("add", "other.txt")
        self.assertEqual(code, 1)
        self.assertIn("ERROR: " + dvxtest.LOCK_MESSAGE, err)
        self.assertGreater(time.monotonic() - t0, 1.5)  # retried ~3 s like DVC
        self.assertFalse(self.exists("other.txt.dvc"))
        # --wait-for-lock waits for the repro to finish, then succeeds
        code, out, err = self.run("--wait-for-lock", "add", "other.txt", timeout=60)
        self.assertEqual(code, 0, err)
        out1, err1 = first.communicate(timeout=60)
        self.assertEqual(first.returncode, 0, err1)
        self.assertEqual(self.read("out.txt"), b"done\n")
        self.assertTrue(self.exists("other.txt.dvc"))
        self.assert_consistent()
        st = self.json_out("status", "--json")
        self.assertEqual(st, {})

    # ------------------------------------------------------------------ dvx and DVC

    @dvxtest.unittest.skipUnless(DVC_REAL, "dvc-real (the real DVC 3.64) is not installed")
    def test_dvc_repro_stage_claims_block_dvx(self):
        self.write("dvc.yaml", SLEEP_STAGE.format(secs=5))
        dvc = self.spawn([DVC_REAL, "repro"])
        self.wait_for_file("started")
        time.sleep(0.3)
        # DVC runs the command with its repository lock released: the claims protect the stage
        claims = json.loads(self.read(".dvc/tmp/rwlock"))
        self.assertIn(os.path.join(self.repo, "out.txt"), claims.get("write", {}))
        code, out, err = self.run("checkout", "-f")
        self.assertNotEqual(code, 0)
        self.assertIn("is busy, it is being blocked by:", err)
        self.assertIn(f"(PID {dvc.pid})", err)
        self.dvx("add", "other.txt")  # unrelated path: allowed, as DVC allows it
        out1, err1 = dvc.communicate(timeout=90)
        self.assertEqual(dvc.returncode, 0, err1.decode())
        self.assertEqual(self.read("out.txt"), b"done\n")
        self.assertEqual(self.json_out("status", "--json"), {})
        self.assert_consistent()

    @dvxtest.unittest.skipUnless(DVC_REAL, "dvc-real (the real DVC 3.64) is not installed")
    def test_dvx_repro_blocks_dvc(self):
        self.write("dvc.yaml", SLEEP_STAGE.format(secs=6))
        first = self.spawn([dvxtest.DVX_BIN, "repro"])
        self.wait_for_file("started")
        proc = subprocess.run([DVC_REAL, "add", "other.txt"], cwd=self.repo, env=self.env,
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("Unable to acquire lock", proc.stderr)
        self.assertFalse(self.exists("other.txt.dvc"))
        out1, err1 = first.communicate(timeout=60)
        self.assertEqual(first.returncode, 0, err1)
        proc = subprocess.run([DVC_REAL, "status", "--json"], cwd=self.repo, env=self.env,
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(json.loads(proc.stdout), {})
        self.assert_consistent()


if __name__ == "__main__":
    dvxtest.main()
