#include "dvx/transfer/transfer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>

#include "../platform/test_temp_dir.h"
#include "dvx/hash/md5.h"
#include "dvx/remote/local_remote.h"

namespace dvx::transfer {
namespace {

using dvx::testing::TempDir;
using dvx::testing::exists;
using dvx::testing::mode_of;
using dvx::testing::temp_files;
using odb::Layout;
using odb::ObjectDb;
using odb::ObjectId;
namespace tu = dvx::testing;

struct Fixture {
  TempDir t{"dvx-transfer-test"};
  ObjectDb a{t / "a/cache"};
  ObjectDb b{t / "b/cache"};
  std::string remote_root = t / "remote";
  remote::LocalRemote remote{remote_root};

  // Stores `bytes` in `db` (v3 unless told); returns the id.
  ObjectId put(const ObjectDb& db, const std::string& bytes, Layout layout = Layout::v3) {
    ObjectId id{hash::digest_hex(bytes, odb::algorithm_for(layout)), layout};
    EXPECT_TRUE(db.add_bytes(bytes, id));
    return id;
  }
  // Objects of a small directory (files + .dir), all in `a`.
  std::vector<ObjectId> put_tree(size_t n) {
    std::vector<ObjectId> ids;
    std::string manifest = "[";
    for (size_t i = 0; i < n; ++i) {
      std::string content = "file " + std::to_string(i) + "\n" + std::string(i * 100, 'z');
      ids.push_back(put(a, content));
      manifest += std::string(i ? ", " : "") + R"({"md5": ")" + ids.back().oid + R"(", "relpath": "f)" +
                  std::to_string(i) + R"("})";
    }
    manifest += "]";
    ids.push_back(ObjectId{hash::md5_hex(manifest) + ".dir", Layout::v3});
    EXPECT_TRUE(a.add_bytes(manifest, ids.back()));
    return ids;
  }
  std::string remote_path(const ObjectId& id) const { return remote_root + "/" + remote_key(id); }
};

TEST(Transfer, RemoteKeyBothLayouts) {
  const std::string oid = "b1946ac92492d2347c6235b4d2611184";
  EXPECT_EQ(remote_key(ObjectId{oid, Layout::v3}), "files/md5/b1/946ac92492d2347c6235b4d2611184");
  EXPECT_EQ(remote_key(ObjectId{oid + ".dir", Layout::v3}), "files/md5/b1/946ac92492d2347c6235b4d2611184.dir");
  EXPECT_EQ(remote_key(ObjectId{oid, Layout::legacy}), "b1/946ac92492d2347c6235b4d2611184");
}

TEST(Transfer, PushThenFetchBetweenTwoCaches) {
  Fixture f;
  auto ids = f.put_tree(30);
  std::atomic<size_t> last{0};
  auto pushed = push(f.a, f.remote, ids, 4, [&](size_t done, size_t total) {
    EXPECT_EQ(total, ids.size());
    size_t prev = last.load();
    while (done > prev && !last.compare_exchange_weak(prev, done)) {
    }
  });
  EXPECT_EQ(pushed.transferred, ids.size());
  EXPECT_TRUE(pushed.missing.empty());
  EXPECT_TRUE(pushed.failed.empty());
  EXPECT_EQ(last.load(), ids.size());
  for (auto& id : ids) {
    ASSERT_TRUE(exists(f.remote_path(id))) << id.oid;
    EXPECT_EQ(tu::read_file(f.remote_path(id)), tu::read_file(f.a.path_of(id)));
    EXPECT_EQ(mode_of(f.remote_path(id)), 0444u);
  }
  // Nothing left to push.
  auto again = push(f.a, f.remote, ids, 4);
  EXPECT_EQ(again.transferred, 0u);
  EXPECT_TRUE(again.failed.empty());

  auto contains = remote_contains(f.remote, ids, 3);
  ASSERT_TRUE(contains);
  EXPECT_EQ(*contains, std::vector<bool>(ids.size(), true));

  auto fetched = fetch(f.b, f.remote, ids, 4, odb::Verify::yes);
  EXPECT_EQ(fetched.transferred, ids.size());
  EXPECT_TRUE(fetched.missing.empty());
  EXPECT_TRUE(fetched.failed.empty()) << (fetched.errors.empty() ? "" : fetched.errors[0]);
  for (auto& id : ids) {
    ASSERT_TRUE(f.b.exists(id));
    EXPECT_TRUE(f.b.exists_valid(id, odb::Verify::yes));
    EXPECT_EQ(mode_of(f.b.path_of(id)), 0444u);
  }
  auto refetch = fetch(f.b, f.remote, ids, 4, odb::Verify::yes);
  EXPECT_EQ(refetch.transferred, 0u);
  EXPECT_TRUE(temp_files(f.t.path()).empty()) << ::testing::PrintToString(temp_files(f.t.path()));
}

TEST(Transfer, LegacyLayoutRoundTrip) {
  Fixture f;
  auto id = f.put(f.a, "legacy text\r\n", Layout::legacy);
  EXPECT_EQ(id.oid, hash::md5_hex("legacy text\n"));
  auto pushed = push(f.a, f.remote, {id}, 2);
  EXPECT_EQ(pushed.transferred, 1u);
  EXPECT_TRUE(exists(f.remote_root + "/" + id.oid.substr(0, 2) + "/" + id.oid.substr(2)));
  auto fetched = fetch(f.b, f.remote, {id}, 2, odb::Verify::yes);
  EXPECT_EQ(fetched.transferred, 1u);
  EXPECT_TRUE(fetched.failed.empty()) << (fetched.errors.empty() ? "" : fetched.errors[0]);
  EXPECT_EQ(tu::read_file(f.b.path_of(id)), "legacy text\r\n");
}

TEST(Transfer, DuplicateIdsAreTransferredOnce) {
  // The same object listed twice (e.g. one directory at several revisions), into a fresh cache
  // (staged downloads) and a fresh remote (staged uploads): once each, no error.
  Fixture f;
  auto id = f.put(f.a, "twice\n");
  auto legacy = f.put(f.a, "legacy twice\r\n", Layout::legacy);
  auto pushed = push(f.a, f.remote, {id, legacy, id, legacy}, 4);
  EXPECT_TRUE(pushed.failed.empty()) << (pushed.errors.empty() ? "" : pushed.errors[0]);
  EXPECT_TRUE(exists(f.remote_path(id)));
  EXPECT_TRUE(exists(f.remote_path(legacy)));
  auto fetched = fetch(f.b, f.remote, {id, legacy, id, legacy}, 4, odb::Verify::yes);
  EXPECT_TRUE(fetched.failed.empty()) << (fetched.errors.empty() ? "" : fetched.errors[0]);
  EXPECT_EQ(fetched.transferred, 2u);
  EXPECT_TRUE(f.b.exists_valid(id, odb::Verify::yes));
  EXPECT_TRUE(f.b.exists_valid(legacy, odb::Verify::yes));
  EXPECT_TRUE(temp_files(f.t.path()).empty()) << ::testing::PrintToString(temp_files(f.t.path()));
}

TEST(Transfer, MissingObjectsAreReported) {
  Fixture f;
  auto have = f.put(f.a, "present\n");
  ObjectId absent1{std::string(32, '1'), Layout::v3}, absent2{std::string(32, '2') + ".dir", Layout::v3};
  auto pushed = push(f.a, f.remote, {absent2, have, absent1}, 3);
  EXPECT_EQ(pushed.transferred, 1u);
  EXPECT_EQ(pushed.missing, (std::vector<ObjectId>{absent1, absent2}));  // sorted
  EXPECT_TRUE(pushed.failed.empty());
  EXPECT_FALSE(exists(f.remote_path(absent1)));

  auto contains = remote_contains(f.remote, {absent1, have, absent2}, 2);
  ASSERT_TRUE(contains);
  EXPECT_EQ(*contains, (std::vector<bool>{false, true, false}));

  auto fetched = fetch(f.b, f.remote, {absent1, have, absent2}, 3, odb::Verify::yes);
  EXPECT_EQ(fetched.transferred, 1u);
  EXPECT_EQ(fetched.missing, (std::vector<ObjectId>{absent1, absent2}));
  EXPECT_TRUE(fetched.failed.empty());
  EXPECT_FALSE(f.b.exists(absent1));
  EXPECT_FALSE(f.b.exists(absent2));
  EXPECT_TRUE(temp_files(f.t.path()).empty()) << ::testing::PrintToString(temp_files(f.t.path()));
}

TEST(Transfer, FetchOfCorruptedRemoteObjectFailsAndLeavesNothing) {
  Fixture f;
  auto good = f.put(f.a, "good\n");
  auto bad = f.put(f.a, "will be corrupted\n");
  auto bad_dir = f.put(f.a, "[]");
  ObjectId bad_dir_id{bad_dir.oid + ".dir", Layout::v3};
  ASSERT_TRUE(f.a.add_bytes("[]", bad_dir_id));
  auto pushed = push(f.a, f.remote, {good, bad, bad_dir_id}, 2);
  ASSERT_EQ(pushed.transferred, 3u);
  // Corrupt the remote copies (bit rot, a tampered remote).
  tu::write_file(f.remote_path(bad), "will be corrupteD\n", 0444);
  tu::write_file(f.remote_path(bad_dir_id), "[{}]", 0444);
  auto fetched = fetch(f.b, f.remote, {good, bad, bad_dir_id}, 3, odb::Verify::yes);
  EXPECT_EQ(fetched.transferred, 1u);
  ASSERT_EQ(fetched.failed.size(), 2u);
  std::vector<ObjectId> failed = fetched.failed;
  std::sort(failed.begin(), failed.end());
  std::vector<ObjectId> want{bad, bad_dir_id};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(failed, want);
  ASSERT_EQ(fetched.errors.size(), 2u);
  for (auto& e : fetched.errors) EXPECT_NE(e.find("corrupt"), std::string::npos) << e;
  EXPECT_TRUE(f.b.exists(good));
  EXPECT_FALSE(f.b.exists(bad));
  EXPECT_FALSE(f.b.exists(bad_dir_id));
  EXPECT_FALSE(exists(f.b.path_of(bad)));
  EXPECT_TRUE(temp_files(f.t / "b").empty()) << ::testing::PrintToString(temp_files(f.t / "b"));
  // The cache list sees only the good object.
  auto listed = f.b.list(Layout::v3);
  ASSERT_TRUE(listed);
  EXPECT_EQ(*listed, std::vector<ObjectId>{good});
}

TEST(Transfer, LargeObjectsAreVerifiedWhileCopied) {
  // Objects over 1 MiB take the overlapped kernel-copy path; one corrupted byte in the middle
  // of a 3 MiB object is caught, the intact one is stored, byte for byte.
  Fixture f;
  std::string big(3 * (1 << 20) + 7, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 2654435761u) >> 13);
  auto good = f.put(f.a, big);
  std::string other = big;
  other[0] = 'x';
  auto bad = f.put(f.a, other);
  ASSERT_EQ(push(f.a, f.remote, {good, bad}, 2).transferred, 2u);
  other[other.size() / 2] ^= 1;
  tu::write_file(f.remote_path(bad), other, 0444);
  auto fetched = fetch(f.b, f.remote, {good, bad}, 2, odb::Verify::yes);
  EXPECT_EQ(fetched.transferred, 1u);
  EXPECT_EQ(fetched.failed, std::vector<ObjectId>{bad});
  EXPECT_EQ(tu::read_file(f.b.path_of(good)), big);
  EXPECT_EQ(mode_of(f.b.path_of(good)), 0444u);
  EXPECT_FALSE(exists(f.b.path_of(bad)));
  EXPECT_TRUE(temp_files(f.t / "b").empty()) << ::testing::PrintToString(temp_files(f.t / "b"));
}

TEST(Transfer, WithoutVerifyObjectsAreStoredAsReceived) {
  // The remote's `verify = false` opt-out: what the remote holds is trusted, even corrupted.
  Fixture f;
  auto id = f.put(f.a, "as pushed\n");
  ASSERT_EQ(push(f.a, f.remote, {id}, 1).transferred, 1u);
  tu::write_file(f.remote_path(id), "tampered\n", 0444);
  auto fetched = fetch(f.b, f.remote, {id}, 1, odb::Verify::no);
  EXPECT_EQ(fetched.transferred, 1u);
  EXPECT_TRUE(fetched.failed.empty());
  EXPECT_EQ(tu::read_file(f.b.path_of(id)), "tampered\n");
  EXPECT_EQ(mode_of(f.b.path_of(id)), 0444u);
}

TEST(Transfer, FetchReportsWhatItHashedAndWhatItTookAsReceived) {
  // Every object fetched is listed: `verified` when hashed on arrival (streamed, or, for the
  // small ones, read whole and hashed side by side), `received` when stored unhashed (verify =
  // false: every object is streamed).
  Fixture f;
  std::string big(2 * (1 << 20), 'b');
  auto large = f.put(f.a, big);
  auto small = f.put(f.a, "small\n");
  ASSERT_EQ(push(f.a, f.remote, {large, small}, 2).transferred, 2u);
  auto hashed = fetch(f.b, f.remote, {large, small}, 2, odb::Verify::yes);
  auto verified = hashed.verified;
  std::sort(verified.begin(), verified.end());
  auto both = std::vector<ObjectId>{large, small};
  std::sort(both.begin(), both.end());
  EXPECT_EQ(verified, both);
  EXPECT_TRUE(hashed.received.empty());
  ObjectDb c{f.t / "c/cache"};
  auto taken = fetch(c, f.remote, {large, small}, 2, odb::Verify::no);
  EXPECT_EQ(taken.transferred, 2u);
  EXPECT_TRUE(taken.verified.empty());
  auto received = taken.received;
  std::sort(received.begin(), received.end());
  EXPECT_EQ(received, both);
  EXPECT_EQ(tu::read_file(c.path_of(large)), big);
}

TEST(Transfer, FetchReplacesCorruptedWritableCacheObject) {
  Fixture f;
  auto id = f.put(f.a, "content\n");
  ASSERT_EQ(push(f.a, f.remote, {id}, 1).transferred, 1u);
  // A half-written, writable object in the destination cache (not trusted): re-downloaded.
  tu::write_file(f.b.path_of(id), "cont", 0644);
  auto fetched = fetch(f.b, f.remote, {id}, 1, odb::Verify::yes);
  EXPECT_EQ(fetched.transferred, 1u);
  EXPECT_TRUE(fetched.failed.empty()) << (fetched.errors.empty() ? "" : fetched.errors[0]);
  EXPECT_EQ(tu::read_file(f.b.path_of(id)), "content\n");
  EXPECT_EQ(mode_of(f.b.path_of(id)), 0444u);
}

TEST(Transfer, PushRefusesCorruptedCacheObjects) {
  // Batch path (fresh prefix folders on the remote) and put path (existing prefix folder).
  for (bool existing_prefix : {false, true}) {
    Fixture f;
    auto good = f.put(f.a, "good\n");
    auto bad = f.put(f.a, "bad\n");
    if (existing_prefix) ASSERT_TRUE(platform::make_dirs(platform::parent_dir(f.remote_path(bad))));
    tu::write_file(f.a.path_of(bad), "evil\n", 0444);  // same name, other bytes
    auto r = push(f.a, f.remote, {good, bad}, 2);
    EXPECT_EQ(r.transferred, 1u);
    ASSERT_EQ(r.failed, std::vector<ObjectId>{bad});
    ASSERT_EQ(r.corrupted, std::vector<ObjectId>{bad});
    EXPECT_NE(r.errors[0].find(bad.oid), std::string::npos) << r.errors[0];
    EXPECT_TRUE(exists(f.remote_path(good)));
    EXPECT_FALSE(exists(f.remote_path(bad)));
    EXPECT_TRUE(temp_files(platform::parent_dir(f.remote_path(bad))).empty());
    // Moved to the quarantine: absent from the cache, so a fetch would bring it back.
    EXPECT_FALSE(f.a.exists(bad));
    ASSERT_EQ(r.quarantined.size(), 1u);
    EXPECT_EQ(tu::read_file(r.quarantined[0]), "evil\n");
  }
}

TEST(Transfer, PushToUnwritableRemoteFails) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores permissions";
  Fixture f;
  auto id = f.put(f.a, "x\n");
  ASSERT_TRUE(platform::make_dirs(f.remote_root));
  ASSERT_EQ(::chmod(f.remote_root.c_str(), 0555), 0);
  auto pushed = push(f.a, f.remote, {id}, 1);
  ::chmod(f.remote_root.c_str(), 0755);
  EXPECT_EQ(pushed.transferred, 0u);
  ASSERT_EQ(pushed.failed.size(), 1u);
  EXPECT_EQ(pushed.failed[0], id);
  EXPECT_FALSE(pushed.errors[0].empty());
}

// Large pushes decide presence from one listing of the remote: objects already there (both
// layouts) are not uploaded again, the others are, and counts are exact.
TEST(Transfer, LargePushUsesListingAndSkipsPresentObjects) {
  Fixture f;
  std::vector<ObjectId> ids;
  for (int i = 0; i < 1200; ++i)
    ids.push_back(f.put(f.a, "object " + std::to_string(i), i % 5 == 0 ? Layout::legacy : Layout::v3));
  // Half of them are on the remote already.
  std::vector<ObjectId> first_half(ids.begin(), ids.begin() + 600);
  auto r1 = push(f.a, f.remote, first_half, 4);
  EXPECT_EQ(r1.transferred, 600u);
  auto r2 = push(f.a, f.remote, ids, 4);
  EXPECT_EQ(r2.transferred, 600u);
  EXPECT_TRUE(r2.failed.empty());
  EXPECT_TRUE(r2.missing.empty());
  for (auto& id : ids) EXPECT_TRUE(exists(f.remote_path(id))) << id.oid;
  auto r3 = push(f.a, f.remote, ids, 4);
  EXPECT_EQ(r3.transferred, 0u);
}

// A remote whose presence queries fail (an outage, a permission error): every other call
// goes to a local remote.
class FailingExists final : public remote::Remote {
 public:
  explicit FailingExists(std::string root) : m_inner(std::move(root)) {}
  std::string describe() const override { return m_inner.describe(); }
  Result<bool> exists(const std::string&) const override { return fail(ErrorCode::io, "remote unreachable"); }
  Status put(const std::string& local, const std::string& key, const odb::ObjectId* verify) const override {
    return m_inner.put(local, key, verify);
  }
  Result<bool> get(const std::string& key, const std::string& local,
                   const platform::ByteObserver& observe) const override {
    return m_inner.get(key, local, observe);
  }
  Result<std::vector<std::string>> list(const std::string&) const override {
    return fail(ErrorCode::io, "remote unreachable");
  }
  Status remove(const std::string& key) const override { return m_inner.remove(key); }

 private:
  remote::LocalRemote m_inner;
};

TEST(Transfer, PresenceErrorsAreErrorsNotAbsence) {
  Fixture f;
  auto id = f.put(f.a, "data\n");
  FailingExists broken(f.remote_root);
  auto contains = remote_contains(broken, {id}, 2);
  ASSERT_FALSE(contains);
  EXPECT_EQ(contains.error().message, "remote unreachable");
  // push: nothing is uploaded on guesswork, every object is reported failed.
  std::vector<ObjectId> many;
  for (int i = 0; i < 1200; ++i) many.push_back(f.put(f.a, "object " + std::to_string(i)));  // listing path too
  for (const auto& ids : {std::vector<ObjectId>{id}, many}) {
    auto r = push(f.a, broken, ids, 4);
    EXPECT_EQ(r.transferred, 0u);
    EXPECT_EQ(r.failed.size(), ids.size());
    ASSERT_FALSE(r.errors.empty());
    EXPECT_EQ(r.errors.front(), "remote unreachable");
  }
  EXPECT_FALSE(exists(f.remote_path(id)));
}

}  // namespace
}  // namespace dvx::transfer
