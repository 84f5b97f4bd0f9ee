"""Parallel and serial runs write identical .dvc files and cache objects (core.checksum_jobs = 1
against the default, which uses every core), for files small and large (multi-buffer MD5 lanes,
in-memory ingest, and the overlapped large-file copy)."""

import hashlib
import os

import dvxtest


def make_data(root):
    for i in range(300):
        sub = os.path.join(root, "data", f"d{i % 7}")
        os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, f"f{i:04d}.bin"), "wb") as f:
            f.write(hashlib.sha256(str(i).encode()).digest() * (1 + i % 50))
    with open(os.path.join(root, "data", "big.bin"), "wb") as f:
        for i in range(40):  # 2.5 MiB: above the in-memory limit
            f.write(hashlib.sha256(str(i).encode()).digest() * 2048)


class TestParallelEqualsSerial(dvxtest.DvxTestCase):
    def snapshot(self, repo):
        files = {}
        for base, _, names in os.walk(os.path.join(repo, ".dvc", "cache")):
            for n in names:
                p = os.path.join(base, n)
                with open(p, "rb") as f:
                    files[os.path.relpath(p, repo)] = f.read()
        with open(os.path.join(repo, "data.dvc"), "rb") as f:
            files["data.dvc"] = f.read()
        return files

    def test_same_bytes(self):
        results = []
        for jobs in (None, "1"):
            repo = os.path.join(self.tmp, f"repo-{jobs or 'all'}")
            os.makedirs(repo)
            self.git("init", "-q", "-b", "main", cwd=repo)
            self.dvx("init", "-q", cwd=repo)
            if jobs:
                self.dvx("config", "core.checksum_jobs", jobs, cwd=repo)
            make_data(repo)
            self.dvx("add", "data", cwd=repo)
            self.assertEqual(self.json_out("status", "--json", cwd=repo), {})
            results.append(self.snapshot(repo))
        self.assertGreater(len(results[0]), 300)
        self.assertEqual(results[0], results[1])


if __name__ == "__main__":
    dvxtest.main()
