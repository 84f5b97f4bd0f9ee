"""dvc repro on a small 3-stage pipeline with real shell commands (behaviour.md 4; formats.md 6, 7;
cli.md repro).

Pipeline (every command appends its stage name to runs.log, which is not tracked, so a test can
see exactly which stages ran):

    in.txt -> a -> a.txt -> b (params n) -> b.txt -> c (+ in.txt) -> c.txt
"""

import os
import subprocess
import time
import re

import dvxtest

IN = b"hello\n"
PARAMS = b"n: 3\nother: 1\n"

CMD_A = "echo a >> runs.log && tr a-z A-Z < in.txt > a.txt"
CMD_B = "echo b >> runs.log && cat a.txt a.txt > b.txt"
CMD_C = "echo c >> runs.log && cat b.txt in.txt > c.txt"

DVC_YAML = f"""stages:
  a:
    cmd: {CMD_A}
    deps:
    - in.txt
    outs:
    - a.txt
  b:
    cmd: {CMD_B}
    deps:
    - a.txt
    params:
    - n
    outs:
    - b.txt
  c:
    cmd: {CMD_C}
    deps:
    - b.txt
    - in.txt
    outs:
    - c.txt
"""


def is_real_dvc():
    """True when DVX_BIN is DVC itself (dvx-only features are skipped then): the binary is named
    dvc* (dvc, dvc-real), or DVX_IS_DVC=1. dvx answers `--version` like DVC, so that can't tell."""
    if os.environ.get("DVX_IS_DVC") == "1":
        return True
    return os.path.basename(dvxtest.DVX_BIN).startswith("dvc")


def dep_entry(path, content):
    return (f"    - path: {path}\n      hash: md5\n      md5: {dvxtest.md5_bytes(content)}\n"
            f"      size: {len(content)}\n")


def expected_lock(in_bytes=IN, n=3):
    a = in_bytes.upper()
    b = a + a
    c = b + in_bytes
    return ("schema: '2.0'\nstages:\n"
            f"  a:\n    cmd: {CMD_A}\n    deps:\n" + dep_entry("in.txt", in_bytes)
            + "    outs:\n" + dep_entry("a.txt", a)
            + f"  b:\n    cmd: {CMD_B}\n    deps:\n" + dep_entry("a.txt", a)
            + f"    params:\n      params.yaml:\n        n: {n}\n"
            + "    outs:\n" + dep_entry("b.txt", b)
            + f"  c:\n    cmd: {CMD_C}\n    deps:\n" + dep_entry("b.txt", b)
            + dep_entry("in.txt", in_bytes)
            + "    outs:\n" + dep_entry("c.txt", c)).encode()


class PipelineCase(dvxtest.DvxTestCase):
    def setUp(self):
        super().setUp()
        self.make_repo()
        self.write("in.txt", IN)
        self.write("params.yaml", PARAMS)
        self.write("dvc.yaml", DVC_YAML)
        self.commit_all("pipeline")

    def runs(self):
        """Stage names appended to runs.log since the last call (and reset it)."""
        if not self.exists("runs.log"):
            return []
        names = self.read("runs.log").decode().split()
        os.remove(self.p("runs.log"))
        return names

    def repro(self, *args, check=True):
        code, out, err = self.run("repro", *args, check=check)
        return code, out, err

    def first_run(self):
        self.repro()
        self.assertEqual(self.runs(), ["a", "b", "c"])


class TestFirstRun(PipelineCase):
    def test_first_run_outputs_lock_gitignore(self):
        code, out, err = self.repro()
        self.assertEqual(self.runs(), ["a", "b", "c"])
        self.assertFileBytes("a.txt", b"HELLO\n")
        self.assertFileBytes("b.txt", b"HELLO\nHELLO\n")
        self.assertFileBytes("c.txt", b"HELLO\nHELLO\nhello\n")
        self.assertFileBytes("dvc.lock", expected_lock())
        self.assertFileBytes(".gitignore", b"/a.txt\n/b.txt\n/c.txt\n")
        for name in ("a.txt", "b.txt", "c.txt"):
            self.assertCacheObject(dvxtest.md5_file(self.p(name)))
        self.assertIn("Running stage 'a':\n> " + CMD_A + "\n", out)
        self.assertIn("Running stage 'c':\n> " + CMD_C + "\n", out)
        self.assertIn("Generating lock file 'dvc.lock'\nUpdating lock file 'dvc.lock'\n", out)
        self.assertIn("Use `dvc push` to send your updates to remote storage.", out)
        self.assertGitHint(out, {"dvc.lock", ".gitignore"})
        self.assertEqual(self.json_out("status", "--json"), {})

    def test_second_repro_runs_nothing(self):
        self.first_run()
        lock = self.read("dvc.lock")
        code, out, err = self.repro()
        self.assertEqual(self.runs(), [])
        self.assertEqual(out, "Stage 'a' didn't change, skipping\n"
                              "Stage 'b' didn't change, skipping\n"
                              "Stage 'c' didn't change, skipping\n"
                              "Data and pipelines are up to date.\n")
        self.assertEqual(self.read("dvc.lock"), lock)

    def test_env_vars_and_shell(self):
        self.write("dvc.yaml", "stages:\n  env:\n    cmd: echo \"$DVC_ROOT|$DVC_STAGE\" > env.txt\n"
                               "    outs:\n    - env.txt\n")
        self.repro()
        self.assertFileBytes("env.txt", f"{self.repo}|env\n")

    def test_dry_first_run_single_stage_writes_nothing(self):
        code, out, err = self.repro("--dry", "a")
        self.assertEqual(self.runs(), [])
        self.assertIn("Running stage 'a':\n> " + CMD_A + "\n", out)
        self.assertFalse(self.exists("dvc.lock"))
        self.assertFalse(self.exists("a.txt"))
        self.assertFalse(self.exists(".gitignore"))

    def test_dry_first_run_fails_on_missing_intermediate(self):
        # [observed] DVC 3.64: b's dep a.txt does not exist yet, so --dry fails at b
        code, out, err = self.repro("--dry", check=None)
        self.assertEqual(code, 255)
        self.assertIn("ERROR: failed to reproduce 'b': [Errno 2] No such file or directory: "
                      f"'{self.p('a.txt')}'", err)
        self.assertEqual(self.runs(), [])
        self.assertFalse(self.exists("dvc.lock"))

    def test_dry_after_change_writes_nothing(self):
        self.first_run()
        lock = self.read("dvc.lock")
        self.write("in.txt", b"world\n")
        code, out, err = self.repro("--dry")
        self.assertEqual(self.runs(), [])
        self.assertIn("Running stage 'a':\n> " + CMD_A + "\n", out)
        self.assertIn("Running stage 'c':\n> " + CMD_C + "\n", out)
        self.assertEqual(self.read("dvc.lock"), lock)
        self.assertFileBytes("a.txt", b"HELLO\n")

    def test_no_commit(self):
        self.repro("--no-commit")
        self.assertEqual(self.runs(), ["a", "b", "c"])
        self.assertTrue(self.exists("dvc.lock"))
        self.assertEqual(self.cache_objects(), set())
        st = self.json_out("status", "--json")
        self.assertEqual(st["c"], [{"changed outs": {"c.txt": "not in cache"}}])


class TestChanges(PipelineCase):
    def setUp(self):
        super().setUp()
        self.first_run()

    def test_dep_changed_runs_everything_downstream(self):
        self.write("in.txt", b"world\n")
        self.assertEqual(self.json_out("status", "--json"),
                         {"a": [{"changed deps": {"in.txt": "modified"}}],
                          "c": [{"changed deps": {"in.txt": "modified"}}]})
        self.repro()
        self.assertEqual(self.runs(), ["a", "b", "c"])
        self.assertFileBytes("dvc.lock", expected_lock(in_bytes=b"world\n"))

    def test_param_changed_runs_b_and_c(self):
        self.write("params.yaml", b"n: 4\nother: 1\n")
        self.assertEqual(self.json_out("status", "--json"),
                         {"b": [{"changed deps": {"params.yaml": {"n": "modified"}}}]})
        code, out, err = self.repro()
        # c's dep b.txt did not change (same bytes), so c is skipped
        self.assertEqual(self.runs(), ["b"])
        self.assertIn("Stage 'c' didn't change, skipping", out)
        self.assertFileBytes("dvc.lock", expected_lock(n=4))

    def test_unrelated_param_changes_nothing(self):
        self.write("params.yaml", b"n: 3\nother: 2\n")
        self.assertEqual(self.json_out("status", "--json"), {})
        self.repro()
        self.assertEqual(self.runs(), [])

    def test_cmd_changed(self):
        self.write("dvc.yaml", DVC_YAML.replace("cat b.txt in.txt > c.txt",
                                                "cat b.txt in.txt  > c.txt"))
        self.assertEqual(self.json_out("status", "--json"), {"c": ["changed command"]})
        self.repro()
        self.assertEqual(self.runs(), ["c"])
        self.assertIn(b"cat b.txt in.txt  > c.txt", self.read("dvc.lock"))

    def test_deleted_out_is_restored_from_lock(self):
        os.remove(self.p("b.txt"))
        self.assertEqual(self.json_out("status", "--json"),
                         {"b": [{"changed outs": {"b.txt": "deleted"}}],
                          "c": [{"changed deps": {"b.txt": "deleted"}}]})
        code, out, err = self.repro()
        self.assertEqual(self.runs(), [])
        self.assertIn("Stage 'b' is cached - skipping run, checking out outputs", out)
        self.assertFileBytes("b.txt", b"HELLO\nHELLO\n")

    def test_force(self):
        self.repro("-f")
        self.assertEqual(self.runs(), ["a", "b", "c"])

    def test_force_single_item(self):
        code, out, err = self.repro("-f", "-s", "b")
        self.assertEqual(self.runs(), ["b"])
        self.assertNotIn("Stage 'a'", out)

    def test_target_runs_only_ancestors(self):
        self.write("in.txt", b"world\n")
        self.repro("b")
        self.assertEqual(self.runs(), ["a", "b"])
        self.assertEqual(list(self.json_out("status", "--json")), ["c"])

    def test_target_with_file_prefix(self):
        self.repro("-f", "dvc.yaml:a")
        self.assertEqual(self.runs(), ["a"])

    def test_downstream(self):
        self.repro("-f", "--downstream", "b")
        self.assertEqual(self.runs(), ["b", "c"])

    def test_force_downstream(self):
        # a re-runs (dep changed) but writes the same a.txt: without --force-downstream b is
        # skipped, with it b (and then c) are forced.
        self.write("in.txt", b"HELLO\n")  # tr makes the same a.txt
        self.repro("a")
        self.assertEqual(self.runs(), ["a"])
        self.write("in.txt", b"hello\n")
        # a is restored from the run-cache (counts as reproduced), which forces b and c
        code, out, err = self.repro("--force-downstream")
        self.assertIn("Stage 'a' is cached - skipping run, checking out outputs", out)
        self.assertEqual(self.runs(), ["b", "c"])

    def test_pipeline_flag(self):
        self.repro("-f", "-p", "b")
        self.assertEqual(self.runs(), ["a", "b", "c"])

    def test_all_pipelines_flag(self):
        self.write("dvc.yaml", DVC_YAML + "  solo:\n    cmd: echo solo >> runs.log\n")
        self.repro("-f", "-P")
        self.assertEqual(sorted(self.runs()), ["a", "b", "c", "solo"])

    def test_glob(self):
        self.repro("-f", "-s", "--glob", "[ab]")
        self.assertEqual(sorted(self.runs()), ["a", "b"])

    def test_unknown_target(self):
        code, out, err = self.repro("nosuch", check=None)
        self.assertEqual(code, 255)
        self.assertIn("ERROR", err)
        self.assertEqual(self.runs(), [])


class TestFailures(PipelineCase):
    def test_failing_command(self):
        self.write("dvc.yaml", DVC_YAML.replace(CMD_B, "echo b >> runs.log && exit 3"))
        code, out, err = self.repro(check=None)
        self.assertEqual(code, 255)
        self.assertEqual(self.runs(), ["a", "b"])
        self.assertIn("ERROR: failed to reproduce 'b': failed to run: "
                      "echo b >> runs.log && exit 3, exited with 3", err)
        lock = self.read("dvc.lock").decode()
        self.assertIn("\n  a:\n", lock)
        self.assertNotIn("\n  b:\n", lock)
        self.assertNotIn("\n  c:\n", lock)

    def test_output_not_produced(self):
        self.write("dvc.yaml", DVC_YAML.replace(CMD_A, "echo a >> runs.log"))
        code, out, err = self.repro(check=None)
        self.assertEqual(code, 255)
        self.assertIn("output 'a.txt' does not exist", err)
        self.assertFalse(self.exists("dvc.lock"))

    def test_keep_going_skips_descendants(self):
        self.write("dvc.yaml", DVC_YAML.replace(CMD_B, "echo b >> runs.log && false")
                   + "  solo:\n    cmd: echo solo >> runs.log\n")
        code, out, err = self.repro("-k", check=None)
        self.assertEqual(code, 255)
        ran = self.runs()
        self.assertIn("solo", ran)
        self.assertNotIn("c", ran)
        self.assertIn("Stage 'c' will be skipped due to this failure", out + err)

    def test_ignore_errors_exit_zero(self):
        self.write("dvc.yaml", DVC_YAML.replace(CMD_B, "echo b >> runs.log && false"))
        code, out, err = self.repro("--ignore-errors", check=None)
        self.assertEqual(code, 0, err)
        self.assertNotIn("c", self.runs())


class TestStageFlags(PipelineCase):
    def test_always_changed(self):
        self.write("dvc.yaml", DVC_YAML + "  tick:\n    cmd: echo tick >> runs.log\n"
                                          "    always_changed: true\n")
        self.repro()
        self.assertIn("tick", self.runs())
        self.assertEqual(self.json_out("status", "--json"), {"tick": ["always changed"]})
        self.repro()
        self.assertEqual(self.runs(), ["tick"])

    def test_frozen_stage_not_run(self):
        self.repro()
        self.runs()
        self.dvx("freeze", "a")
        self.assertIn("frozen: true", self.read("dvc.yaml").decode())
        self.write("in.txt", b"world\n")
        code, out, err = self.repro()
        self.assertEqual(self.runs(), ["c"])  # c depends on in.txt directly
        self.assertIn("stage: 'a' is frozen. Its dependencies are not going to be reproduced.",
                      out + err)
        self.dvx("unfreeze", "a")
        self.assertNotIn("frozen", self.read("dvc.yaml").decode())

    def test_persist_output_kept(self):
        self.write("dvc.yaml", "stages:\n  p:\n    cmd: echo x >> hist.txt\n    deps:\n"
                               "    - in.txt\n    outs:\n    - hist.txt:\n        persist: true\n")
        self.repro()
        self.write("in.txt", b"changed\n")
        self.repro()
        self.assertFileBytes("hist.txt", b"x\nx\n")

    def test_non_persist_output_deleted_before_run(self):
        self.write("dvc.yaml", "stages:\n  p:\n    cmd: echo x >> hist.txt\n    deps:\n"
                               "    - in.txt\n    outs:\n    - hist.txt\n")
        self.repro()
        self.write("in.txt", b"changed\n")
        self.repro()
        self.assertFileBytes("hist.txt", b"x\n")

    def test_wdir(self):
        self.write("sub/src.txt", b"abc\n")
        self.write("dvc.yaml", "stages:\n  w:\n    wdir: sub\n    cmd: cp src.txt dst.txt\n"
                               "    deps:\n    - src.txt\n    outs:\n    - dst.txt\n")
        self.repro()
        self.assertFileBytes("sub/dst.txt", b"abc\n")
        self.assertFileBytes("sub/.gitignore", b"/dst.txt\n")
        lock = self.read("dvc.lock").decode()
        self.assertIn("    - path: src.txt\n", lock)
        self.assertIn("    - path: dst.txt\n", lock)

    def test_foreach_target(self):
        self.write("dvc.yaml", "stages:\n  fe:\n    foreach: [x, y]\n    do:\n"
                               "      cmd: echo ${item} >> runs.log && echo ${item} > ${item}.txt\n"
                               "      deps:\n      - in.txt\n      outs:\n      - ${item}.txt\n")
        self.repro("fe@y")
        self.assertEqual(self.runs(), ["y"])
        self.repro()
        self.assertEqual(self.runs(), ["x"])
        lock = self.read("dvc.lock").decode()
        # entries in the order they were first written; the cmd as interpolated
        self.assertEqual(re.findall(r"^  (\S+):$", lock, re.M), ["fe@y", "fe@x"])
        self.assertIn("  fe@x:\n    cmd: echo x >> runs.log && echo x > x.txt\n", lock)
        self.assertFileBytes("x.txt", b"x\n")

    def test_gitignore_written_before_a_stage_hashes_its_folder(self):
        # DVC writes each stage's .gitignore lines as it saves the outputs: a later stage whose
        # dep is the folder hashes it with them, so status right after the repro is clean.
        for i in range(6):
            self.write(f"in/s{i}.txt", f"input {i}\n".encode())
        os.makedirs(self.p("out"), exist_ok=True)
        items = "".join(f"      - s{i}\n" for i in range(6))
        self.write("dvc.yaml", "stages:\n  copy:\n    foreach:\n" + items + "    do:\n"
                               "      cmd: cp in/${item}.txt out/${item}.txt\n"
                               "      deps:\n      - in/${item}.txt\n      outs:\n      - out/${item}.txt\n"
                               "  collect:\n    cmd: cat out/*.txt > all.txt\n    deps:\n    - out\n"
                               "    outs:\n    - all.txt\n")
        self.repro()
        self.assertFileBytes("out/.gitignore", "".join(f"/s{i}.txt\n" for i in range(6)).encode())
        self.assertEqual(self.json_out("status", "--json"), {})
        lock = self.read("dvc.lock").decode()
        self.assertIn("    - path: out\n      hash: md5\n", lock)
        self.assertIn("      nfiles: 7\n", lock)  # six copies and their .gitignore
        code, out, err = self.repro()
        self.assertIn("Stage 'collect' didn't change, skipping\n", out)

    def test_allow_missing(self):
        self.repro()
        self.runs()
        os.remove(self.p("a.txt"))
        os.chmod(self.p(".dvc", "cache"), 0o755)
        oid = dvxtest.md5_bytes(b"HELLO\n")
        os.chmod(self.cache_path(oid), 0o644)
        os.remove(self.cache_path(oid))
        self.repro("--allow-missing")
        self.assertEqual(self.runs(), [])
        self.assertFalse(self.exists("a.txt"))


class TestStageList(dvxtest.DvxTestCase):
    """`stage list` descriptions and which broken dvc.yaml files stop it (checked with DVC 3.64)."""

    def setUp(self):
        super().setUp()
        self.make_repo()
        self.write("params.yaml", "lr: 1\np: 2\n")
        self.write("other.yaml", "k: 1\n")
        self.write("dvc.yaml", "stages:\n  a:\n    cmd: echo a\n"
                   "  b:\n    cmd: echo b\n    deps: [x.txt, y.txt]\n    params: [lr, other.yaml: [k], p]\n"
                   "  c:\n    cmd: echo c\n    params: [lr]\n"
                   "  d:\n    cmd: echo d\n    outs: [o.txt]\n    metrics: [m.json]\n")
        self.write("sub/dvc.yaml", "stages:\n  s:\n    cmd: [\n")

    def test_descriptions_and_broken_files(self):
        code, out, err = self.run("stage", "list")
        self.assertEqual(out, "a  No outputs or dependencies\n"
                              "b  Depends on x.txt, y.txt, params.yaml, other.yaml\n"
                              "c  Depends on params.yaml\n"
                              "d  Outputs o.txt; Reports m.json\n")
        # other dvc.yaml files are not read without targets, even with -R/--fail
        for args in (["-R"], ["--fail"], ["-R", "--fail"]):
            self.assertEqual(self.run("stage", "list", *args)[1], out, args)
        # -R over a folder: a dvc.yaml found there that does not load is skipped ...
        code, out2, err = self.run("stage", "list", "-R", ".")
        self.assertEqual(out2, out)
        self.assertEqual(self.run("stage", "list", "--all")[1], out)
        # ... unless --fail; a file named as target always stops the command
        for args in (["-R", "--fail", "."], ["--all", "--fail"], ["sub/dvc.yaml"]):
            code, o, err = self.run("stage", "list", *args, check=None)
            self.assertEqual(code, 255, args)
            self.assertIn("'./sub/dvc.yaml' is invalid.", err, args)


class TestParallelJobs(PipelineCase):
    """`-j` is a dvx addition (DVC has no parallel repro)."""

    def setUp(self):
        if is_real_dvc():
            self.skipTest("-j/--jobs for repro is dvx-only")
        super().setUp()

    def test_jobs_same_lock(self):
        self.repro("-j", "2")
        self.assertEqual(sorted(self.runs()), ["a", "b", "c"])
        self.assertFileBytes("dvc.lock", expected_lock())

    def _slow_and_failing(self):
        # "slow" would take 60 s; "fails" fails at once. Without -k the failure stops "slow"
        # (its whole process group) rather than waiting for it; with -k "slow" is finished.
        self.write("dvc.yaml", "stages:\n"
                   "  slow:\n    cmd: sleep 60 && echo slow > slow.txt\n    outs:\n    - slow.txt\n"
                   "  fails:\n    cmd: sleep 0.3 && exit 4\n"
                   "  quick:\n    cmd: sleep 2 && echo q > q.txt\n    outs:\n    - q.txt\n")

    def test_failure_stops_running_stages_without_keep_going(self):
        self._slow_and_failing()
        t0 = time.monotonic()
        code, out, err = self.repro("-j", "3", check=None)
        took = time.monotonic() - t0
        self.assertEqual(code, 255, err)
        self.assertIn("failed to reproduce 'fails'", err)
        self.assertIn("stage 'slow' was stopped: another stage failed", err)
        self.assertLess(took, 30, "the 60 s stage was waited for")
        self.assertFalse(self.exists("slow.txt"))
        lock = self.read("dvc.lock").decode() if self.exists("dvc.lock") else ""
        self.assertNotIn("slow:", lock)
        self.assertNotIn("fails:", lock)
        # nothing of the stopped stage is left running
        ps = subprocess.run(["pgrep", "-f", "sleep 60 && echo slow"], capture_output=True, text=True)
        self.assertEqual(ps.stdout.strip(), "")
        # and the next run works
        self.write("dvc.yaml", self.read("dvc.yaml").decode().replace("sleep 60 && ", "").replace(
            "sleep 0.3 && exit 4", "echo ok"))
        self.repro("-j", "3")
        self.assertEqual(self.read("slow.txt"), b"slow\n")

    def test_keep_going_finishes_running_stages(self):
        self.write("dvc.yaml", "stages:\n"
                   "  slow:\n    cmd: sleep 1.5 && echo slow > slow.txt\n    outs:\n    - slow.txt\n"
                   "  fails:\n    cmd: sleep 0.2 && exit 4\n")
        code, out, err = self.repro("-j", "2", "-k", check=None)
        self.assertEqual(code, 255, err)
        self.assertEqual(self.read("slow.txt"), b"slow\n")
        self.assertIn("\n  slow:\n", self.read("dvc.lock").decode())


if __name__ == "__main__":
    dvxtest.main()
