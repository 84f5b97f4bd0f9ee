#!/usr/bin/env python3
"""`dvx fsck` / `dvx cache verify`: what the cache and a remote store, checked and repaired.
Missing, corrupted and malformed objects, recorded sizes and file counts that disagree, leftover
temp files, objects missing or corrupted on a remote (--deep), revisions (-A) and every cache
object (--cache-only); --repair from the workspace or the remote, a corrupted object moved aside
(never deleted). Exit 0 only when all is well.
"""
import hashlib
import json
import os
import shutil
import time
import unittest

from dvxtest import DvxTestCase, is_real_dvc, md5_bytes


@unittest.skipIf(is_real_dvc(), "fsck is dvx's own command")
class TestFsck(DvxTestCase):
    def setUp(self):
        super().setUp()
        self.make_repo()
        os.makedirs(self.p("d"))
        for i in range(3):
            self.write(f"d/f{i}", f"file {i}\n")
        self.write("a.txt", "alpha contents\n")
        self.dvx("add", "a.txt", "d")
        self.remote = os.path.join(self.tmp, "remote")
        self.dvx("remote", "add", "-d", "loc", self.remote)
        self.dvx("push")
        self.commit_all("data")
        self.a_md5 = md5_bytes(b"alpha contents\n")

    def obj(self, oid):
        return self.p(".dvc", "cache", "files", "md5", oid[:2], oid[2:])

    def fsck(self, *args, code=None):
        c, out, err = self.run("fsck", "--json", *args)
        data = json.loads(out)
        if code is not None:
            self.assertEqual(c, code, out + err)
        return data

    def overwrite(self, path, data):
        os.chmod(path, 0o644)
        with open(path, "wb") as f:
            f.write(data)

    def test_clean_cache_passes(self):
        r = self.fsck(code=0)
        self.assertEqual(r, {"ok": True, "checked": 5, "problems": []})
        self.assertEqual(self.json_out("cache", "verify", "--json"), r)
        out = self.dvx("fsck")
        self.assertEqual(out, "Checked 5 objects in the cache: no problems found.\n")

    def test_corrupted_object_reported_then_repaired_from_the_workspace(self):
        self.overwrite(self.obj(self.a_md5), b"bit rot\n")
        r = self.fsck(code=1)
        self.assertFalse(r["ok"])
        self.assertEqual([(p["kind"], p["oid"], p["name"]) for p in r["problems"]],
                         [("corrupted", self.a_md5, "a.txt")])
        self.assertIn(md5_bytes(b"bit rot\n"), r["problems"][0]["detail"])
        with open(self.obj(self.a_md5), "rb") as f:
            self.assertEqual(f.read(), b"bit rot\n", "fsck without --repair changed the cache")
        r = self.fsck("--repair", code=0)
        self.assertEqual(r["problems"][0]["repaired_from"], "workspace")
        with open(self.obj(self.a_md5), "rb") as f:
            self.assertEqual(f.read(), b"alpha contents\n")
        # the bad copy was moved aside, not deleted
        q = self.p(".dvc", "cache", ".quarantine")
        kept = [open(os.path.join(q, n), "rb").read() for n in os.listdir(q)]
        self.assertIn(b"bit rot\n", kept)
        self.fsck(code=0)

    def test_missing_objects_repaired_from_the_remote(self):
        dvc = self.read("d.dvc").decode()
        dir_md5 = [l.split(":")[1].strip() for l in dvc.splitlines() if "md5:" in l][0]
        os.remove(self.obj(dir_md5))
        os.chmod(self.obj(self.a_md5), 0o644)
        os.remove(self.obj(self.a_md5))
        os.remove(self.p("a.txt"))  # no workspace copy either: only the remote has it
        r = self.fsck(code=1)
        self.assertEqual(sorted((p["kind"], p["name"]) for p in r["problems"]), [("missing", "a.txt"), ("missing", "d")])
        r = self.fsck("--repair", code=0)
        self.assertTrue(all(p["repaired_from"] == "remote 'loc'" for p in r["problems"]), r)
        self.assertTrue(os.path.exists(self.obj(self.a_md5)))
        self.assertEqual(self.fsck(code=0)["checked"], 5)

    def test_remote_missing_and_corrupted(self):
        robj = os.path.join(self.remote, "files", "md5", self.a_md5[:2], self.a_md5[2:])
        self.overwrite(robj, b"rotten on the remote\n")
        # listing sees it; only --deep reads the bytes
        self.fsck("-r", "loc", code=0)
        r = self.fsck("-r", "loc", "--deep", code=1)
        self.assertEqual([(p["kind"], p["name"]) for p in r["problems"]], [("remote-corrupted", "a.txt")])
        self.assertEqual(r["checked_remote"], 5)
        os.remove(robj)
        r = self.fsck("-r", "loc", code=1)
        self.assertEqual([(p["kind"], p["name"]) for p in r["problems"]], [("remote-missing", "a.txt")])
        c, out, err = self.run("fsck", "--deep")
        self.assertNotEqual(c, 0)
        self.assertIn("--deep needs -r", err)
        c, out, err = self.run("fsck", "-r", "nope")
        self.assertNotEqual(c, 0)

    def test_recorded_size_and_file_count_mismatch(self):
        text = self.read("a.txt.dvc").decode().replace("size: 15", "size: 99")
        self.write("a.txt.dvc", text)
        text = self.read("d.dvc").decode().replace("nfiles: 3", "nfiles: 4")
        self.write("d.dvc", text)
        r = self.fsck(code=1)
        kinds = sorted((p["kind"], p["name"]) for p in r["problems"])
        self.assertEqual(kinds, [("mismatch", "a.txt"), ("mismatch", "d")])

    def test_malformed_manifests_and_escaping_entries(self):
        for bytes_ in (b"not a manifest", json.dumps([{"md5": "0" * 32, "relpath": "../escape"}]).encode()):
            oid = hashlib.md5(bytes_).hexdigest() + ".dir"
            os.makedirs(os.path.dirname(self.obj(oid)), exist_ok=True)
            with open(self.obj(oid), "wb") as f:
                f.write(bytes_)
            self.write("bad.dvc", f"outs:\n- md5: {oid}\n  path: bad\n  hash: md5\n")
            r = self.fsck(code=1)
            self.assertEqual([(p["kind"], p["name"]) for p in r["problems"]], [("malformed", "bad")])
            os.remove(self.obj(oid))

    def test_leftover_temp_files(self):
        tmp = os.path.join(os.path.dirname(self.obj(self.a_md5)), ".AAAAAAAAAAAAAAAAAAAAAA.tmp")
        with open(tmp, "wb") as f:
            f.write(b"half written")
        old = time.time() - 3 * 24 * 3600
        os.utime(tmp, (old, old))
        r = self.fsck(code=1)
        self.assertEqual([(p["kind"], p["name"]) for p in r["problems"]], [("stray", tmp)])
        r = self.fsck("--repair", code=0)
        self.assertFalse(os.path.exists(tmp))

    def test_revisions_and_cache_only(self):
        # an object only an old commit references
        self.write("a.txt", "second version\n")
        self.dvx("add", "a.txt")
        self.commit_all("v2")
        os.chmod(self.obj(self.a_md5), 0o644)
        os.remove(self.obj(self.a_md5))
        self.fsck(code=0)
        r = self.fsck("-A", code=1)
        self.assertEqual([(p["kind"], p["oid"]) for p in r["problems"]], [("missing", self.a_md5)])
        # an unreferenced corrupted object: only --cache-only looks at it
        stray = md5_bytes(b"unreferenced\n")
        os.makedirs(os.path.dirname(self.obj(stray)), exist_ok=True)
        with open(self.obj(stray), "wb") as f:
            f.write(b"not what the name says\n")
        self.fsck(code=0)
        r = self.fsck("--cache-only", code=1)
        self.assertEqual([(p["kind"], p["oid"]) for p in r["problems"]], [("corrupted", stray)])


if __name__ == "__main__":
    unittest.main()
