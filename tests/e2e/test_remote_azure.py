"""Azure Blob remotes against Azurite (tests/servers/azurite.py, started and stopped here), which
really verifies Shared Key and SAS signatures: push, pull, fetch and status -c through
`azure://container/prefix` with a connection string, an account SAS and the environment;
block uploads, list paging, names with spaces and unicode, a missing blob, a wrong key (clear
error, the key never printed) and the server stopped in the middle of a push (the cases shared
with the GCS tests are in remote_cases.py)."""

import os
import unittest

import dvxtest
from remote_cases import RemoteCases

import azurite  # noqa: E402  (tests/servers, put on sys.path by remote_cases)

SKIP = azurite.available()


@unittest.skipIf(SKIP, SKIP)
class AzureRemote(RemoteCases, dvxtest.DvxTestCase):
    SERVER = azurite
    REMOTE = "azr"
    # Small thresholds so that a 50 kB file goes up in blocks and 300 blobs take several list pages.
    ENV = {"DVX_AZURE_BLOCK_THRESHOLD": "8192", "DVX_AZURE_BLOCK_SIZE": "4096", "DVX_AZURE_LIST_PAGE": "50",
           "AZURE_STORAGE_CONNECTION_STRING": "", "AZURE_STORAGE_ACCOUNT": "", "AZURE_STORAGE_KEY": ""}
    ATTEMPTS = "DVX_AZURE_ATTEMPTS"

    def secrets(self):
        return (azurite.KEY,)

    def big_upload_check(self, before):
        # The large file went up as several committed blocks.
        big = dvxtest.md5_file(self.p("big.bin"))
        status, body, _ = self.server.request("GET", f"/{self.location}/store/files/md5/{big[:2]}/{big[2:]}",
                                              [("comp", "blocklist"), ("blocklisttype", "committed")])
        self.assertEqual(status, 200, body)
        self.assertGreaterEqual(body.count(b"<Block>"), 10, body[:500])

    def test_wrong_key_is_a_clear_error_without_the_key(self):
        self.make_project(options=False)
        _, opts = self.server.new_remote("unused")
        bad, secret = self.server.bad_credentials(opts)
        self.assertTrue(secret)
        for k, v in bad.items():
            self.dvx("remote", "modify", "--local", "azr", k, v)
        clone = self.clone()
        for cmd, cwd in ((["push"], None), (["status", "-c"], None), (["fetch"], clone)):
            code, out, err = self.rrun(*cmd, cwd=cwd, secrets=(secret,))
            self.assertNotEqual(code, 0, cmd)
            self.assertIn("authentication failed at " + self.server.endpoint, err, cmd)
            self.assertIn(self.location, err, cmd)
        self.assertEqual(self.server.list_keys(self.location), [])
        # No credentials at all: says where to put them.
        self.dvx("remote", "modify", "--local", "--unset", "azr", "connection_string")
        self.dvx("remote", "modify", "--local", "azr", "account_name", azurite.ACCOUNT)
        code, out, err = self.rrun("push")
        self.assertNotEqual(code, 0)
        self.assertIn("AZURE_STORAGE_KEY", err)

    def test_missing_container_is_an_error(self):
        self.make_project()
        self.dvx("remote", "modify", "azr", "url", "azure://no-such-container-here/x")
        for cmd in (["push"], ["status", "-c"]):
            code, out, err = self.rrun(*cmd)
            self.assertNotEqual(code, 0)
            self.assertIn("no-such-container-here", err)
            self.assertIn("does not exist", err)

    def test_sas_token_and_environment_credentials(self):
        files = self.make_project(options=False)
        endpoint_only = f"BlobEndpoint={self.server.endpoint};"
        sas = self.server.sas_token()
        self.dvx("remote", "modify", "--local", "azr", "connection_string", endpoint_only)
        self.dvx("remote", "modify", "--local", "azr", "sas_token", sas)
        sig = [p for p in sas.split("&") if p.startswith("sig=")][0][4:]
        code, out, err = self.rrun("push", secrets=(sig,))
        self.assertEqual(code, 0, err)
        self.assertEqual(self.remote_objects(), set(self.cache_objects()))
        # A read-only SAS can pull but not push.
        clone = self.clone()
        self.dvx("remote", "modify", "--local", "azr", "sas_token", self.server.sas_token("rl"), cwd=clone)
        code, out, err = self.rrun("pull", cwd=clone)
        self.assertEqual(code, 0, err)
        self.assertFileBytes(os.path.join(clone, "big.bin"), files["big.bin"].encode())
        self.write(os.path.join(clone, "new.txt"), "new\n")
        self.dvx("add", "new.txt", cwd=clone)
        code, out, err = self.rrun("push", cwd=clone)
        self.assertNotEqual(code, 0)
        self.assertIn("authentication failed", err)
        # A SAS signed with another key is refused; its signature is never printed.
        bad = self.server.sas_token(key=azurite.base64.b64encode(b"k" * 64).decode())
        bad_sig = [p for p in bad.split("&") if p.startswith("sig=")][0][4:]
        self.dvx("remote", "modify", "--local", "azr", "sas_token", bad, cwd=clone)
        code, out, err = self.rrun("push", cwd=clone, secrets=(bad_sig, azurite.urllib.parse.unquote(bad_sig)))
        self.assertNotEqual(code, 0)
        self.assertIn("authentication failed", err)
        # The environment: AZURE_STORAGE_CONNECTION_STRING when the remote has no credentials.
        self.dvx("remote", "modify", "--local", "--unset", "azr", "sas_token", cwd=clone)
        self.dvx("remote", "modify", "--local", "--unset", "azr", "connection_string", cwd=clone)
        code, out, err = self.rrun("push", cwd=clone,
                                   env={"AZURE_STORAGE_CONNECTION_STRING": self.server.connection_string()})
        self.assertEqual(code, 0, err)
        self.assertEqual(out, "1 file pushed\n")


if __name__ == "__main__":
    unittest.main()
