#include "dvx/odb/object_db.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>

#include "../platform/test_temp_dir.h"
#include "dvx/hash/md5.h"
#include "dvx/odb/bulk_writer.h"

namespace dvx::odb {
namespace {

using dvx::testing::TempDir;
using dvx::testing::exists;
using dvx::testing::inode_of;
using dvx::testing::mode_of;
using dvx::testing::temp_files;
using platform::LinkType;
namespace tu = dvx::testing;

const std::string kHello = "hello\n";
const std::string kHelloMd5 = "b1946ac92492d2347c6235b4d2611184";

ObjectId v3(const std::string& oid) { return ObjectId{oid, Layout::v3}; }

TEST(ObjectDb, ValidOid) {
  EXPECT_TRUE(valid_oid(kHelloMd5));
  EXPECT_TRUE(valid_oid(kHelloMd5 + ".dir"));
  EXPECT_FALSE(valid_oid(""));
  EXPECT_FALSE(valid_oid(kHelloMd5.substr(1)));
  EXPECT_FALSE(valid_oid(kHelloMd5 + "0"));
  EXPECT_FALSE(valid_oid("B1946AC92492D2347C6235B4D2611184"));  // upper case
  EXPECT_FALSE(valid_oid("g1946ac92492d2347c6235b4d2611184"));
  EXPECT_FALSE(valid_oid(kHelloMd5 + ".DIR"));
  EXPECT_FALSE(valid_oid(kHelloMd5 + ".dirx"));
  EXPECT_FALSE(valid_oid(kHelloMd5 + ".tmp"));
  EXPECT_FALSE(valid_oid(".dir"));
  EXPECT_FALSE(valid_oid("../../../../etc/passwd00000000000"));
}

TEST(ObjectDb, PathOfBothLayouts) {
  ObjectDb db("/c");
  EXPECT_EQ(db.path_of(v3(kHelloMd5)), "/c/files/md5/b1/946ac92492d2347c6235b4d2611184");
  EXPECT_EQ(db.path_of(ObjectId{kHelloMd5 + ".dir", Layout::v3}),
            "/c/files/md5/b1/946ac92492d2347c6235b4d2611184.dir");
  EXPECT_EQ(db.path_of(ObjectId{kHelloMd5, Layout::legacy}), "/c/b1/946ac92492d2347c6235b4d2611184");
  EXPECT_EQ(db.path_of(ObjectId{kHelloMd5 + ".dir", Layout::legacy}), "/c/b1/946ac92492d2347c6235b4d2611184.dir");
  EXPECT_EQ(layout_for(hash::Algorithm::md5), Layout::v3);
  EXPECT_EQ(layout_for(hash::Algorithm::md5_dos2unix), Layout::legacy);
  EXPECT_EQ(algorithm_for(Layout::v3), hash::Algorithm::md5);
  EXPECT_EQ(algorithm_for(Layout::legacy), hash::Algorithm::md5_dos2unix);
  EXPECT_TRUE((ObjectId{kHelloMd5 + ".dir", Layout::v3}).is_dir());
}

class AddFile : public ::testing::TestWithParam<std::vector<LinkType>> {};

TEST_P(AddFile, ObjectHasContentAndIsReadOnly) {
  TempDir t;
  ObjectDb db(t / "cache");
  tu::write_file(t / "ws/a.txt", kHello);
  auto id = v3(kHelloMd5);
  auto r = db.add_file(t / "ws/a.txt", id, GetParam());
  ASSERT_TRUE(r) << r.error().message;
  std::string obj = db.path_of(id);
  EXPECT_EQ(tu::read_file(obj), kHello);
  EXPECT_EQ(mode_of(obj), 0444u);
  EXPECT_TRUE(db.exists(id));
  EXPECT_TRUE(db.exists_valid(id, Verify::yes));
  EXPECT_EQ(tu::read_file(t / "ws/a.txt"), kHello);  // source untouched
  // Where reflink fails (ext4), the first of hardlink/copy in the list wins.
  bool hardlinked = false;
  for (auto lt : GetParam()) {
    if (lt == LinkType::reflink && dvx::testing::reflink_supported(t.path())) break;
    if (lt == LinkType::hardlink) hardlinked = true;
    if (lt == LinkType::hardlink || lt == LinkType::copy) break;
  }
  if (hardlinked) {
    EXPECT_EQ(inode_of(obj), inode_of(t / "ws/a.txt"));
  } else {
    EXPECT_NE(inode_of(obj), inode_of(t / "ws/a.txt"));
    EXPECT_EQ(mode_of(t / "ws/a.txt"), 0644u);
  }
  EXPECT_TRUE(temp_files(t.path()).empty()) << ::testing::PrintToString(temp_files(t.path()));
}

INSTANTIATE_TEST_SUITE_P(LinkTypes, AddFile,
                         ::testing::Values(std::vector<LinkType>{LinkType::copy},
                                           std::vector<LinkType>{LinkType::hardlink, LinkType::copy},
                                           std::vector<LinkType>{LinkType::reflink, LinkType::copy},
                                           std::vector<LinkType>{LinkType::reflink, LinkType::hardlink,
                                                                 LinkType::copy}));

TEST(ObjectDb, AddFileWithoutUsableLinkTypeFails) {
  TempDir t;
  ObjectDb db(t / "cache");
  tu::write_file(t / "a", kHello);
  // Symlinks are never used for objects.
  EXPECT_FALSE(db.add_file(t / "a", v3(kHelloMd5), {LinkType::symlink}));
  EXPECT_FALSE(db.add_file(t / "a", v3(kHelloMd5), {}));
  EXPECT_FALSE(db.exists(v3(kHelloMd5)));
  // Missing source.
  EXPECT_FALSE(db.add_file(t / "missing", v3(kHelloMd5), {LinkType::copy}));
  EXPECT_FALSE(db.exists(v3(kHelloMd5)));
  EXPECT_TRUE(temp_files(t.path()).empty());
}

TEST(ObjectDb, ExistingObjectNotRewritten) {
  TempDir t;
  ObjectDb db(t / "cache");
  tu::write_file(t / "a", kHello);
  auto id = v3(kHelloMd5);
  ASSERT_TRUE(db.add_file(t / "a", id, {LinkType::copy}));
  ino_t ino = inode_of(db.path_of(id));
  struct stat before;
  ASSERT_EQ(::stat(db.path_of(id).c_str(), &before), 0);
  tu::write_file(t / "b", kHello);
  ASSERT_TRUE(db.add_file(t / "b", id, {LinkType::copy}));
  ASSERT_TRUE(db.add_file(t / "b", id, {LinkType::hardlink}));
  ASSERT_TRUE(db.add_bytes(kHello, id));
  EXPECT_EQ(inode_of(db.path_of(id)), ino);
  EXPECT_NE(inode_of(t / "b"), ino);
  struct stat after;
  ASSERT_EQ(::stat(db.path_of(id).c_str(), &after), 0);
  EXPECT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
  EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
}

// A caller that saw the object missing skips the second look; a hard link tells that the source
// itself became the object, and an object stored meanwhile by someone else is kept (EEXIST).
TEST(ObjectDb, HardLinkKnownAbsentReportsTheSourceLinked) {
  TempDir t;
  ObjectDb db(t / "cache");
  tu::write_file(t / "a", kHello);
  tu::write_file(t / "b", kHello);
  auto id = v3(kHelloMd5);
  bool linked = false;
  ASSERT_TRUE(db.add_file(t / "a", id, {LinkType::hardlink, LinkType::copy}, true, &linked));
  EXPECT_TRUE(linked);
  EXPECT_EQ(inode_of(t / "a"), inode_of(db.path_of(id)));
  EXPECT_EQ(mode_of(db.path_of(id)), 0444u);
  // "Known absent" but present (a concurrent writer): nothing replaced, not linked.
  ASSERT_TRUE(db.add_file(t / "b", id, {LinkType::hardlink, LinkType::copy}, true, &linked));
  EXPECT_FALSE(linked);
  EXPECT_EQ(inode_of(t / "a"), inode_of(db.path_of(id)));
  EXPECT_NE(inode_of(t / "b"), inode_of(db.path_of(id)));
  // A copy never reports the source linked.
  ObjectDb other(t / "cache2");
  ASSERT_TRUE(other.add_file(t / "b", id, {LinkType::copy}, true, &linked));
  EXPECT_FALSE(linked);
  EXPECT_EQ(tu::read_file(other.path_of(id)), kHello);
}

TEST(ObjectDb, AddBytesAndReadManifest) {
  TempDir t;
  ObjectDb db(t / "cache");
  std::string manifest = R"([{"md5": "b1946ac92492d2347c6235b4d2611184", "relpath": "a.txt"}])";
  ObjectId id{hash::md5_hex(manifest) + ".dir", Layout::v3};
  ASSERT_TRUE(db.add_bytes(manifest, id));
  EXPECT_EQ(tu::read_file(db.path_of(id)), manifest);
  EXPECT_EQ(mode_of(db.path_of(id)), 0444u);
  EXPECT_TRUE(db.exists_valid(id, Verify::yes));  // .dir objects hash to their name without ".dir"
  auto entries = db.read_manifest(id);
  ASSERT_TRUE(entries) << entries.error().message;
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].relpath, "a.txt");
  EXPECT_EQ((*entries)[0].md5, kHelloMd5);
  auto missing = db.read_manifest(ObjectId{std::string(32, 'a') + ".dir", Layout::v3});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
  auto data = db.read(id);
  ASSERT_TRUE(data);
  EXPECT_EQ(*data, manifest);
  EXPECT_TRUE(temp_files(t.path()).empty());
}

TEST(ObjectDb, ContentAlgorithmAndDigest) {
  // What a downloaded object must hash to, and how: .dir objects by plain md5 without their
  // suffix, 2.x objects by md5-dos2unix.
  EXPECT_EQ(content_digest(v3(kHelloMd5)), kHelloMd5);
  EXPECT_EQ(content_algorithm(v3(kHelloMd5)), hash::Algorithm::md5);
  ObjectId dir{kHelloMd5 + ".dir", Layout::legacy};
  EXPECT_EQ(content_digest(dir), kHelloMd5);
  EXPECT_EQ(content_algorithm(dir), hash::Algorithm::md5);
  ObjectId legacy{kHelloMd5, Layout::legacy};
  EXPECT_EQ(content_algorithm(legacy), hash::Algorithm::md5_dos2unix);
  EXPECT_EQ(hash::digest_hex("hello\r\n", content_algorithm(legacy)), std::string(content_digest(legacy)));
}

TEST(ObjectDb, TempPathForIsBesideTheObjectAndAdoptMovesItIn) {
  TempDir t;
  ObjectDb db(t / "cache");
  auto id = v3(kHelloMd5);
  std::string tmp = db.temp_path_for(id);
  EXPECT_EQ(platform::parent_dir(tmp), platform::parent_dir(db.path_of(id)));
  EXPECT_TRUE(exists(platform::parent_dir(tmp)));  // the folder is created
  tu::write_file(tmp, kHello, 0444);
  ASSERT_TRUE(db.adopt(tmp, id));
  EXPECT_FALSE(exists(tmp));
  EXPECT_EQ(tu::read_file(db.path_of(id)), kHello);
  // Adopting when the object exists drops the temp file.
  std::string tmp2 = db.temp_path_for(id);
  tu::write_file(tmp2, kHello, 0444);
  ASSERT_TRUE(db.adopt(tmp2, id));
  EXPECT_FALSE(exists(tmp2));
  EXPECT_TRUE(temp_files(t.path()).empty());
}

TEST(ObjectDb, ExistsValidDeletesCorruptedWritableObject) {
  TempDir t;
  ObjectDb db(t / "cache");
  auto id = v3(kHelloMd5);
  // Writable (not 0444): always verified; corrupted -> deleted.
  tu::write_file(db.path_of(id), "corrupt\n", 0644);
  EXPECT_TRUE(db.exists(id));
  EXPECT_FALSE(db.exists_valid(id, Verify::no));
  EXPECT_FALSE(exists(db.path_of(id)));
  // Writable but correct: kept.
  tu::write_file(db.path_of(id), kHello, 0644);
  EXPECT_TRUE(db.exists_valid(id, Verify::no));
  EXPECT_TRUE(exists(db.path_of(id)));
  // Read-only (trusted without verify), corrupted: trusted with Verify::no, deleted with yes.
  tu::write_file(db.path_of(id), "corrupt\n", 0444);
  EXPECT_TRUE(db.exists_valid(id, Verify::no));
  EXPECT_FALSE(db.exists_valid(id, Verify::yes));
  EXPECT_FALSE(exists(db.path_of(id)));
  // Missing, and a directory in the object's place.
  EXPECT_FALSE(db.exists_valid(id, Verify::yes));
  ASSERT_TRUE(platform::make_dirs(db.path_of(id)));
  EXPECT_FALSE(db.exists(id));
  EXPECT_FALSE(db.exists_valid(id, Verify::yes));
  // A corrupted writable .dir object is deleted too.
  ObjectId dir{std::string(32, 'e') + ".dir", Layout::v3};
  tu::write_file(db.path_of(dir), "[]", 0644);
  EXPECT_FALSE(db.exists_valid(dir, Verify::no));
  EXPECT_FALSE(exists(db.path_of(dir)));
}

TEST(ObjectDb, ListBothLayoutsIgnoresNonObjects) {
  TempDir t;
  ObjectDb db(t / "cache");
  const std::string a = "aa" + std::string(30, '1');
  const std::string b = "bb" + std::string(30, '2');
  const std::string c = "0c" + std::string(30, '3');
  // v3 objects and noise.
  tu::write_file(db.path_of(v3(a)), "x", 0444);
  tu::write_file(db.path_of(v3(b + ".dir")), "[]", 0444);
  tu::write_file(t / "cache/files/md5/aa/.Xyz123.tmp", "partial");
  tu::write_file(t / "cache/files/md5/aa/short", "x");
  tu::write_file(t / "cache/files/md5/zz/" + std::string(30, '1'), "x");  // not hex
  tu::write_file(t / "cache/files/md5/abc/" + std::string(30, '1'), "x");  // 3 chars
  tu::write_file(t / "cache/files/md5/AA/" + std::string(30, '1'), "x");   // upper case
  ASSERT_TRUE(platform::make_dirs(t / "cache/files/md5/cc/" + std::string(30, '4')));  // a dir
  ASSERT_EQ(::symlink("x", (t / "cache/files/md5/aa/" + std::string(30, '5')).c_str()), 0);  // a link
  // Legacy objects and noise at the cache root: runs/, tmp/, files/ never look like objects.
  tu::write_file(db.path_of(ObjectId{c, Layout::legacy}), "y", 0444);
  tu::write_file(db.path_of(ObjectId{b + ".dir", Layout::legacy}), "[]", 0444);
  ASSERT_TRUE(platform::make_dirs(db.path_of(ObjectId{b + ".dir", Layout::legacy}) + ".unpacked/sub"));
  tu::write_file(t / "cache/runs/ab/" + std::string(64, 'a') + "/" + std::string(40, 'b'), "run");
  tu::write_file(t / "cache/tmp/" + std::string(30, '1'), "tmp");
  tu::write_file(t / "cache/0c/.tmpfile.tmp", "partial");
  tu::write_file(t / "cache/" + c, "top-level file");

  auto v3list = db.list(Layout::v3);
  ASSERT_TRUE(v3list) << v3list.error().message;
  EXPECT_EQ(*v3list, (std::vector<ObjectId>{v3(a), v3(b + ".dir")}));
  auto legacy = db.list(Layout::legacy);
  ASSERT_TRUE(legacy) << legacy.error().message;
  EXPECT_EQ(*legacy, (std::vector<ObjectId>{ObjectId{c, Layout::legacy}, ObjectId{b + ".dir", Layout::legacy}}));
  // Missing cache: empty lists.
  ObjectDb none(t / "nocache");
  ASSERT_TRUE(none.list(Layout::v3));
  EXPECT_TRUE(none.list(Layout::v3)->empty());
  EXPECT_TRUE(none.list(Layout::legacy)->empty());
}

TEST(ObjectDb, ListCollectsLeftoversOfKilledCommands) {
  TempDir t;
  ObjectDb db(t / "cache");
  const std::string a = "aa" + std::string(30, '1');
  const std::string tmp = "." + std::string(22, 'x') + ".tmp";  // platform::temp_path_beside's shape
  tu::write_file(db.path_of(v3(a)), "x", 0444);
  tu::write_file(t / "cache/files/md5/aa/" + tmp, "partial");         // temp beside an object
  tu::write_file(t / "cache/files/" + tmp + "/aa/" + std::string(30, '2'), "staged");  // v3 staging tree
  tu::write_file(t / "cache/" + tmp + "/0c/" + std::string(30, '3'), "staged");        // legacy staging tree
  tu::write_file(t / "cache/files/md5/aa/.Xyz123.tmp", "not ours");    // not a temp_path_beside name

  std::vector<std::string> left;
  auto v3list = db.list(Layout::v3, &left);
  ASSERT_TRUE(v3list) << v3list.error().message;
  EXPECT_EQ(*v3list, (std::vector<ObjectId>{v3(a)}));
  auto legacy = db.list(Layout::legacy, &left);
  ASSERT_TRUE(legacy) << legacy.error().message;
  EXPECT_TRUE(legacy->empty());
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{t / "cache/" + tmp, t / "cache/files/" + tmp,
                                            t / "cache/files/md5/aa/" + tmp}));
  // Fresh leftovers are not stale: a running command may own them.
  for (auto& p : left) EXPECT_FALSE(dvx::odb::is_stale_leftover(p)) << p;
  struct timespec old[2] = {{::time(nullptr) - 2 * 86400, 0}, {::time(nullptr) - 2 * 86400, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, left[0].c_str(), old, AT_SYMLINK_NOFOLLOW), 0);
  EXPECT_TRUE(dvx::odb::is_stale_leftover(left[0]));
  EXPECT_FALSE(dvx::odb::is_stale_leftover(t / "cache/missing"));
}

TEST(ObjectDb, RemoveObject) {
  TempDir t;
  ObjectDb db(t / "cache");
  tu::write_file(t / "a", kHello);
  auto id = v3(kHelloMd5);
  ASSERT_TRUE(db.add_file(t / "a", id, {LinkType::copy}));
  ASSERT_TRUE(db.remove(id));
  EXPECT_FALSE(db.exists(id));
  ASSERT_TRUE(db.remove(id));  // absent is fine
  ObjectId ldir{std::string(32, 'd') + ".dir", Layout::legacy};
  tu::write_file(db.path_of(ldir), "[]", 0444);
  ASSERT_TRUE(platform::make_dirs(db.path_of(ldir) + ".unpacked/x"));
  ASSERT_TRUE(db.remove(ldir));
  EXPECT_FALSE(exists(db.path_of(ldir) + ".unpacked"));
}

// exists_many must agree with exists() whether a prefix folder is read whole (many ids) or
// stat'ed per object (few ids), for both layouts, present and absent objects.
TEST(ObjectDb, ExistsManyAgreesWithExists) {
  TempDir t("dvx-odb-test");
  ObjectDb db(t.path() + "/cache");
  std::vector<ObjectId> ids;
  for (int i = 0; i < 300; ++i) {
    std::string bytes = "object " + std::to_string(i);
    ObjectId id{hash::md5_hex(bytes), i % 3 == 0 ? Layout::legacy : Layout::v3};
    if (i % 2 == 0) {
      ASSERT_TRUE(db.add_bytes(bytes, id));
    }
    ids.push_back(id);
  }
  // Many ids sharing one prefix (folder read once) plus an absent one there.
  // 20 v3 ids under the prefix "ab", half of them stored: that folder is read whole.
  for (int i = 0, n = 0; n < 20; ++i) {
    std::string bytes = "ab " + std::to_string(i);
    ObjectId id{hash::md5_hex(bytes), Layout::v3};
    if (id.oid.compare(0, 2, "ab") != 0) continue;
    if (n++ % 2 == 0) {
      ASSERT_TRUE(db.add_bytes(bytes, id));
    }
    ids.push_back(id);
  }
  ObjectId absent{"ab" + std::string(30, 'e'), Layout::v3};
  ids.push_back(absent);
  for (unsigned threads : {1u, 4u}) {
    auto got = db.exists_many(ids, threads);
    ASSERT_EQ(got.size(), ids.size());
    for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(got[i], db.exists(ids[i])) << ids[i].oid;
  }
  EXPECT_TRUE(db.exists_many({}, 2).empty());
}

TEST(ObjectDb, QuarantineMovesTheObjectOutOfTheListing) {
  TempDir t("dvx-odb-test");
  ObjectDb db(t / "cache");
  auto id = v3(kHelloMd5);
  ASSERT_TRUE(db.add_bytes(kHello, id));
  ObjectId legacy{kHelloMd5, Layout::legacy};
  ASSERT_TRUE(db.add_bytes(kHello, legacy));
  auto q = db.quarantine(id);
  ASSERT_TRUE(q) << q.error().message;
  auto q2 = db.quarantine(legacy);
  ASSERT_TRUE(q2);
  EXPECT_FALSE(db.exists(id));
  EXPECT_FALSE(db.exists(legacy));
  EXPECT_EQ(tu::read_file(*q), kHello);
  EXPECT_EQ(platform::parent_dir(*q), db.quarantine_dir());
  EXPECT_EQ(platform::base_name(*q).substr(0, 33), kHelloMd5 + "-");
  EXPECT_EQ(platform::base_name(*q2).substr(0, 7), "legacy-");
  EXPECT_EQ(db.quarantined().size(), 2u);
  // Neither layout's listing sees the quarantine, as objects or as leftovers.
  for (auto layout : {Layout::v3, Layout::legacy}) {
    std::vector<std::string> leftovers;
    auto all = db.list(layout, &leftovers);
    ASSERT_TRUE(all);
    EXPECT_TRUE(all->empty());
    EXPECT_TRUE(leftovers.empty());
  }
}

TEST(ObjectDb, CopyVerifiedRefusesBytesThatDoNotMatch) {
  TempDir t("dvx-odb-test");
  tu::write_file(t / "good", kHello);
  tu::write_file(t / "bad", "evil\n");
  EXPECT_TRUE(copy_verified(t / "good", t / "out1", 0444, v3(kHelloMd5)));
  EXPECT_EQ(tu::read_file(t / "out1"), kHello);
  auto r = copy_verified(t / "bad", t / "out2", 0444, v3(kHelloMd5));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::corruption);
  EXPECT_NE(r.error().message.find(kHelloMd5), std::string::npos);
  EXPECT_FALSE(exists(t / "out2"));
}

TEST(ObjectDb, ExistsValidQuarantinesAWritableCorruptedObject) {
  TempDir t("dvx-odb-test");
  ObjectDb db(t / "cache");
  auto id = v3(kHelloMd5);
  tu::write_file(db.path_of(id), "evil\n", 0644);
  EXPECT_FALSE(db.exists_valid(id, Verify::no));
  EXPECT_FALSE(db.exists(id));
  EXPECT_EQ(db.quarantined().size(), 1u);
}

TEST(BulkWriter, VerifiedAddFileStoresNothingForBadBytes) {
  TempDir t("dvx-odb-test");
  ObjectDb db(t / "remote");
  tu::write_file(t / "bad", "evil\n");
  tu::write_file(t / "good", kHello);
  {
    // Staged (fresh prefix folder) and direct (existing prefix folder) paths.
    BulkWriter w(db);
    auto r = w.add_file(t / "bad", v3(kHelloMd5), Verify::yes);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::corruption);
    ASSERT_TRUE(w.commit());
  }
  EXPECT_FALSE(db.exists(v3(kHelloMd5)));
  // No empty prefix folder is published for an object that was refused.
  EXPECT_FALSE(exists(platform::parent_dir(db.path_of(v3(kHelloMd5)))));
  ASSERT_TRUE(platform::make_dirs(platform::parent_dir(db.path_of(v3(kHelloMd5)))));
  {
    BulkWriter w(db);
    EXPECT_FALSE(w.add_file(t / "bad", v3(kHelloMd5), Verify::yes));
    EXPECT_TRUE(temp_files(platform::parent_dir(db.path_of(v3(kHelloMd5)))).empty());
    EXPECT_TRUE(w.add_file(t / "good", v3(kHelloMd5), Verify::yes));
    ASSERT_TRUE(w.commit());
  }
  EXPECT_EQ(tu::read_file(db.path_of(v3(kHelloMd5))), kHello);
}

TEST(ObjectDb, AddBytesAndAdoptTellWhetherTheyWrote) {
  TempDir t("dvx-odb-test");
  ObjectDb db(t / "cache");
  bool written = false;
  ASSERT_TRUE(db.add_bytes(kHello, v3(kHelloMd5), &written));
  EXPECT_TRUE(written);
  ASSERT_TRUE(db.add_bytes(kHello, v3(kHelloMd5), &written));
  EXPECT_FALSE(written);
  std::string tmp = db.temp_path_for(v3(kHelloMd5));
  tu::write_file(tmp, kHello);
  ASSERT_TRUE(db.adopt(tmp, v3(kHelloMd5), &written));
  EXPECT_FALSE(written);
  EXPECT_FALSE(exists(tmp));
}

}  // namespace
}  // namespace dvx::odb
