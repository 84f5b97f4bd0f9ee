#include "dvx/hash/sha256.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "dvx/base/strings.h"

namespace dvx::hash {

namespace {

// OpenSSL 3's one-shot calls (SHA256(), HMAC()) look the algorithm up by name on every call,
// which costs more than hashing a short string: an S3 request signs two. The algorithms are
// fetched once, and each thread keeps its contexts.
struct DigestCtx {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~DigestCtx() { EVP_MD_CTX_free(ctx); }
};
struct MacCtx {
  EVP_MAC_CTX* ctx = nullptr;
  MacCtx() {
    static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (!mac) return;
    ctx = EVP_MAC_CTX_new(mac);
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0), OSSL_PARAM_construct_end()};
    if (ctx && EVP_MAC_CTX_set_params(ctx, params) != 1) {
      EVP_MAC_CTX_free(ctx);
      ctx = nullptr;
    }
  }
  ~MacCtx() { EVP_MAC_CTX_free(ctx); }
};

}  // namespace

std::string sha256_hex(std::string_view data) {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local DigestCtx d;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  unsigned int n = 0;
  if (md && d.ctx && EVP_DigestInit_ex2(d.ctx, md, nullptr) == 1 && EVP_DigestUpdate(d.ctx, data.data(), data.size()) == 1 &&
      EVP_DigestFinal_ex(d.ctx, digest, &n) == 1)
    return to_hex(digest, n);
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return to_hex(digest, sizeof digest);
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  thread_local MacCtx m;
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t len = 0;
  // An empty key is passed as one byte of storage and a length of 0 (init takes NULL as "keep
  // the previous key").
  static const unsigned char none = 0;
  const auto* k = key.empty() ? &none : reinterpret_cast<const unsigned char*>(key.data());
  if (m.ctx && EVP_MAC_init(m.ctx, k, key.size(), nullptr) == 1 &&
      EVP_MAC_update(m.ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1 &&
      EVP_MAC_final(m.ctx, out, &len, sizeof out) == 1)
    return std::string(reinterpret_cast<const char*>(out), len);
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &n);
  return std::string(reinterpret_cast<const char*>(out), n);
}

Result<std::string> rsa_sha256_sign(std::string_view pem_private_key, std::string_view data) {
  BIO* bio = BIO_new_mem_buf(pem_private_key.data(), static_cast<int>(pem_private_key.size()));
  if (!bio) return fail(ErrorCode::io, "cannot read the private key: out of memory");
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!key) return fail(ErrorCode::invalid_argument, "the private key is not a PEM RSA private key");
  std::string out;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  bool ok = ctx && EVP_PKEY_base_id(key) == EVP_PKEY_RSA &&
            EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  if (ok) {
    out.resize(len);
    ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(out.data()), &len,
                        reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
    out.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  if (!ok) return fail(ErrorCode::invalid_argument, "cannot sign with the private key (not an RSA key?)");
  return out;
}

}  // namespace dvx::hash
