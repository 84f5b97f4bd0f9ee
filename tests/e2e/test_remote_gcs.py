"""Google Cloud Storage remotes against a protocol fake of the GCS JSON API
(tests/servers/gcs_fake.py via tests/servers/gcs.py: no GCS emulator installs here). The fake
checks what Google checks: the service account's JWT (RS256 signature verified with the public
key, audience = the token_uri of the key file) and a bearer token it issued on every request.
Push, pull, fetch and status -c through `gs://bucket/prefix` with `credentialpath` and
`endpointurl`; resumable uploads, list paging, names with spaces and unicode, a missing object,
a foreign service account (clear error, key never printed), token renewal, the server stopped
in the middle of a push, GOOGLE_APPLICATION_CREDENTIALS and STORAGE_EMULATOR_HOST (the cases
shared with the Azure tests are in remote_cases.py)."""

import shutil
import tempfile
import unittest

import dvxtest
from remote_cases import RemoteCases

import gcs  # noqa: E402  (tests/servers, put on sys.path by remote_cases)

SKIP = gcs.available()


@unittest.skipIf(SKIP, SKIP)
class GcsRemote(RemoteCases, dvxtest.DvxTestCase):
    SERVER = gcs
    REMOTE = "gsr"
    ENV = {"DVX_GCS_RESUMABLE_THRESHOLD": "300000", "DVX_GCS_CHUNK_SIZE": "262144", "DVX_GCS_LIST_PAGE": "50",
           "GOOGLE_APPLICATION_CREDENTIALS": "", "STORAGE_EMULATOR_HOST": ""}
    ATTEMPTS = "DVX_GCS_ATTEMPTS"
    BIG_SIZE = 1_100_000  # a resumable upload in 5 chunks of 256 KiB

    def secrets(self):
        return (self.server.pem.splitlines()[1], "ya29.")  # a line of the key; no access token either

    def big_upload_state(self):
        return self.server.stats()["chunks"]

    def big_upload_check(self, before):
        self.assertEqual(self.server.stats()["chunks"] - before, 5)

    def test_second_push_only_checks(self):
        self.make_project()
        self.assertEqual(self.rrun("push")[0], 0)
        before = self.server.requests()
        self.assertEqual(self.rrun("push")[:2], (0, "Everything is up to date.\n"))
        n = len(self.cache_objects())
        self.assertLessEqual(self.server.requests() - before, n + 2)  # presence checks (and a token), no upload

    def test_foreign_service_account_is_a_clear_error_without_the_key(self):
        self.make_project()
        bad, secret = self.server.bad_credentials({})
        self.dvx("remote", "modify", "--local", "gsr", "credentialpath", bad["credentialpath"])
        clone = self.clone()
        for cmd, cwd in ((["push"], None), (["status", "-c"], None), (["fetch"], clone)):
            code, out, err = self.rrun(*cmd, cwd=cwd, secrets=(secret,))
            self.assertNotEqual(code, 0, cmd)
            self.assertIn("authentication failed", err, cmd)
            self.assertIn("Invalid JWT Signature", err, cmd)
        self.assertEqual(self.server.list_keys(self.location), [])
        # No credentials anywhere: says where to put them.
        self.dvx("remote", "modify", "--local", "--unset", "gsr", "credentialpath")
        code, out, err = self.rrun("push")
        self.assertNotEqual(code, 0)
        self.assertIn("GOOGLE_APPLICATION_CREDENTIALS", err)
        # The environment variables instead of options.
        self.dvx("remote", "modify", "--local", "--unset", "gsr", "endpointurl")
        code, out, err = self.rrun("push", env={"GOOGLE_APPLICATION_CREDENTIALS": self.server.credentials,
                                                "STORAGE_EMULATOR_HOST": self.server.endpoint[len("http://"):]})
        self.assertEqual(code, 0, err)
        self.assertEqual(self.remote_objects(), set(self.cache_objects()))

    def test_missing_bucket_is_an_error(self):
        self.make_project()
        self.dvx("remote", "modify", "gsr", "url", "gs://no-such-bucket-here/x")
        for cmd in (["push"], ["status", "-c"]):
            code, out, err = self.rrun(*cmd)
            self.assertNotEqual(code, 0)
            self.assertIn("bucket 'no-such-bucket-here' does not exist", err)

    def test_expiring_and_revoked_tokens_are_renewed(self):
        files = {f"d/f{i}.txt": f"{i}\n" for i in range(30)}
        # Tokens that live 60 s: dvx renews a token a minute before it expires, so every request
        # asks for a new one. Then tokens revoked every 10 requests: a 401 renews the token.
        for kw, least in (({"token_lifetime": 60}, 31), ({"revoke_every": 10}, 3)):
            with self.subTest(**kw), tempfile.TemporaryDirectory(prefix="dvx-gcs-tok-") as wd, \
                    gcs.Server(wd, max_results=7, **kw) as server:
                shutil.rmtree(self.repo, ignore_errors=True)
                self.make_project(server=server, files=files)
                code, out, err = self.rrun("push", "-j", "2")
                self.assertEqual(code, 0, err)
                self.assertEqual(self.remote_objects(server), set(self.cache_objects()))
                self.assertGreaterEqual(server.stats()["tokens_issued"], least)


if __name__ == "__main__":
    unittest.main()
