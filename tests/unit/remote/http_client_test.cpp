// http::upload_parts and FileBody::read_at: the part pipeline S3 multipart and Azure block
// uploads share.
#include "dvx/hash/md5.h"
#include "dvx/remote/http_client.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>

namespace dvx::remote::http {
namespace {

class UploadParts : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = std::filesystem::temp_directory_path() / ("dvx-upload-parts-" + std::to_string(::getpid()));
    std::filesystem::create_directories(m_dir);
  }
  void TearDown() override { std::filesystem::remove_all(m_dir); }

  std::string write(const std::string& name, size_t size) {
    std::mt19937 rng(7);
    std::string bytes(size, '\0');
    for (auto& c : bytes) c = static_cast<char>(rng());
    std::ofstream((m_dir / name).string(), std::ios::binary) << bytes;
    m_bytes = bytes;
    return (m_dir / name).string();
  }

  std::filesystem::path m_dir;
  std::string m_bytes;
};

TEST_F(UploadParts, SendsEveryPartOnceWithItsBytesAndHashesTheFileInOrder) {
  auto path = write("f.bin", 10'500);
  auto file = FileBody::open(path);
  ASSERT_TRUE(file) << file.error().message;
  std::mutex mu;
  std::vector<std::string> got(11);
  std::vector<int> times(11, 0);
  hash::DigestStream digest(hash::Algorithm::md5);
  auto st = upload_parts(**file, 1000, 3, &digest, [&](size_t i, std::string& bytes) -> Status {
    std::lock_guard<std::mutex> lock(mu);
    got.at(i) = bytes;
    ++times.at(i);
    return {};
  });
  ASSERT_TRUE(st) << st.error().message;
  std::string joined;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(times[i], 1) << "part " << i;
    EXPECT_EQ(got[i].size(), i < 10 ? 1000u : 500u) << "part " << i;
    joined += got[i];
  }
  EXPECT_EQ(joined, m_bytes);
  EXPECT_EQ(digest.hex_digest(), hash::md5_hex(m_bytes));
}

TEST_F(UploadParts, ReadsLaterPartsIntoTheBuffersSendHandsBack) {
  // A buffer left in `bytes` by send is read into again: one send grows it beyond what a fresh
  // part buffer holds, and the parts after the first few arrive in such grown buffers.
  const size_t part = 4096, parts = 40;
  auto path = write("g.bin", part * parts);
  auto file = FileBody::open(path);
  ASSERT_TRUE(file) << file.error().message;
  std::atomic<size_t> recycled{0}, wrong{0};
  auto st = upload_parts(**file, part, 2, nullptr, [&](size_t i, std::string& bytes) -> Status {
    if (bytes.capacity() >= 8 * part) ++recycled;
    if (bytes != std::string_view(m_bytes).substr(i * part, part)) ++wrong;
    bytes.reserve(8 * part);
    return {};
  });
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(wrong.load(), 0u);
  // At most parallel + 2 buffers are ever new (two senders, one part queued, one being read).
  EXPECT_GE(recycled.load(), parts - 4);
}

TEST_F(UploadParts, StopsAtTheFirstFailedSendAndReturnsItsError) {
  auto path = write("h.bin", 20'000);
  auto file = FileBody::open(path);
  ASSERT_TRUE(file) << file.error().message;
  std::atomic<int> calls{0};
  auto st = upload_parts(**file, 1000, 2, nullptr, [&](size_t i, std::string&) -> Status {
    ++calls;
    if (i == 3) return fail(ErrorCode::network, "part 4 refused");
    return {};
  });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message, "part 4 refused");
  EXPECT_LT(calls.load(), 20);
}

TEST_F(UploadParts, ReadAtSaysWhenTheFileShrank) {
  auto path = write("s.bin", 3000);
  auto file = FileBody::open(path);
  ASSERT_TRUE(file) << file.error().message;
  std::string buf = "left over";
  ASSERT_TRUE((*file)->read_at(1000, 2000, buf));
  EXPECT_EQ(buf, m_bytes.substr(1000, 2000));
  std::filesystem::resize_file(path, 1500);
  auto st = (*file)->read_at(1000, 2000, buf);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("shrank"), std::string::npos) << st.error().message;
}

}  // namespace
}  // namespace dvx::remote::http
