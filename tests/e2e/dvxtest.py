"""Helpers for the dvx end-to-end tests (Python 3 standard library only).

Every test runs the built dvx binary (env DVX_BIN, default /work/main/build/dvx) in a fresh
temporary directory with an isolated HOME, empty DVC global/system config dirs, its own site
cache dir and NO_COLOR=1.  The temporary directory is deleted when the test passes and kept
(its path printed on stderr) when it fails; set DVX_KEEP_TMP=1 to always keep it.

Fixtures (tests/fixtures, or env DVX_FIXTURES): the golden repositories made by real DVC 3.64
(`<name>.tar.gz`), `manifests/<name>.tsv`, `outputs/*` + `outputs/commands.tsv` and `detbytes.py`.
See tests/fixtures/COMPAT_README.md.
"""

import csv
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
DVX_BIN = os.environ.get("DVX_BIN") or "/work/main/build/dvx"
FIXTURES = os.environ.get("DVX_FIXTURES") or os.path.normpath(os.path.join(HERE, "..", "fixtures"))
OUTPUTS = os.path.join(FIXTURES, "outputs")
MANIFESTS = os.path.join(FIXTURES, "manifests")
TIMEOUT = float(os.environ.get("DVX_TEST_TIMEOUT", "60"))

# Deterministic permissions for files created by the tests and by dvx (the fixtures used 022).
os.umask(0o022)

# Exactly what `dvc init` writes (formats.md 10.3, fixture manifests).
DVC_GITIGNORE = b"/config.local\n/tmp\n/cache\n"
DVCIGNORE = (
    b"# Add patterns of files dvc should ignore, which could improve\n"
    b"# the performance. Learn more at\n"
    b"# https://dvc.org/doc/user-guide/dvcignore\n"
)

LOCK_MESSAGE = (
    "Unable to acquire lock. Most likely another DVC process is running or was terminated "
    "abruptly. Check the page <https://dvc.org/doc/user-guide/troubleshooting#lock-issue> for "
    "other possible reasons and to learn how to resolve this."
)

GIT_ENV = {
    "GIT_AUTHOR_NAME": "DVX Tests",
    "GIT_AUTHOR_EMAIL": "tests@dvx.invalid",
    "GIT_COMMITTER_NAME": "DVX Tests",
    "GIT_COMMITTER_EMAIL": "tests@dvx.invalid",
}


def is_real_dvc():
    """True when the binary under test is DVC itself (`DVX_BIN=$(which dvc-real)`): tests of
    dvx-only features skip then, and tests of behaviour where dvx is deliberately stricter accept
    DVC's. Decided by the binary's name (dvx answers `--version` exactly as DVC does)."""
    return os.path.basename(DVX_BIN).startswith("dvc")


def read_terminal(fd, timeout, on_chunk=None):
    """Reads the master side of a pseudo-terminal until the child closes it, handing each chunk
    to on_chunk; returns (bytes read, True if `timeout` seconds passed first)."""
    import select
    import time
    data = b""
    deadline = time.monotonic() + timeout
    while True:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return data, True
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed its side
            return data, False
        if not chunk:
            return data, False
        data += chunk
        if on_chunk:
            on_chunk(chunk)


def md5_bytes(data):
    return hashlib.md5(data).hexdigest()


def md5_file(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def dvc_file(md5, size, path, nfiles=None, isexec=False, legacy=False):
    """The bytes `dvc add` writes for one output (formats.md 2.2)."""
    text = f"outs:\n- md5: {md5}\n"
    if size is not None:
        text += f"  size: {size}\n"
    if nfiles is not None:
        text += f"  nfiles: {nfiles}\n"
    if isexec:
        text += "  isexec: true\n"
    if not legacy:
        text += "  hash: md5\n"
    text += f"  path: {path}\n"
    return text.encode()


def dir_manifest(entries):
    """Manifest bytes of a directory: entries = {relpath: md5} (formats.md 3.3)."""
    items = sorted(entries.items(), key=lambda kv: kv[0].encode("utf-8"))
    return json.dumps([{"md5": m, "relpath": p} for p, m in items], sort_keys=True).encode()


def cache_rel(oid):
    return os.path.join("files", "md5", oid[:2], oid[2:])


def parse_git_hint(stdout):
    """Files named in DVC's 'To track the changes with git, run:' hint, or None if absent."""
    m = re.search(r"To track the changes with git, run:\n\n\tgit add (.*)\n", stdout)
    if not m:
        return None
    return set(m.group(1).split(" "))


def set_lists(obj):
    """Turn every list of scalars into a sorted list (for Python-set-ordered outputs)."""
    if isinstance(obj, dict):
        return {k: set_lists(v) for k, v in obj.items()}
    if isinstance(obj, list):
        items = [set_lists(v) for v in obj]
        try:
            return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
        except TypeError:
            return items
    return obj


def read_commands_tsv():
    rows = []
    with open(os.path.join(OUTPUTS, "commands.tsv"), newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            rows.append({
                "file": row["file"],
                "fixture": row["fixture"],
                "exit_code": int(row["exit_code"]),
                "setup": row["setup (run first, in the repo dir)"],
                "command": row["command"],
            })
    return rows


def read_manifest(name):
    """manifests/<name>.tsv -> {path: (mode, size, md5)} for files (not dirs, not refs)."""
    out = {}
    with open(os.path.join(MANIFESTS, name + ".tsv"), encoding="utf-8") as f:
        next(f)
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if parts[0] == "ref" or parts[0].startswith("d"):
                continue
            mode, size, md5, path = parts
            out[path] = (mode, int(size), md5)
    return out


def output_text(name):
    with open(os.path.join(OUTPUTS, name), "rb") as f:
        return f.read().decode("utf-8")


class DvxTestCase(unittest.TestCase):
    """Base class: fresh temp dir per test; `self.repo` is <tmp>/repo (not created)."""

    maxDiff = None

    def __call__(self, *args, **kwds):
        # unittest's TestCase.__call__ calls self.run(result); `run` is our dvx helper here.
        return unittest.TestCase.run(self, *args, **kwds)

    def setUp(self):
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", self.id().split(".", 1)[-1])[:80]
        self.tmp = os.path.realpath(tempfile.mkdtemp(prefix=f"dvx-e2e-{name}-"))
        self.home = os.path.join(self.tmp, "home")
        self.global_config_dir = os.path.join(self.tmp, "cfg-global")
        self.system_config_dir = os.path.join(self.tmp, "cfg-system")
        self.site_cache_dir = os.path.join(self.tmp, "site-cache")
        for d in (self.home, self.global_config_dir, self.system_config_dir, self.site_cache_dir):
            os.makedirs(d)
        with open(os.path.join(self.home, ".gitconfig"), "w") as f:
            f.write("[user]\n\tname = DVX Tests\n\temail = tests@dvx.invalid\n"
                    "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n")
        self.repo = os.path.join(self.tmp, "repo")
        self.env = self._make_env()

    def _make_env(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("DVC_", "GIT_", "XDG_"))}
        env.update(GIT_ENV)
        env.update({
            "HOME": self.home,
            "XDG_CONFIG_HOME": os.path.join(self.home, ".config"),
            "XDG_CACHE_HOME": os.path.join(self.home, ".cache"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "DVC_GLOBAL_CONFIG_DIR": self.global_config_dir,
            "DVC_SYSTEM_CONFIG_DIR": self.system_config_dir,
            "DVC_SITE_CACHE_DIR": self.site_cache_dir,
            "DVC_NO_ANALYTICS": "1",
            "NO_COLOR": "1",
            "TZ": "UTC",
            "LC_ALL": "C.UTF-8",
            "LANG": "C.UTF-8",
        })
        env.pop("DVX_BIN", None)
        return env

    def tearDown(self):
        if self._test_failed() or os.environ.get("DVX_KEEP_TMP"):
            sys.stderr.write(f"\n[dvxtest] kept temp dir of {self.id()}: {self.tmp}\n")
            return
        shutil.rmtree(self.tmp, onerror=_rm_onerror)

    def _test_failed(self):
        outcome = getattr(self, "_outcome", None)
        if outcome is None:
            return False
        if hasattr(outcome, "errors"):  # Python <= 3.10
            return any(exc for _, exc in outcome.errors)
        return not outcome.success

    # ------------------------------------------------------------------ running things

    def run_on_terminal(self, args, answer, cwd=None, env=None):
        """Runs dvx with a pseudo-terminal as its controlling terminal (and stdin/stdout/stderr);
        types `answer` and Enter once a prompt ends. Returns (exit code, everything the terminal
        showed, the prompts seen)."""
        import pty
        pid, fd = pty.fork()
        if pid == 0:
            try:
                os.chdir(cwd or self.repo)
                os.execve(DVX_BIN, [DVX_BIN, *args], dict(self.env, **(env or {})))
            finally:
                os._exit(127)
        prompts, pending = [], [b""]

        def on_chunk(chunk):
            pending[0] += chunk
            if b"':" in pending[0] and pending[0].rstrip().endswith(b"':"):
                prompts.append(pending[0].decode(errors="replace").strip())
                pending[0] = b""
                os.write(fd, answer.encode() + b"\n")
        shown, _ = read_terminal(fd, 60, on_chunk)
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        return os.waitstatus_to_exitcode(status), shown.decode(errors="replace"), prompts

    def run(self, *args, cwd=None, input=None, env=None, check=None, timeout=None):
        """Run dvx; returns (code, stdout, stderr) as str.

        check: None = no check, True = must exit 0, int = must exit with that code.
        input: str/bytes for stdin; without it stdin is /dev/null (so prompts get no answer).
        """
        full_env = dict(self.env)
        if env:
            full_env.update(env)
        if isinstance(input, str):
            input = input.encode()
        try:
            proc = subprocess.run(
                [DVX_BIN, *[str(a) for a in args]],
                cwd=cwd or self.repo,
                input=input,
                stdin=subprocess.DEVNULL if input is None else None,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=full_env,
                timeout=timeout or TIMEOUT,
            )
        except subprocess.TimeoutExpired as e:
            self.fail(f"dvx {' '.join(map(str, args))} timed out after {e.timeout}s")
        except FileNotFoundError:
            self.fail(f"dvx binary not found: {DVX_BIN}")
        out = proc.stdout.decode("utf-8", errors="surrogateescape")
        err = proc.stderr.decode("utf-8", errors="surrogateescape")
        if check is not None:
            want = 0 if check is True else check
            self.assertEqual(
                proc.returncode, want,
                f"dvx {' '.join(map(str, args))} (cwd={cwd or self.repo}) exited "
                f"{proc.returncode}, expected {want}\n--- stdout:\n{out}\n--- stderr:\n{err}")
        return proc.returncode, out, err

    def dvx(self, *args, **kw):
        """run() that must succeed; returns stdout."""
        kw.setdefault("check", True)
        return self.run(*args, **kw)[1]

    def json_out(self, *args, check=True, **kw):
        code, out, err = self.run(*args, check=check, **kw)
        try:
            return json.loads(out)
        except ValueError:
            self.fail(f"dvx {' '.join(map(str, args))}: stdout is not JSON:\n{out!r}\n"
                      f"--- stderr:\n{err}")

    def git(self, *args, cwd=None, check=True):
        proc = subprocess.run(["git", *args], cwd=cwd or self.repo, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=self.env, timeout=TIMEOUT)
        if check and proc.returncode != 0:
            self.fail(f"git {' '.join(args)} failed ({proc.returncode}):\n"
                      f"{proc.stdout.decode()}\n{proc.stderr.decode()}")
        return proc.stdout.decode("utf-8", errors="surrogateescape")

    def sh(self, script, cwd=None):
        """Run a bash snippet (e.g. a setup line of commands.tsv)."""
        proc = subprocess.run(["bash", "-c", script], cwd=cwd or self.repo,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env,
                              timeout=TIMEOUT)
        if proc.returncode != 0:
            self.fail(f"shell setup failed: {script}\n{proc.stdout.decode()}{proc.stderr.decode()}")
        return proc.stdout.decode()

    # ------------------------------------------------------------------ hostile repositories

    def make_sentinel(self, name="sentinel"):
        """A tree outside the repository (<tmp>/<name>) that an attack would try to reach: files,
        a subfolder, a symlink. Returns its path; compare `tree_digest` of it (and of .git) before
        and after a command to show that nothing outside the repository changed."""
        root = os.path.join(self.tmp, name)
        os.makedirs(os.path.join(root, "sub"), exist_ok=True)
        self.write(os.path.join(root, "precious.txt"), b"precious data outside the repo\n")
        self.write(os.path.join(root, "sub", "deep.bin"), bytes(range(256)) * 4)
        os.symlink("precious.txt", os.path.join(root, "link"))
        return root

    def tree_digest(self, root):
        """A checksum of everything under root: each entry's relative path, type, mode, size,
        content (files) or target (symlinks); symlinks are not followed."""
        h = hashlib.sha256()
        if not os.path.lexists(root):
            return "absent"
        if not os.path.isdir(root) or os.path.islink(root):
            st = os.lstat(root)
            h.update(f"{st.st_mode:o}".encode())
            if stat.S_ISLNK(st.st_mode):
                h.update(os.readlink(root).encode("utf-8", "surrogateescape"))
            elif stat.S_ISREG(st.st_mode):
                with open(root, "rb") as f:
                    h.update(f.read())
            return h.hexdigest()
        for dirpath, dirs, files in os.walk(root):
            dirs.sort()
            for name in sorted(dirs + files):
                full = os.path.join(dirpath, name)
                st = os.lstat(full)
                rel = os.path.relpath(full, root).encode("utf-8", "surrogateescape")
                h.update(rel + b"\0" + f"{st.st_mode:o}".encode() + b"\0")
                if stat.S_ISLNK(st.st_mode):
                    h.update(os.readlink(full).encode("utf-8", "surrogateescape"))
                elif stat.S_ISREG(st.st_mode):
                    with open(full, "rb") as f:
                        h.update(f.read())
                h.update(b"\n")
        return h.hexdigest()

    def outside_digest(self):
        """Digest of everything in the test's temp dir except the repository's work tree and
        dvx's private dirs (HOME, config dirs, site cache): the sentinel trees, remotes, and the
        repository's .git (hooks, config) whose contents must never be written from data."""
        skip = {self.repo, self.site_cache_dir, self.home, self.global_config_dir,
                self.system_config_dir}
        parts = []
        for name in sorted(os.listdir(self.tmp)):
            full = os.path.join(self.tmp, name)
            if full in skip:
                continue
            parts.append(f"{name}:{self.tree_digest(full)}")
        git_dir = os.path.join(self.repo, ".git")
        parts.append(f".git/hooks:{self.tree_digest(os.path.join(git_dir, 'hooks'))}")
        parts.append(f".git/config:{self.tree_digest(os.path.join(git_dir, 'config'))}")
        return "\n".join(parts)

    # ------------------------------------------------------------------ repositories

    def init_git(self, path=None):
        path = path or self.repo
        os.makedirs(path, exist_ok=True)
        self.git("init", "-q", "-b", "main", cwd=path)
        self.git("config", "user.name", "DVX Tests", cwd=path)
        self.git("config", "user.email", "tests@dvx.invalid", cwd=path)
        return path

    def init_dvc_files(self, path=None, config=b""):
        """Write what `dvc init` writes (without running dvx): .dvc/{config,.gitignore,tmp}, .dvcignore."""
        path = path or self.repo
        os.makedirs(os.path.join(path, ".dvc", "tmp"), exist_ok=True)
        self.write(os.path.join(path, ".dvc", "config"), config)
        self.write(os.path.join(path, ".dvc", ".gitignore"), DVC_GITIGNORE)
        self.write(os.path.join(path, ".dvcignore"), DVCIGNORE)

    def make_repo(self, path=None, commit=True, config=b""):
        """A git repo (branch main) with DVC initialised (files written by hand, like `dvc init`)
        and, by default, committed as 'Initialize DVC'."""
        path = self.init_git(path)
        self.init_dvc_files(path, config=config)
        self.git("add", ".dvc/config", ".dvc/.gitignore", ".dvcignore", cwd=path)
        if commit:
            self.git("commit", "-q", "-m", "Initialize DVC", cwd=path)
        return path

    # Tracking by hand: what `dvc add` would leave behind, written without running dvx, so
    # that tests of status/checkout/push/... do not depend on `dvx add`.

    def put_object(self, content, cache=None):
        """Store bytes as a 3.x object (mode 0444) in the cache; returns the oid."""
        if isinstance(content, str):
            content = content.encode()
        oid = md5_bytes(content)
        self.put_object_as(oid, content, cache)
        return oid

    def put_object_as(self, oid, content, cache=None):
        if isinstance(content, str):
            content = content.encode()
        path = self.cache_path(oid, cache)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if os.path.exists(path):
            os.chmod(path, 0o644)
        with open(path, "wb") as f:
            f.write(content)
        os.chmod(path, 0o444)
        return path

    def _gitignore_add(self, relpath):
        parent, base = os.path.split(relpath)
        gi = self.p(parent, ".gitignore")
        line = "/" + base + "\n"
        old = self.read(gi).decode() if os.path.exists(gi) else ""
        if line not in old.splitlines(True):
            self.write(gi, old + line)

    def track_file(self, relpath, content, cache=True):
        """Write relpath with content, its cache object, <relpath>.dvc and the .gitignore line."""
        if isinstance(content, str):
            content = content.encode()
        self.write(relpath, content)
        oid = self.put_object(content) if cache else md5_bytes(content)
        self.write(relpath + ".dvc", dvc_file(oid, len(content), os.path.basename(relpath)))
        self._gitignore_add(relpath)
        return oid

    def track_dir(self, relpath, files, cache=True):
        """files = {relpath inside dir: content}; writes files, objects, .dir, .dvc, .gitignore."""
        entries = {}
        size = 0
        for rel, content in files.items():
            if isinstance(content, str):
                content = content.encode()
            self.write(os.path.join(relpath, rel), content)
            entries[rel] = self.put_object(content) if cache else md5_bytes(content)
            size += len(content)
        manifest = dir_manifest(entries)
        oid = md5_bytes(manifest) + ".dir"
        if cache:
            self.put_object_as(oid, manifest)
        self.write(relpath + ".dvc", dvc_file(oid, size, os.path.basename(relpath),
                                              nfiles=len(entries)))
        self._gitignore_add(relpath)
        return oid

    def commit_all(self, msg="commit", cwd=None):
        self.git("add", "-A", cwd=cwd)
        self.git("commit", "-q", "--allow-empty", "-m", msg, cwd=cwd)

    def extract_fixture(self, name):
        """Untar tests/fixtures/<name>.tar.gz into the temp dir; returns <tmp>/<name>
        (holding repo/ and remote/) and sets self.repo to its repo/."""
        with tarfile.open(os.path.join(FIXTURES, name + ".tar.gz")) as tar:
            kwargs = {"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}
            tar.extractall(self.tmp, **kwargs)
        root = os.path.join(self.tmp, name)
        self.repo = os.path.join(root, "repo")
        return root

    # ------------------------------------------------------------------ files

    def p(self, *parts):
        """Path inside the repo."""
        return os.path.join(self.repo, *parts)

    def write(self, path, content, mode=None):
        path = path if os.path.isabs(path) else self.p(path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if os.path.exists(path) and not os.access(path, os.W_OK):
            os.chmod(path, 0o644)
        if isinstance(content, str):
            content = content.encode()
        with open(path, "wb") as f:
            f.write(content)
        if mode is not None:
            os.chmod(path, mode)
        return path

    def read(self, path):
        path = path if os.path.isabs(path) else self.p(path)
        with open(path, "rb") as f:
            return f.read()

    def mode(self, path):
        path = path if os.path.isabs(path) else self.p(path)
        return stat.S_IMODE(os.lstat(path).st_mode)

    def exists(self, path):
        path = path if os.path.isabs(path) else self.p(path)
        return os.path.lexists(path)

    def cache_path(self, oid, cache=None):
        return os.path.join(cache or self.p(".dvc", "cache"), cache_rel(oid))

    def cache_objects(self, cache=None):
        """Set of 'xx/yyyy' object names under <cache>/files/md5."""
        root = os.path.join(cache or self.p(".dvc", "cache"), "files", "md5")
        return _objects_under(root)

    def legacy_objects(self, root):
        """Set of 'xx/yyyy' objects directly under root (2.x layout)."""
        out = set()
        if not os.path.isdir(root):
            return out
        for d in os.listdir(root):
            full = os.path.join(root, d)
            if len(d) == 2 and os.path.isdir(full):
                for f in os.listdir(full):
                    out.add(f"{d}/{f}")
        return out

    # ------------------------------------------------------------------ assertions

    def assertFileBytes(self, path, expected):
        if isinstance(expected, str):
            expected = expected.encode()
        self.assertTrue(self.exists(path), f"missing file {path}")
        self.assertEqual(self.read(path), expected, f"content of {path}")

    def assertFilesEqual(self, a, b):
        self.assertEqual(self.read(a), self.read(b), f"{a} and {b} differ")

    def assertMode(self, path, mode):
        self.assertEqual(oct(self.mode(path)), oct(mode), f"mode of {path}")

    def assertCacheObject(self, oid, content=None, cache=None):
        path = self.cache_path(oid, cache)
        self.assertTrue(os.path.isfile(path), f"cache object {oid} missing at {path}")
        self.assertMode(path, 0o444)
        if content is not None:
            self.assertFileBytes(path, content)
        else:
            self.assertEqual(md5_file(path), oid.split(".")[0], f"content of object {oid}")

    def assertNoError(self, err):
        self.assertNotIn("ERROR", err)

    def assertGitHint(self, stdout, files):
        got = parse_git_hint(stdout)
        self.assertIsNotNone(got, f"no git hint in stdout:\n{stdout}")
        self.assertEqual(got, set(files))
        self.assertIn("To enable auto staging, run:\n\n\tdvc config core.autostage true\n", stdout)


def _objects_under(root):
    out = set()
    if not os.path.isdir(root):
        return out
    for d in sorted(os.listdir(root)):
        full = os.path.join(root, d)
        if os.path.isdir(full):
            for f in os.listdir(full):
                out.add(f"{d}/{f}")
    return out


def _rm_onerror(func, path, exc_info):
    try:
        os.chmod(os.path.dirname(path), 0o755)
        os.chmod(path, 0o755)
        func(path)
    except OSError:
        pass


def main():
    unittest.main(verbosity=2)
