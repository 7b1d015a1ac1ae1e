#include "common/pki/pki.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace berth::pki {
namespace {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using Store = std::unique_ptr<X509_STORE, Deleter<X509_STORE, X509_STORE_free>>;
using StoreCtx = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX, X509_STORE_CTX_free>>;
using Names = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES, GENERAL_NAMES_free>>;
using Bignum = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;

// OpenSSL's queued errors, most recent last, as one string.
std::string OpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {  // NOLINT(google-runtime-int): OpenSSL's type
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no detail" : out;
}

Error Fail(const std::string& what) {
  return Error(Errc::kInternal, what + ": " + OpenSslErrors());
}

Result<Cert> ParseCert(const std::string& pem, const std::string& what) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert)
    return Error(Errc::kInvalidArgument, what + " is not a PEM certificate: " + OpenSslErrors());
  return cert;
}

Result<Key> ParseKey(const std::string& pem, const std::string& what) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Key key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key)
    return Error(Errc::kInvalidArgument, what + " is not a PEM private key: " + OpenSslErrors());
  return key;
}

Result<std::string> ToPem(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509(bio.get(), cert) != 1) return Fail("encode certificate");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);  // NOLINT(google-runtime-int)
  return std::string(data, static_cast<size_t>(n));
}

Result<std::string> ToPem(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return Fail("encode private key");
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);  // NOLINT(google-runtime-int)
  return std::string(data, static_cast<size_t>(n));
}

Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return Fail(std::string("extension ") + OBJ_nid2sn(nid) + "=" + value);
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (ok != 1) return Fail(std::string("add extension ") + OBJ_nid2sn(nid));
  return Ok();
}

bool ValidDnsName(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '*';
    if (!ok) return false;
  }
  return true;
}

bool ValidIp(const std::string& ip) {
  unsigned char buf[16];
  return inet_pton(AF_INET, ip.c_str(), buf) == 1 || inet_pton(AF_INET6, ip.c_str(), buf) == 1;
}

Status AddName(X509_NAME* name, const char* field, const std::string& value) {
  if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                 0) != 1) {
    return Fail(std::string("subject ") + field + "=" + value);
  }
  return Ok();
}

// A certificate for `key` with `spec`'s subject, signed by `issuer` (the
// certificate itself when null) with `issuer_key`.
Result<Cert> Build(EVP_PKEY* key, const CertSpec& spec, bool ca, X509* issuer,
                   EVP_PKEY* issuer_key) {
  for (const std::string& dns : spec.dns_names) {
    if (!ValidDnsName(dns))
      return Error(Errc::kInvalidArgument, "DNS SAN `" + dns + "` is not a DNS name");
  }
  for (const std::string& ip : spec.ip_addresses) {
    if (!ValidIp(ip))
      return Error(Errc::kInvalidArgument, "IP SAN `" + ip + "` is not an IP address");
  }
  Cert cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1) return Fail("new certificate");
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return Fail("serial number");
  serial[0] &= 0x7f;  // positive
  Bignum bn(BN_bin2bn(serial, sizeof serial, nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return Fail("serial number");
  }
  // Back-dated a little: clocks across a cluster are rarely exact.
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()),
                  static_cast<long>(spec.validity.count()));  // NOLINT(google-runtime-int)
  if (X509_set_pubkey(cert.get(), key) != 1) return Fail("public key");
  X509_NAME* subject = X509_get_subject_name(cert.get());
  for (const std::string& o : spec.organizations)
    BERTH_TRY(AddName(subject, "O", o));
  BERTH_TRY(AddName(subject, "CN", spec.common_name));
  X509* signer = issuer != nullptr ? issuer : cert.get();
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)) != 1) return Fail("issuer");

  if (ca) {
    BERTH_TRY(AddExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE"));
    BERTH_TRY(AddExtension(cert.get(), signer, NID_key_usage,
                           "critical,digitalSignature,keyCertSign,cRLSign"));
  } else {
    BERTH_TRY(AddExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE"));
    BERTH_TRY(AddExtension(cert.get(), signer, NID_key_usage, "critical,digitalSignature"));
    std::string usages;
    if (spec.server_auth) usages += "serverAuth";
    if (spec.client_auth) usages += std::string(usages.empty() ? "" : ",") + "clientAuth";
    if (!usages.empty()) BERTH_TRY(AddExtension(cert.get(), signer, NID_ext_key_usage, usages));
  }
  std::string sans;
  for (const std::string& dns : spec.dns_names)
    sans += (sans.empty() ? "DNS:" : ",DNS:") + dns;
  for (const std::string& ip : spec.ip_addresses)
    sans += (sans.empty() ? "IP:" : ",IP:") + ip;
  if (!sans.empty()) BERTH_TRY(AddExtension(cert.get(), signer, NID_subject_alt_name, sans));
  BERTH_TRY(AddExtension(cert.get(), signer, NID_subject_key_identifier, "hash"));
  if (issuer != nullptr) {
    BERTH_TRY(AddExtension(cert.get(), signer, NID_authority_key_identifier, "keyid:always"));
  }
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) return Fail("sign certificate");
  return cert;
}

Result<Key> NewKey() {
  Key key(EVP_EC_gen("P-256"));
  if (!key) return Fail("generate an ECDSA P-256 key");
  return key;
}

void ReadSubject(X509_NAME* subject, std::string& common_name,
                 std::vector<std::string>& organizations) {
  for (int i = 0; i < X509_NAME_entry_count(subject); ++i) {
    X509_NAME_ENTRY* entry = X509_NAME_get_entry(subject, i);
    int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry));
    const ASN1_STRING* data = X509_NAME_ENTRY_get_data(entry);
    std::string value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                      static_cast<size_t>(ASN1_STRING_length(data)));
    if (nid == NID_commonName) common_name = value;
    if (nid == NID_organizationName) organizations.push_back(value);
  }
}

// DNS and IP subject alternative names; `others` counts the rest (email,
// URI, ...).
void ReadNames(const GENERAL_NAMES* names, std::vector<std::string>& dns,
               std::vector<std::string>& ips, int& others) {
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_DNS) {
      const ASN1_STRING* s = name->d.dNSName;
      dns.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                       static_cast<size_t>(ASN1_STRING_length(s)));
    } else if (name->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* s = name->d.iPAddress;
      char text[INET6_ADDRSTRLEN] = {};
      int family = ASN1_STRING_length(s) == 4 ? AF_INET : AF_INET6;
      if (inet_ntop(family, ASN1_STRING_get0_data(s), text, sizeof text) != nullptr) {
        ips.emplace_back(text);
      }
    } else {
      ++others;
    }
  }
}

std::time_t ToTime(const ASN1_TIME* t) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return timegm(&tm);
}

}  // namespace

Result<Credential> SelfSignedCa(const std::string& common_name, std::chrono::seconds validity) {
  Key key = BERTH_TRY(NewKey());
  CertSpec spec;
  spec.common_name = common_name;
  spec.validity = validity;
  Cert cert = BERTH_TRY(Build(key.get(), spec, true, nullptr, key.get()));
  return Credential{BERTH_TRY(ToPem(cert.get())), BERTH_TRY(ToPem(key.get()))};
}

Result<Credential> Issue(const Credential& ca, const CertSpec& spec) {
  if (spec.common_name.empty()) return Error(Errc::kInvalidArgument, "certificate CN is empty");
  Cert ca_cert = BERTH_TRY(ParseCert(ca.cert_pem, "the CA certificate"));
  Key ca_key = BERTH_TRY(ParseKey(ca.key_pem, "the CA key"));
  if (X509_check_private_key(ca_cert.get(), ca_key.get()) != 1) {
    return Error(Errc::kInvalidArgument, "the CA key does not match the CA certificate");
  }
  Key key = BERTH_TRY(NewKey());
  Cert cert = BERTH_TRY(Build(key.get(), spec, false, ca_cert.get(), ca_key.get()));
  return Credential{BERTH_TRY(ToPem(cert.get())), BERTH_TRY(ToPem(key.get()))};
}

Result<CertInfo> Inspect(const std::string& pem) {
  Cert cert = BERTH_TRY(ParseCert(pem, "certificate"));
  CertInfo info;
  ReadSubject(X509_get_subject_name(cert.get()), info.common_name, info.organizations);
  Names names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  int others = 0;
  ReadNames(names.get(), info.dns_names, info.ip_addresses, others);
  info.is_ca = X509_check_ca(cert.get()) > 0;
  info.not_before = ToTime(X509_get0_notBefore(cert.get()));
  info.not_after = ToTime(X509_get0_notAfter(cert.get()));
  return info;
}

Status Verify(const std::string& pem, const std::string& ca_pem) {
  Cert cert = BERTH_TRY(ParseCert(pem, "certificate"));
  Cert ca = BERTH_TRY(ParseCert(ca_pem, "CA certificate"));
  Store store(X509_STORE_new());
  StoreCtx ctx(X509_STORE_CTX_new());
  if (!store || !ctx || X509_STORE_add_cert(store.get(), ca.get()) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr) != 1) {
    return Fail("set up verification");
  }
  if (X509_verify_cert(ctx.get()) != 1) {
    return Error(Errc::kPermissionDenied,
                 std::string("certificate does not verify against the CA: ") +
                     X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get())));
  }
  return Ok();
}

Result<std::string> NewSigningKey() {
  Key key = BERTH_TRY(NewKey());
  return ToPem(key.get());
}

Result<std::string> SignEs256(const std::string& key_pem, std::string_view data) {
  Key key = BERTH_TRY(ParseKey(key_pem, "the signing key"));
  std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>> ctx(EVP_MD_CTX_new());
  size_t der_len = 0;
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &der_len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return Fail("sign (ES256)");
  }
  std::string der(der_len, '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (EVP_DigestSign(ctx.get(), out, &der_len, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) != 1) {
    return Fail("sign (ES256)");
  }
  const unsigned char* p = out;
  std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>> sig(
      d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)));  // NOLINT(google-runtime-int)
  if (!sig) return Fail("decode the ECDSA signature");
  std::string raw(64, '\0');
  auto* r = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), r, 32) != 32 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), r + 32, 32) != 32) {
    return Fail("encode the ECDSA signature");
  }
  return raw;
}

bool VerifyEs256(const std::string& key_pem, std::string_view data, std::string_view signature) {
  if (signature.size() != 64) return false;
  Result<Key> key = ParseKey(key_pem, "the signing key");
  if (!key.ok()) return false;
  const auto* raw = reinterpret_cast<const unsigned char*>(signature.data());
  std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(raw, 32, nullptr);
  BIGNUM* s = BN_bin2bn(raw + 32, 32, nullptr);
  if (ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return false;
  }
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(sig.get(), &der);
  if (der_len <= 0) return false;
  std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>> ctx(EVP_MD_CTX_new());
  bool ok = EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key->get()) == 1 &&
            EVP_DigestVerify(ctx.get(), der, static_cast<size_t>(der_len),
                             reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  OPENSSL_free(der);
  ERR_clear_error();
  return ok;
}

Result<std::string> PublicKeyDer(const std::string& key_pem) {
  Key key = BERTH_TRY(ParseKey(key_pem, "the signing key"));
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(key.get(), &der);
  if (n <= 0) return Fail("encode the public key");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  return out;
}

namespace {

using Req = std::unique_ptr<X509_REQ, Deleter<X509_REQ, X509_REQ_free>>;
using Extensions = std::unique_ptr<STACK_OF(X509_EXTENSION), void (*)(STACK_OF(X509_EXTENSION)*)>;

void FreeExtensions(STACK_OF(X509_EXTENSION) * exts) {
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
}

Result<Req> ParseCsr(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Req req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!req) {
    return Error(Errc::kInvalidArgument,
                 "not a PEM certificate request (CERTIFICATE REQUEST): " + OpenSslErrors());
  }
  EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());
  if (key == nullptr || X509_REQ_verify(req.get(), key) != 1) {
    return Error(Errc::kInvalidArgument,
                 "the certificate request's signature does not verify: " + OpenSslErrors());
  }
  return req;
}

}  // namespace

Result<CertificateRequest> NewCertificateRequest(const CertSpec& subject) {
  Key key = BERTH_TRY(NewKey());
  Req req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), 0) != 1) return Fail("new certificate request");
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  for (const std::string& o : subject.organizations)
    BERTH_TRY(AddName(name, "O", o));
  BERTH_TRY(AddName(name, "CN", subject.common_name));
  std::string sans;
  for (const std::string& dns : subject.dns_names)
    sans += (sans.empty() ? "DNS:" : ",DNS:") + dns;
  for (const std::string& ip : subject.ip_addresses)
    sans += (sans.empty() ? "IP:" : ",IP:") + ip;
  if (!sans.empty()) {
    Extensions exts(sk_X509_EXTENSION_new_null(), FreeExtensions);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, sans.c_str());
    if (!exts || ext == nullptr) return Fail("subjectAltName " + sans);
    sk_X509_EXTENSION_push(exts.get(), ext);
    if (X509_REQ_add_extensions(req.get(), exts.get()) != 1) return Fail("request extensions");
  }
  if (X509_REQ_set_pubkey(req.get(), key.get()) != 1 ||
      X509_REQ_sign(req.get(), key.get(), EVP_sha256()) == 0) {
    return Fail("sign the certificate request");
  }
  Bio bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509_REQ(bio.get(), req.get()) != 1) return Fail("encode certificate request");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);  // NOLINT(google-runtime-int)
  return CertificateRequest{BERTH_TRY(ToPem(key.get())), std::string(data, static_cast<size_t>(n))};
}

Result<CsrInfo> InspectCertificateRequest(const std::string& pem) {
  Req req = BERTH_TRY(ParseCsr(pem));
  CsrInfo info;
  ReadSubject(X509_REQ_get_subject_name(req.get()), info.common_name, info.organizations);
  Extensions exts(X509_REQ_get_extensions(req.get()), FreeExtensions);
  for (int i = 0; exts && i < sk_X509_EXTENSION_num(exts.get()); ++i) {
    X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts.get(), i);
    if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) != NID_subject_alt_name) continue;
    Names names(static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(ext)));
    ReadNames(names.get(), info.dns_names, info.ip_addresses, info.other_names);
  }
  return info;
}

Result<std::string> SignCertificateRequest(const Credential& ca, const std::string& csr_pem,
                                           const CertSpec& spec) {
  Req req = BERTH_TRY(ParseCsr(csr_pem));
  Cert ca_cert = BERTH_TRY(ParseCert(ca.cert_pem, "the CA certificate"));
  Key ca_key = BERTH_TRY(ParseKey(ca.key_pem, "the CA key"));
  if (X509_check_private_key(ca_cert.get(), ca_key.get()) != 1) {
    return Error(Errc::kInvalidArgument, "the CA key does not match the CA certificate");
  }
  Cert cert =
      BERTH_TRY(Build(X509_REQ_get0_pubkey(req.get()), spec, false, ca_cert.get(), ca_key.get()));
  return ToPem(cert.get());
}

}  // namespace berth::pki
