"""Golden compatibility: every output recorded from real DVC 3.64 (tests/fixtures/outputs,
commands.tsv) for the core commands, reproduced by dvx from the same setup on a fresh
extraction of the same fixture tarball.

JSON is compared as parsed objects (`data status` lists as sets: DVC prints Python set order),
text byte for byte; exit codes must match and, as for DVC, nothing may be written to stderr.
After `pull`/`checkout` the workspace must be byte-identical to manifests/<fixture>.tsv.

In scope: `basic` and `legacy-remote` (all recorded outputs), and the core-command outputs of
`pipeline` (status -c, ls, data status, diff). Pipeline-only commands (repro, metrics, params,
plots, dag, stage, exp) are deliberately not tested here.
"""

import json
import os
import shlex
import shutil

import dvxtest
from dvxtest import md5_file, set_lists

PIPELINE_CORE = {"pipeline.status-cloud.json", "pipeline.ls.json", "pipeline.data-status.json",
                 "pipeline.diff.json"}


def in_scope(row):
    if row["file"] == "dvc.version.txt":
        return False  # covered by test_cli (version string is dvx's own business)
    if row["fixture"] in ("basic", "legacy-remote"):
        return True
    return row["file"] in PIPELINE_CORE


class CompatBase(dvxtest.DvxTestCase):
    def fixture_files(self, fixture):
        """{repo-relative path: (mode, size, md5)} for the fixture's repo/ files."""
        prefix = f"{fixture}/repo/"
        return {p[len(prefix):]: v for p, v in dvxtest.read_manifest(fixture).items()
                if p.startswith(prefix)}

    def assertWorkspaceMatchesManifest(self, fixture, include_cache=False):
        for rel, (mode, size, md5) in sorted(self.fixture_files(fixture).items()):
            if rel.startswith(".dvc/cache/") and not include_cache:
                continue
            with self.subTest(path=rel):
                path = self.p(rel)
                self.assertTrue(os.path.isfile(path), f"missing {rel}")
                self.assertEqual(md5_file(path), md5, f"content of {rel}")

    def assertDvcFilesUntouched(self, fixture):
        for rel, (mode, size, md5) in self.fixture_files(fixture).items():
            if rel.endswith(".dvc") or rel.endswith(".gitignore") or rel in (
                    ".dvc/config", "dvc.yaml", "dvc.lock"):
                self.assertEqual(md5_file(self.p(rel)), md5, f"{rel} was modified")

    def run_recorded(self, row):
        self.extract_fixture(row["fixture"])
        if row["setup"]:
            self.sh(row["setup"])
        argv = shlex.split(row["command"])
        self.assertEqual(argv[0], "dvc")
        code, out, err = self.run(*argv[1:])
        expected = dvxtest.output_text(row["file"])
        self.assertEqual(code, row["exit_code"], f"stdout:\n{out}\nstderr:\n{err}")
        if row["file"].endswith(".json"):
            try:
                got = json.loads(out)
            except ValueError:
                self.fail(f"not JSON: {out!r}\nstderr:\n{err}")
            want = json.loads(expected)
            if ".data-status" in row["file"]:
                got, want = set_lists(got), set_lists(want)
            self.assertEqual(got, want)
            self.assertEqual(out.count("\n"), 1, "JSON must be one line + newline")
            self.assertTrue(out.endswith("\n"))
        else:
            self.assertEqual(out, expected)
        self.assertEqual(err, "", "DVC wrote nothing to stderr for this command")
        return out


def _make_test(row):
    def test(self):
        self.run_recorded(row)
        fixture = row["fixture"]
        if ".pull." in row["file"] or ".checkout." in row["file"]:
            self.assertWorkspaceMatchesManifest(fixture)
        if "status" in row["command"] and "crlf-to-lf" not in row["file"] \
                and "chmod" not in row["setup"]:
            self.assertDvcFilesUntouched(fixture)
    test.__doc__ = f"{row['file']}: {row['command']}" + (
        f" after `{row['setup']}`" if row["setup"] else "")
    return test


class TestRecordedOutputs(CompatBase):
    pass


for _row in dvxtest.read_commands_tsv():
    if in_scope(_row):
        _name = "test_" + _row["file"].replace(".", "_").replace("-", "_")
        setattr(TestRecordedOutputs, _name, _make_test(_row))


class TestBasicExtra(CompatBase):
    def setUp(self):
        super().setUp()
        self.extract_fixture("basic")

    def test_fixture_is_clean_and_untouched(self):
        self.assertEqual(self.json_out("status", "--json"), {})
        self.assertEqual(self.json_out("status", "-c", "--json"), {})
        self.dvx("checkout")
        self.assertDvcFilesUntouched("basic")
        self.assertWorkspaceMatchesManifest("basic", include_cache=True)
        self.assertEqual(self.git("status", "--porcelain"), "")

    def test_exec_bit_not_restored(self):
        shutil.rmtree(self.p("images"))
        self.dvx("checkout")
        self.assertMode("images/scripts/run.sh", 0o644)
        self.assertEqual(self.json_out("status", "--json"), {})
        self.assertWorkspaceMatchesManifest("basic")

    def test_pull_restores_cache_objects(self):
        self.sh("rm -rf .dvc/cache images data.csv models/model.pkl")
        self.dvx("pull")
        files = self.fixture_files("basic")
        expected = {rel[len(".dvc/cache/files/md5/"):] for rel in files
                    if rel.startswith(".dvc/cache/files/md5/")}
        # data.csv v1 is not used by the workspace, so it is not fetched
        expected.discard("38/a3db4a69f0bd5223ac317ef467d731")
        self.assertEqual(self.cache_objects(), expected)
        for name in expected:
            rel = ".dvc/cache/files/md5/" + name
            self.assertEqual(md5_file(self.p(rel)), files[rel][2])
            self.assertMode(rel, 0o444)
        self.assertEqual(self.json_out("status", "--json"), {})
        self.assertEqual(self.json_out("status", "-c", "--json"), {})

    def test_pull_old_revision_data_with_all_commits(self):
        self.sh("rm -rf .dvc/cache")
        self.dvx("fetch", "-A")
        self.assertIn("38/a3db4a69f0bd5223ac317ef467d731", self.cache_objects())
        self.assertEqual(len(self.cache_objects()), 14)

    def test_push_to_fresh_remote_reproduces_remote(self):
        fresh = os.path.join(self.tmp, "fresh-remote")
        self.dvx("remote", "add", "fresh", fresh)
        code, out, err = self.run("push", "-r", "fresh", "-A")
        self.assertEqual((code, out), (0, "14 files pushed\n"), err)
        files = dvxtest.read_manifest("basic")
        for rel, (mode, size, md5) in files.items():
            if rel.startswith("basic/remote/"):
                path = os.path.join(fresh, rel[len("basic/remote/"):])
                self.assertEqual(md5_file(path), md5, rel)
                self.assertMode(path, 0o444)


class TestLegacyExtra(CompatBase):
    RAW_NOTES = "5fb0817dd3d5802b05a7a2d7142b354e"

    def setUp(self):
        super().setUp()
        self.extract_fixture("legacy-remote")

    def test_fixture_is_clean_and_untouched(self):
        self.assertEqual(self.json_out("status", "--json"), {})
        self.assertEqual(self.json_out("status", "-c", "--json"), {})
        self.assertEqual(self.dvx("checkout"), "")
        self.assertDvcFilesUntouched("legacy-remote")
        self.assertWorkspaceMatchesManifest("legacy-remote", include_cache=True)
        self.assertEqual(self.git("status", "--porcelain"), "")

    def test_checkout_restores_crlf_bytes(self):
        for f in ("notes.txt", "data/a.txt", "data/sub/c.bin"):
            os.remove(self.p(f))
        self.dvx("checkout")
        self.assertWorkspaceMatchesManifest("legacy-remote")
        self.assertEqual(md5_file(self.p("notes.txt")), self.RAW_NOTES)

    def test_pull_recreates_legacy_layout(self):
        self.sh("rm -rf .dvc/cache notes.txt blob.bin data")
        self.dvx("pull")
        self.assertWorkspaceMatchesManifest("legacy-remote", include_cache=True)
        self.assertEqual(self.cache_objects(), set(), "nothing may go to files/md5")
        self.assertEqual(len(self.legacy_objects(self.p(".dvc", "cache"))), 8)
        self.assertEqual(self.json_out("status", "--json"), {})
        self.assertEqual(self.json_out("status", "-c", "--json"), {})
        self.assertDvcFilesUntouched("legacy-remote")

    def test_raw_md5_in_legacy_entry_is_not_in_cache(self):
        text = self.read("notes.txt.dvc").decode()
        self.write("notes.txt.dvc", text.replace("d967459726a9efe87fbaf589c7218a59",
                                                 self.RAW_NOTES))
        self.assertEqual(self.json_out("status", "--json"),
                         {"notes.txt.dvc": [{"changed outs": {"notes.txt": "not in cache"}}]})

    def test_push_to_fresh_remote_uses_legacy_layout(self):
        fresh = os.path.join(self.tmp, "fresh-remote")
        self.dvx("remote", "add", "fresh", fresh)
        code, out, err = self.run("push", "-r", "fresh")
        self.assertEqual((code, out), (0, "8 files pushed\n"), err)
        self.assertEqual(self.legacy_objects(fresh), self.legacy_objects(
            os.path.join(self.tmp, "legacy-remote", "remote")))
        self.assertFalse(os.path.exists(os.path.join(fresh, "files")))

    def test_readd_modified_legacy_file_converts_entry(self):
        self.write("notes.txt", b"new\r\ncontent\r\n")
        self.dvx("add", "notes.txt")
        oid = dvxtest.md5_bytes(b"new\r\ncontent\r\n")
        self.assertFileBytes("notes.txt.dvc", f"outs:\n- md5: {oid}\n  size: 14\n  path: notes.txt\n"
                                              "  hash: md5\n")
        self.assertCacheObject(oid, b"new\r\ncontent\r\n")


class TestPipelineCore(CompatBase):
    def setUp(self):
        super().setUp()
        self.extract_fixture("pipeline")

    def test_pull_empty_cache_restores_outputs(self):
        self.sh("rm -rf .dvc/cache model.pkl data/features.csv data/prepared")
        code, out, err = self.run("pull")
        self.assertEqual(code, 0, err)
        for rel in ("model.pkl", "data/features.csv", "data/prepared/train.csv",
                    "data/prepared/test.csv"):
            self.assertEqual(md5_file(self.p(rel)), self.fixture_files("pipeline")[rel][2], rel)
        self.assertEqual(self.json_out("status", "-c", "--json"), {})


if __name__ == "__main__":
    dvxtest.main()
