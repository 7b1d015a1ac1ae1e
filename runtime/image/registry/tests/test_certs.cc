#include "runtime/image/registry/tests/test_certs.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <functional>
#include <memory>

namespace berth::image::registry::testing {
namespace {

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* c) const { X509_free(c); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

Error Fail(const std::string& what) {
  return Error(Errc::kInternal, "test PKI: " + what);
}

Status AddExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return Fail(std::string("extension ") + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return Ok();
}

// A certificate for `key` named `cn`, signed by issuer (self when null).
Result<Cert> MakeCert(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key,
                      long serial, bool ca, const std::string& san) {  // NOLINT(google-runtime-int)
  Cert cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24L * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  if (ca) {
    BERTH_TRY(AddExt(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE"));
    BERTH_TRY(AddExt(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign"));
  } else {
    BERTH_TRY(AddExt(cert.get(), signer, NID_basic_constraints, "CA:FALSE"));
    BERTH_TRY(AddExt(cert.get(), signer, NID_ext_key_usage, "serverAuth"));
    BERTH_TRY(AddExt(cert.get(), signer, NID_subject_alt_name, san.c_str()));
  }
  BERTH_TRY(AddExt(cert.get(), signer, NID_subject_key_identifier, "hash"));
  if (X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) == 0)
    return Fail("sign");
  return cert;
}

Status WritePem(const std::string& path, const std::function<int(FILE*)>& write) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return Error::Sys("fopen", path);
  int ok = write(f);
  std::fclose(f);
  if (ok != 1) return Fail("write " + path);
  return Ok();
}

}  // namespace

Result<TestPki> MakeTestPki(const std::string& dir, const std::string& san) {
  Key ca_key(EVP_EC_gen("P-256"));
  Key server_key(EVP_EC_gen("P-256"));
  if (!ca_key || !server_key) return Fail("key generation");
  Cert ca = BERTH_TRY(MakeCert(ca_key.get(), "berth test CA", nullptr, nullptr, 1, true, ""));
  Cert server = BERTH_TRY(
      MakeCert(server_key.get(), "berth test server", ca.get(), ca_key.get(), 2, false, san));
  TestPki pki{dir + "/ca.pem", dir + "/server.pem", dir + "/server-key.pem"};
  BERTH_TRY(WritePem(pki.ca_cert, [&](FILE* f) { return PEM_write_X509(f, ca.get()); }));
  BERTH_TRY(WritePem(pki.server_cert, [&](FILE* f) {
    return PEM_write_X509(f, server.get()) == 1 && PEM_write_X509(f, ca.get()) == 1 ? 1 : 0;
  }));
  BERTH_TRY(WritePem(pki.server_key, [&](FILE* f) {
    return PEM_write_PrivateKey(f, server_key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  }));
  return pki;
}

}  // namespace berth::image::registry::testing
