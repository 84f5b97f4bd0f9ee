"""`plots show` / `plots diff` / `plots templates` / `plots modify` (cli.md §6.9, formats.md §6.6, §8).

Golden rows: every `dvc plots ...` row of outputs/commands.tsv for the `pipeline` and `pipeline2`
fixtures (pages, --json, templates), byte for byte with `<REPO>` standing for the repo path.
The other expectations were recorded with DVC 3.64 (`dvc-real`) on the repositories built here;
`DVX_BIN=$(which dvc-real) python3 tests/e2e/test_plots.py` passes too (dvx-only `--offline` skips).
"""

import csv
import io
import json
import os
import random
import subprocess

import dvxtest

SPEC_SPLIT = (  # cli.md §6.9: `dvc plots diff HEAD -o .dvc/tmp/plots --split --json`
    '{"data": {"loss": [{"type": "vega", "revisions": ["workspace", "HEAD"], "content": {"$schema": '
    '"https://vega.github.io/schema/vega-lite/v5.json", "data": {"values": "<DVC_METRIC_DATA>"}, "title": '
    '{"text": "<DVC_METRIC_TITLE>", "anchor": "middle"}, "width": "<DVC_METRIC_PLOT_WIDTH>", "height": '
    '"<DVC_METRIC_PLOT_HEIGHT>", "params": [{"name": "smooth", "value": 0.001, "bind": {"input": "range", '
    '"min": 0.001, "max": 1, "step": 0.001}}], "encoding": {"x": {"field": "epoch", "type": "quantitative", '
    '"title": "<DVC_METRIC_X_LABEL>"}, "color": "<DVC_METRIC_COLOR>", "strokeDash": {}}, "layer": [{"layer": '
    '[{"params": ["<DVC_METRIC_ZOOM_AND_PAN>"], "mark": "line"}, {"transform": [{"filter": {"param": "hover", '
    '"empty": false}}], "mark": "point"}], "encoding": {"y": {"field": "loss", "type": "quantitative", "title": '
    '"<DVC_METRIC_Y_LABEL>", "scale": {"zero": false}}, "color": {"field": "rev", "type": "nominal"}}, '
    '"transform": [{"loess": "loss", "on": "epoch", "groupby": ["rev"], "bandwidth": {"signal": "smooth"}}]}, '
    '{"mark": {"type": "line", "opacity": 0.2}, "encoding": {"x": {"field": "epoch", "type": "quantitative", '
    '"title": "<DVC_METRIC_X_LABEL>"}, "y": {"field": "loss", "type": "quantitative", "title": '
    '"<DVC_METRIC_Y_LABEL>", "scale": {"zero": false}}, "color": {"field": "rev", "type": "nominal"}}}, '
    '{"mark": {"type": "circle", "size": 10}, "encoding": {"x": {"aggregate": "max", "field": "epoch", "type": '
    '"quantitative", "title": "<DVC_METRIC_X_LABEL>"}, "y": {"aggregate": {"argmax": "epoch"}, "field": "loss", '
    '"type": "quantitative", "title": "<DVC_METRIC_Y_LABEL>", "scale": {"zero": false}}, "color": {"field": '
    '"rev", "type": "nominal"}}}, {"transform": [{"calculate": "datum.rev", "as": "pivot_field"}, {"pivot": '
    '"pivot_field", "op": "mean", "value": "loss", "groupby": ["epoch"]}], "mark": {"type": "rule", "tooltip": '
    '{"content": "data"}, "stroke": "grey"}, "encoding": {"opacity": {"condition": {"value": 0.3, "param": '
    '"hover", "empty": false}, "value": 0}}, "params": [{"name": "hover", "select": {"type": "point", "fields": '
    '["epoch"], "nearest": true, "on": "mouseover", "clear": "mouseout"}}]}]}, "anchor_definitions": '
    '{"<DVC_METRIC_COLOR>": {"field": "rev", "scale": {"domain": ["workspace", "HEAD"], "range": ["#945dd6", '
    '"#13adc7"]}}, "<DVC_METRIC_ZOOM_AND_PAN>": {"name": "grid", "select": "interval", "bind": "scales"}, '
    '"<DVC_METRIC_PLOT_HEIGHT>": 300, "<DVC_METRIC_PLOT_WIDTH>": 300, "<DVC_METRIC_TITLE>": "loss", '
    '"<DVC_METRIC_X_LABEL>": "epoch", "<DVC_METRIC_Y_LABEL>": "loss", "<DVC_METRIC_DATA>": [{"epoch": "1", '
    '"loss": "0.8", "rev": "workspace"}, {"epoch": "2", "loss": "0.4", "rev": "workspace"}, {"epoch": "1", '
    '"loss": "0.9", "rev": "HEAD"}, {"epoch": "2", "loss": "0.5", "rev": "HEAD"}]}}]}}\n')

SPEC_YAML = b"plots:\n- loss:\n    x: epoch\n    y:\n      train.csv: loss\n"


def vega_dir():
    """The folder with the three libraries, searched as dvx does (api/plots.h), else None."""
    dirs = [os.environ["DVX_VEGA_DIR"]] if os.environ.get("DVX_VEGA_DIR") else [
        os.path.expanduser("~/.local/share/dvx/vega"), "/usr/local/share/dvx/vega", "/usr/share/dvx/vega"]
    for d in dirs:
        if all(os.path.isfile(os.path.join(d, f)) for f in ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js")):
            return d
    return None


class TestRecordedPlots(dvxtest.DvxTestCase):
    """The `dvc plots` rows of commands.tsv, run through bash with `dvc` bound to the binary."""

    def run_row(self, row):
        self.extract_fixture(row["fixture"])
        env = dict(self.env, DVX_UNDER_TEST=dvxtest.DVX_BIN)
        script = f'dvc() {{ "$DVX_UNDER_TEST" "$@"; }}\n{row["command"]}\n'
        proc = subprocess.run(["bash", "-c", script], cwd=self.repo, env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=dvxtest.TIMEOUT)
        out = proc.stdout.decode()
        self.assertEqual(proc.returncode, row["exit_code"], proc.stderr.decode())
        self.assertEqual(out, dvxtest.output_text(row["file"]).replace("<REPO>", self.repo))
        self.assertEqual(proc.stderr.decode(), "")


def _row_test(row):
    def test(self):
        self.run_row(row)
    test.__doc__ = f"{row['file']}: {row['command']}"
    return test


for _row in dvxtest.read_commands_tsv():
    if _row["fixture"] in ("pipeline", "pipeline2") and _row["command"].startswith("dvc plots"):
        setattr(TestRecordedPlots, "test_" + _row["file"].replace(".", "_").replace("-", "_"), _row_test(_row))


class PlotsRepo(dvxtest.DvxTestCase):
    def spec_repo(self):
        """cli.md §6.9's example: train.csv committed, then changed in the workspace."""
        self.make_repo()
        self.write("train.csv", b"epoch,loss\n1,0.9\n2,0.5\n")
        self.write("dvc.yaml", SPEC_YAML)
        self.commit_all("first")
        self.write("train.csv", b"epoch,loss\n1,0.8\n2,0.4\n")


class TestSpecExample(PlotsRepo):
    def test_split_json_matches_spec(self):
        self.spec_repo()
        self.assertEqual(self.dvx("plots", "diff", "HEAD", "-o", ".dvc/tmp/plots", "--split", "--json"), SPEC_SPLIT)
        self.assertFalse(self.exists(".dvc/tmp/plots"))

    def test_show_vega(self):
        self.spec_repo()
        self.commit_all("second")
        out = self.dvx("plots", "show", "--show-vega", "loss")
        self.assertEqual(len(out), 2048)
        spec = json.loads(out)
        self.assertEqual(spec["data"]["values"], [{"epoch": "1", "loss": "0.8", "rev": "workspace"},
                                                  {"epoch": "2", "loss": "0.4", "rev": "workspace"}])
        self.assertFalse(self.exists("dvc_plots"))

    def test_show_vega_argument_errors(self):
        self.spec_repo()
        for args, msg in ((("--show-vega",), "ERROR: please specify a target for `--show-vega`\n"),
                          (("--show-vega", "a", "b"), "ERROR: you can only specify one target for `--show-vega`\n"),
                          (("--show-vega", "loss", "--json"),
                           "ERROR: '--show-vega' and '--json' are mutually exclusive options.\n")):
            code, out, err = self.run("plots", "show", *args)
            self.assertEqual((code, out, err), (1, "", msg))

    def test_page_lines_and_uri(self):
        self.spec_repo()
        out = self.dvx("plots", "show")
        self.assertEqual(out, "file://" + self.repo + "/dvc_plots/index.html\n")
        page = self.read("dvc_plots/index.html").decode()
        self.assertTrue(page.startswith("<!DOCTYPE html>\n<html>\n<head>\n    \n    <title>DVC Plot</title>\n"))
        self.assertIn('    <div id = "loss">\n', page)
        self.assertIn('<script src="https://cdn.jsdelivr.net/npm/vega@5.20.2"></script>', page)
        self.assertFalse(page.endswith("\n"))


class TestRevisions(PlotsRepo):
    def revs(self, *args):
        return self.json_out("plots", "diff", *args, "--json")["data"]["loss"][0]["revisions"]

    def test_revision_order_and_defaults(self):
        self.spec_repo()
        self.assertEqual(self.revs(), ["workspace", "HEAD"])  # tracked file modified
        self.assertEqual(self.revs("HEAD"), ["workspace", "HEAD"])
        self.commit_all("second")
        self.assertEqual(self.revs(), ["workspace"])  # clean work tree
        self.assertEqual(self.revs("HEAD~1", "HEAD"), ["HEAD~1", "HEAD"])
        self.assertEqual(self.revs("HEAD", "HEAD~1"), ["HEAD", "HEAD~1"])

    def test_diff_of_two_commits_reads_each_tree(self):
        self.spec_repo()
        self.commit_all("second")
        self.write("train.csv", b"epoch,loss\n1,0.1\n")
        values = self.json_out("plots", "diff", "HEAD~1", "HEAD", "--json")["data"]["loss"][0]["content"]["data"]["values"]
        self.assertEqual(values, [{"epoch": "1", "loss": "0.9", "rev": "HEAD~1"}, {"epoch": "2", "loss": "0.5", "rev": "HEAD~1"},
                                  {"epoch": "1", "loss": "0.8", "rev": "HEAD"}, {"epoch": "2", "loss": "0.4", "rev": "HEAD"}])

    def test_cached_plot_output_read_from_cache_at_a_revision(self):
        self.extract_fixture("pipeline")
        # plots/loss.csv is in Git; reading HEAD~1 must give the first run's numbers.
        data = self.json_out("plots", "diff", "HEAD~1", "--json")["data"]["plots/loss.csv"][0]
        self.assertEqual(data["revisions"], ["workspace", "HEAD~1"])

    def test_directory_of_plots_at_a_commit(self):
        # Recorded with DVC 3.64: a folder definition stands for each file in it, at every revision.
        self.make_repo()
        self.write("logs/acc.csv", b"step,acc\n0,0.1\n1,0.2\n")
        self.write("logs/loss.csv", b"step,loss\n0,0.9\n1,0.5\n")
        self.write("dvc.yaml", b"plots:\n- logs:\n    x: step\n")
        self.commit_all("one")
        self.write("logs/acc.csv", b"step,acc\n0,0.3\n")
        self.commit_all("two")
        acc_1 = [{"step": "0", "acc": "0.1", "rev": "HEAD~1"}, {"step": "1", "acc": "0.2", "rev": "HEAD~1"}]
        loss = [{"step": "0", "loss": "0.9"}, {"step": "1", "loss": "0.5"}]
        for revs, expected in (
                (["HEAD~1"], {"logs/acc.csv": ([{"step": "0", "acc": "0.3", "rev": "workspace"}] + acc_1,
                                               ["workspace", "HEAD~1"]),
                              "logs/loss.csv": ([dict(r, rev=rev) for rev in ("workspace", "HEAD~1") for r in loss],
                                                ["workspace", "HEAD~1"])}),
                (["HEAD~1", "HEAD"], {"logs/acc.csv": (acc_1 + [{"step": "0", "acc": "0.3", "rev": "HEAD"}],
                                                       ["HEAD~1", "HEAD"]),
                                      "logs/loss.csv": ([dict(r, rev=rev) for rev in ("HEAD~1", "HEAD") for r in loss],
                                                        ["HEAD~1", "HEAD"])})):
            d = self.json_out("plots", "diff", *revs, "--json")
            self.assertEqual(list(d), ["data"])
            self.assertEqual(list(d["data"]), ["logs/acc.csv", "logs/loss.csv"])
            for name, (values, rev_names) in expected.items():
                entry = d["data"][name][0]
                self.assertEqual(entry["revisions"], rev_names)
                self.assertEqual(entry["content"]["data"]["values"], values)


class TestImagesAndErrors(PlotsRepo):
    def setup_repo(self):
        self.make_repo()
        self.write("train.csv", b"epoch,loss\n1,0.9\n2,0.5\n")
        self.write("img.png", b"\x89PNGfake")
        self.write("bad.json", b'{"a": [1,')
        self.write("dvc.yaml", SPEC_YAML + b"- img.png\n- missing.csv\n- bad.json\n")
        self.commit_all("first")

    def test_json_errors_and_image_url(self):
        self.setup_repo()
        code, out, err = self.run("plots", "show", "--json")
        self.assertEqual(code, 0)
        self.assertEqual(err, "DVC failed to load some plots for following revisions: 'workspace'.\n")
        d = json.loads(out)
        self.assertEqual(d["errors"], [
            {"name": "missing.csv", "rev": "workspace", "source": "missing.csv", "type": "FileNotFoundError",
             "msg": "[Errno 2] No such file or directory: 'missing.csv'"},
            {"name": "bad.json", "rev": "workspace", "source": "bad.json", "type": "JSONFileCorruptedError",
             "msg": "unable to read: 'bad.json', JSON file structure is corrupted"}])
        self.assertEqual(d["data"]["img.png"], [{"type": "image", "revisions": ["workspace"],
                                                 "url": self.repo + "/dvc_plots/workspace_img.png"}])
        self.assertEqual(d["data"]["missing.csv"], [])
        self.assertFileBytes("dvc_plots/workspace_img.png", b"\x89PNGfake")

    def test_page_with_image_block(self):
        self.setup_repo()
        code, out, err = self.run("plots", "diff", "HEAD")
        self.assertEqual(code, 0)
        self.assertEqual(err, "DVC failed to load some plots for following revisions: 'workspace, HEAD'.\n")
        page = self.read("dvc_plots/index.html").decode()
        self.assertIn('            id="img_png"', page)
        self.assertIn("<p>workspace</p>\n                    <img src=\"static/workspace_img.png\">", page)
        self.assertIn("<p>HEAD</p>\n                    <img src=\"static/HEAD_img.png\">", page)
        self.assertFileBytes("dvc_plots/static/HEAD_img.png", b"\x89PNGfake")

    def test_no_plots(self):
        self.make_repo()
        code, out, err = self.run("plots", "show")
        self.assertEqual((code, out, err), (0, "", "No plots were loaded, visualization file will not be created.\n"))
        self.assertFalse(self.exists("dvc_plots"))
        self.assertEqual(self.run("plots", "show", "--json"), (0, "{}\n", ""))


class TestDefinitions(PlotsRepo):
    def test_target_also_defined_gives_two_plots(self):
        self.make_repo()
        self.write("train.csv", b"epoch,loss\n1,0.9\n")
        self.write("dvc.yaml", b"plots:\n- train.csv:\n    x: epoch\n")
        data = self.json_out("plots", "show", "train.csv", "--json")["data"]
        self.assertEqual(list(data), ["dvc.yaml::train.csv", "train.csv"])
        self.assertEqual(data["train.csv"][0]["content"]["data"]["values"],
                         [{"epoch": "1", "loss": "0.9", "step": 0, "rev": "workspace"}])

    def test_formats_props_and_custom_template(self):
        self.make_repo()
        self.write("m.tsv", b"epoch\tloss\tacc\n1\t0.9\t0.1\n2\t0.5\t0.6\n")
        self.write("m.yaml", b"train:\n- {step: 1, loss: 1.5}\n- {step: 2, loss: 0.5}\n")
        self.write("nh.csv", b"1,2\n3,4\n")
        self.write(".dvc/plots/mine.json", b'{"data": {"values": "<DVC_METRIC_DATA>"}, "mark": "line", '
                   b'"encoding": {"x": {"field": "<DVC_METRIC_X>"}, "y": {"field": "<DVC_METRIC_Y>"}}}')
        self.write("dvc.yaml", b"stages:\n  st:\n    cmd: echo\n    plots:\n    - nh.csv:\n        cache: false\n"
                   b"        header: false\n        x: '0'\nplots:\n- multi:\n    x: epoch\n    y:\n"
                   b"      m.tsv: [loss, acc]\n    title: Multi\n- m.yaml:\n    template: mine\n    y: loss\n")
        data = self.json_out("plots", "show", "--json")["data"]
        multi = data["multi"][0]["content"]
        self.assertEqual(multi["title"], {"text": "Multi", "anchor": "middle"})
        self.assertEqual(multi["layer"][0]["encoding"]["y"]["field"], "dvc_inferred_y_value")
        self.assertEqual(multi["encoding"]["strokeDash"]["scale"]["domain"], ["acc", "loss"])
        self.assertEqual(data["m.yaml"][0]["content"], {
            # no optional anchors in the template: "filename"/"field" stay; x defaults to the row index
            "data": {"values": [{"step": 0, "loss": 1.5, "rev": "workspace", "filename": "m.yaml", "field": "loss"},
                                {"step": 1, "loss": 0.5, "rev": "workspace", "filename": "m.yaml", "field": "loss"}]},
            "mark": "line", "encoding": {"x": {"field": "step"}, "y": {"field": "loss"}}})
        self.assertEqual(data["nh.csv"][0]["content"]["data"]["values"],
                         [{"0": "1", "1": "2", "rev": "workspace"}, {"0": "3", "1": "4", "rev": "workspace"}])
        # command-line properties override the definitions'
        spec = self.json_out("plots", "show", "m.tsv", "-x", "epoch", "-y", "acc", "--title", "T", "--json")
        content = spec["data"]["m.tsv"][0]["content"]
        self.assertEqual(content["title"]["text"], "T")
        self.assertEqual(content["layer"][0]["encoding"]["y"]["field"], "acc")


class TestTemplatesAndModify(PlotsRepo):
    def test_templates(self):
        self.make_repo()
        self.assertEqual(self.dvx("plots", "templates").split(),
                         ["simple", "linear", "confusion", "confusion_normalized", "scatter", "scatter_jitter",
                          "smooth", "bar_horizontal_sorted", "bar_horizontal"])
        code, out, err = self.run("plots", "templates", "nope")
        self.assertEqual((code, out, err), (1, "", "ERROR: Unexpected template: nope.\n"))

    STAGE = (b"stages:\n  st:\n    cmd: echo\n    outs:\n    - x.csv:\n        cache: false\n    plots:\n"
             b"    - nh.csv:\n        cache: false\n        header: false\n        x: \"0\"\n        title: Old\n")

    def test_modify_sets_and_unsets(self):
        self.make_repo()
        self.write("dvc.yaml", self.STAGE)
        self.assertEqual(self.dvx("plots", "modify", "nh.csv", "-y", "1", "--title", "Hello"),
                         "Modifying stage 'st' in 'dvc.yaml'\n")
        self.assertEqual(self.read("dvc.yaml"), self.STAGE.replace(b'"0"', b"'0'").replace(b"Old", b"Hello") +
                         b"        y: '1'\n")
        self.dvx("plots", "modify", "nh.csv", "--unset", "title", "y")
        self.assertEqual(self.read("dvc.yaml"), self.STAGE.replace(b'"0"', b"'0'").replace(b"        title: Old\n", b""))
        code, out, err = self.run("plots", "modify", "nh.csv", "--unset", "nope")
        self.assertEqual((code, err), (255, "ERROR: display properties ['nope'] not found in plot 'nh.csv'\n"))
        code, out, err = self.run("plots", "modify", "m.tsv", "-x", "a")
        self.assertEqual((code, err), (255, "ERROR: Unable to find DVC file with output 'm.tsv'\n"))

    def test_modify_turns_an_output_into_a_plot(self):
        self.make_repo()
        self.write("dvc.yaml", self.STAGE)
        self.dvx("plots", "modify", "x.csv", "-x", "a")
        self.assertEqual(self.read("dvc.yaml"),
                         b"stages:\n  st:\n    cmd: echo\n    plots:\n    - nh.csv:\n        cache: false\n"
                         b"        x: '0'\n        title: Old\n        header: false\n    - x.csv:\n        cache: false\n"
                         b"        x: a\n")


class TestCsvRowsAgainstPython(PlotsRepo):
    """Differential: generated CSV files (quoting, delimiters and newlines inside fields, escapes,
    control characters, unicode, short rows, blank lines, repeated and special column names) read
    by dvx give the rows Python's csv.DictReader gives (what DVC reads), and the JSON text is what
    json.dumps writes for them."""

    CELLS = ["", "0", "1.5", "-2e-7", "a b", 'say "hi"', "x,y", "line\nbreak", "tab\there", "back\\slash",
             "\u00e9t\u00e9", "\u2014", "\U0001f600", "\x01", "\x7f", "'q'", "</script>", "null", "{}", "[1]"]
    NAMES = ["step", "loss", "acc", "rev", "field", "filename", "\u00e9", "a b", "c,d", 'q"t', "null", "x"]

    def make_csv(self, rnd):
        names = [rnd.choice(self.NAMES) for _ in range(rnd.randint(1, 4))]
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator=rnd.choice(["\n", "\r\n"]))
        w.writerow(names)
        for _ in range(rnd.randint(1, 8)):
            if rnd.random() < 0.1:
                buf.write("\n")  # a blank line: no row
            n = len(names) if rnd.random() < 0.8 else rnd.randint(1, len(names))
            w.writerow([rnd.choice(self.CELLS) for _ in range(n)])
        return buf.getvalue()

    def test_generated_files(self):
        self.make_repo()
        rnd = random.Random(11)
        files = {}
        for i in range(25):
            name = f"d{i}.csv"
            files[name] = self.make_csv(rnd)
            self.write(name, files[name].encode())
        code, out, err = self.run("plots", "show", "--json", *files)
        self.assertEqual(code, 0, err)
        # the text is json.dumps's own
        self.assertEqual(out, json.dumps(json.loads(out)) + "\n")
        data = json.loads(out)["data"]
        for name, text in files.items():
            rows = list(csv.DictReader(io.StringIO(text, newline=None)))
            # one file, one field: DVC drops "filename" and "field" again (_update_datapoints)
            want = [{k: v for k, v in {**{("null" if k is None else k): v for k, v in r.items()},
                                       "step": i, "rev": "workspace"}.items() if k not in ("filename", "field")}
                    for i, r in enumerate(rows)]
            got = data[name][0]["content"]["data"]["values"]
            self.assertEqual(json.dumps(got), json.dumps(want), name + ":\n" + text)


class TestModifyKeepsComments(PlotsRepo):
    """`plots modify` applies the serialized stage to the loaded document as DVC's apply_diff does,
    so comments outside the changed entries stay (recorded with dvc 3.64)."""

    COMMENTED = (b"# top comment\nstages:\n  train:  # the training stage\n    cmd: python train.py  # runs it\n"
                 b"    deps:\n    - train.py\n    plots:\n    # the loss curve\n    - loss.csv:\n        x: step  # x axis\n"
                 b"    - acc.csv\n    outs:\n    - model.pkl\n# trailing comment\n")
    HEAD = b"# top comment\nstages:\n  train:  # the training stage\n    cmd: python train.py  # runs it\n" \
           b"    deps:\n    - train.py\n    plots:\n"

    def test_comments_stay_through_modify_and_unset(self):
        self.make_repo()
        self.write("dvc.yaml", self.COMMENTED)
        self.assertEqual(self.dvx("plots", "modify", "loss.csv", "--title", "Loss", "-y", "loss"),
                         "Modifying stage 'train' in 'dvc.yaml'\n")
        # the plots are serialized sorted by path; same length, so entry by entry
        self.assertEqual(self.read("dvc.yaml"), self.HEAD + (
            b"    # the loss curve\n    - acc.csv\n    - loss.csv:\n        x: step\n        y: loss\n"
            b"        title: Loss\n    outs:\n    - model.pkl\n# trailing comment\n"))
        self.dvx("plots", "modify", "acc.csv", "-x", "step")
        self.assertEqual(self.read("dvc.yaml"), self.HEAD + (
            b"    # the loss curve\n    - acc.csv:\n        x: step\n    - loss.csv:\n        x: step\n        y: loss\n"
            b"        title: Loss\n    outs:\n    - model.pkl\n# trailing comment\n"))
        # an output that becomes a plot: the plots list is replaced, `outs` goes (with the comment after it)
        self.dvx("plots", "modify", "model.pkl", "-x", "e")
        tail = b"    - acc.csv:\n        x: step\n    - loss.csv:\n        x: step\n        y: loss\n        title: Loss\n"
        self.assertEqual(self.read("dvc.yaml"), self.HEAD + tail + b"    - model.pkl:\n        x: e\n")
        self.dvx("plots", "modify", "loss.csv", "--unset", "x")
        self.assertEqual(self.read("dvc.yaml"), self.HEAD + tail.replace(b"        x: step\n        y", b"        y") +
                         b"    - model.pkl:\n        x: e\n")

    def test_item_comments_stay_with_their_index(self):
        # deps are serialized sorted: the items change places, their end-of-line comments do not
        self.make_repo()
        self.write("dvc.yaml", b"stages:\n  prep:\n    cmd: echo prep  # prep\n    deps:\n    - z.py\n    - a.py  # first\n"
                               b"    params:\n    - lr\n    metrics:\n    - m.json:\n        cache: false\n    plots:\n"
                               b"    - p.csv:\n        title: T\n        x: step\n        cache: false\n  train:\n    cmd: echo t\n")
        self.dvx("plots", "modify", "p.csv", "--no-header", "-y", "v")
        self.dvx("plots", "modify", "m.json", "-x", "a", "--x-label", "XL")
        self.assertEqual(self.read("dvc.yaml"), (
            b"stages:\n  prep:\n    cmd: echo prep  # prep\n    deps:\n    - a.py\n    - z.py  # first\n    params:\n"
            b"    - lr\n    plots:\n    - m.json:\n        cache: false\n        x: a\n        x_label: XL\n    - p.csv:\n"
            b"        cache: false\n        x: step\n        y: v\n        title: T\n        header: false\n  train:\n"
            b"    cmd: echo t\n"))

    def test_template_flag_without_a_value(self):
        # `-t` takes an optional value (nargs="?"): alone it means no template
        self.spec_repo()
        self.assertEqual(self.json_out("plots", "show", "--json", "-t"), self.json_out("plots", "show", "--json"))
        # `--targets` of plots diff takes zero or more values (nargs="*")
        self.assertEqual(self.json_out("plots", "diff", "--json", "--targets"), self.json_out("plots", "diff", "--json"))


class TestOffline(PlotsRepo):
    def setUp(self):
        super().setUp()
        if dvxtest.is_real_dvc():
            self.skipTest("--offline is dvx's own option")

    def test_offline_page_inlines_the_libraries(self):
        d = vega_dir()
        if d is None:
            self.skipTest("Vega libraries not installed (run `./dev setup`, or set DVX_VEGA_DIR)")
        self.spec_repo()
        self.dvx("plots", "show", "--offline", env={"DVX_VEGA_DIR": d})
        page = self.read("dvc_plots/index.html").decode()
        self.assertNotRegex(page, r"<script[^>]*\ssrc\s*=\s*[\"']?https?:")
        self.assertNotIn("cdn.jsdelivr.net", page)
        for name in ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js"):
            with open(os.path.join(d, name)) as f:
                self.assertIn(f.read(), page)
        self.assertIn("vegaEmbed('#loss', spec);", page)
        # the same through the config
        self.sh("rm -rf dvc_plots")
        self.write(".dvc/config", b"[plots]\n    offline = true\n")
        self.dvx("plots", "show", env={"DVX_VEGA_DIR": d})
        self.assertNotIn("cdn.jsdelivr.net", self.read("dvc_plots/index.html").decode())

    def test_offline_without_libraries_is_a_clear_error(self):
        self.spec_repo()
        code, out, err = self.run("plots", "show", "--offline", env={"DVX_VEGA_DIR": os.path.join(self.tmp, "none")})
        self.assertEqual(code, 1)
        self.assertIn("vega.min.js", err)
        self.assertIn("./dev setup", err)
        self.assertFalse(self.exists("dvc_plots/index.html"))


if __name__ == "__main__":
    import unittest
    unittest.main()
