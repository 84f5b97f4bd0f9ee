"""A plain folder as the remote (no server): the reference backend of the conformance suite.
stop()/start() do nothing (a folder cannot go away in the middle of a transfer).
Interface: /work/notes/servers-interface.md."""

import os

BACKEND = "local"
PERSISTENT = True


def available():
    return None


class Server:
    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "local-remotes")
        self.remotes = 0

    def __enter__(self):
        os.makedirs(self.dir, exist_ok=True)
        return self

    def __exit__(self, *exc):
        pass

    def new_remote(self, tag):
        self.remotes += 1
        path = os.path.join(self.dir, f"{self.remotes}-{tag}")
        os.makedirs(path)
        return path, {}

    def env(self):
        return {}

    def bad_credentials(self, options):
        return dict(options), ""  # a folder has no credentials

    def stop(self):
        pass

    def start(self):
        pass
