#include "dvx/hash/sha256.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "dvx/base/strings.h"

namespace dvx::hash {

std::string sha256_hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return to_hex(digest, sizeof digest);
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
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
