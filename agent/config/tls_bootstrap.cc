#include "agent/config/tls_bootstrap.h"

#include <openssl/evp.h>

#include <condition_variable>
#include <ctime>
#include <mutex>
#include <optional>
#include <thread>

#include "agent/config/client_cert_store.h"
#include "agent/config/kubeconfig.h"
#include "common/base64.h"
#include "common/file.h"
#include "common/log.h"
#include "common/pki/pki.h"
#include "common/strings.h"

namespace berth::agent {
namespace {

namespace bj = boost::json;
using controlplane::client::ApiClient;
using controlplane::client::ClientConfig;
using controlplane::client::WatchStream;
using Clock = std::chrono::steady_clock;

constexpr char kCsrs[] = "/apis/certificates.k8s.io/v1/certificatesigningrequests";
constexpr char kSigner[] = "kubernetes.io/kube-apiserver-client-kubelet";
// The pending key and request, until the certificate is issued.
constexpr char kPendingFile[] = "kubelet-client.key.tmp";

std::string Base64RawUrl(std::string_view data) {
  std::string s = Base64Encode(data);
  while (!s.empty() && s.back() == '=')
    s.pop_back();
  for (char& c : s) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return s;
}

std::string Str(const bj::value& v, std::initializer_list<std::string_view> path) {
  const bj::value* cur = &v;
  for (std::string_view key : path) {
    if (!cur->is_object()) return "";
    cur = cur->as_object().if_contains(key);
    if (cur == nullptr) return "";
  }
  return cur->is_string() ? std::string(cur->as_string()) : "";
}

// The Status message of an error response, else its body.
std::string Why(const controlplane::client::ApiResponse& r) {
  std::string m = Str(r.Json(), {"message"});
  return "HTTP " + std::to_string(r.status) + ": " + (m.empty() ? r.body : m);
}

// Whether the kubeconfig holds a client certificate that has not expired
// (upstream's isClientConfigStillValid: only expiry, not the chain, since
// the client CA may differ from the one the kubeconfig trusts).
bool StillValid(const std::string& kubeconfig) {
  if (!PathExists(kubeconfig)) return false;
  Result<Kubeconfig> k = ReadKubeconfig(kubeconfig);
  if (!k.ok()) {
    BLOG(kWarn) << "TLS bootstrap: existing kubeconfig unusable, bootstrapping again: "
                << k.error().str();
    return false;
  }
  if (k->client.certificate.cert_pem.empty()) return false;
  Result<pki::CertInfo> info = pki::Inspect(k->client.certificate.cert_pem);
  if (!info.ok() || info->not_after <= std::time(nullptr)) {
    BLOG(kInfo) << "TLS bootstrap: the client certificate in " << kubeconfig
                << " has expired, bootstrapping again";
    return false;
  }
  return true;
}

// The pending key and request for `node` from an earlier run, or new ones.
Result<pki::CertificateRequest> PendingRequest(const std::string& cert_dir,
                                               const pki::CertSpec& subject) {
  std::string path = PathJoin(cert_dir, kPendingFile);
  if (Result<std::string> text = ReadFile(path); text.ok()) {
    pki::CertificateRequest req{PemBlocks(*text, "PRIVATE KEY"),
                                PemBlocks(*text, "CERTIFICATE REQUEST")};
    Result<pki::CsrInfo> info = pki::InspectCertificateRequest(req.csr_pem);
    if (info.ok() && info->common_name == subject.common_name &&
        info->organizations == subject.organizations && pki::PublicKeyDer(req.key_pem).ok()) {
      return req;
    }
  }
  pki::CertificateRequest req = BERTH_TRY(pki::NewCertificateRequest(subject));
  BERTH_TRY(MkdirAll(cert_dir, 0755));
  BERTH_TRY(WriteFileAtomic(path, req.key_pem + req.csr_pem, 0600));
  return req;
}

// Cancels the watch in progress when the deadline passes, so that a
// stalled stream cannot hold the caller past it.
class Watchdog {
 public:
  explicit Watchdog(Clock::time_point deadline)
      : thread_([this, deadline] {
          std::unique_lock lock(mu_);
          if (!cv_.wait_until(lock, deadline, [this] { return done_; }) && watch_ != nullptr) {
            watch_->Cancel();
          }
        }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  void Watching(WatchStream* w) {
    std::lock_guard lock(mu_);
    watch_ = w;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  WatchStream* watch_ = nullptr;
  std::thread thread_;
};

class CsrRequest {
 public:
  CsrRequest(ApiClient& api, std::string name, Clock::time_point deadline)
      : api_(api), name_(std::move(name)), deadline_(deadline) {}

  // Creates the request, or finds the same one made before.
  Status Create(const pki::CertificateRequest& req, const bj::array& usages) {
    bj::object csr{{"apiVersion", "certificates.k8s.io/v1"},
                   {"kind", "CertificateSigningRequest"},
                   {"metadata", bj::object{{"name", name_}}},
                   {"spec", bj::object{{"request", Base64Encode(req.csr_pem)},
                                       {"signerName", kSigner},
                                       {"usages", usages}}}};
    auto backoff = std::chrono::milliseconds(200);
    for (;;) {
      Result<controlplane::client::ApiResponse> r = api_.Do("POST", kCsrs, bj::serialize(csr));
      if (!r.ok()) {
        // The apiserver may still be coming up: retry until the deadline.
        if (r.error().code() != Errc::kUnavailable || Clock::now() + backoff >= deadline_) {
          return std::move(r).error().Wrap("create certificate signing request " + name_);
        }
        BLOG(kInfo) << "TLS bootstrap: " << r.error().str() << "; retrying";
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
        continue;
      }
      if (r->status == 201) {
        uid_ = Str(r->Json(), {"metadata", "uid"});
        return Ok();
      }
      if (r->status == 409) return Reuse(req);
      Errc code = r->status == 401   ? Errc::kUnauthenticated
                  : r->status == 403 ? Errc::kPermissionDenied
                                     : Errc::kUnavailable;
      return Error(code, "create certificate signing request " + name_ + ": " + Why(*r));
    }
  }

  // Watches the request until it has a certificate (PEM).
  Result<std::string> WaitForCertificate() {
    Watchdog watchdog(deadline_);
    for (;;) {
      if (Clock::now() >= deadline_) return TimedOut();
      std::string selector = "?fieldSelector=" + PercentEncode("metadata.name=" + name_);
      Result<controlplane::client::ApiResponse> list = api_.Do("GET", kCsrs + selector);
      std::string rv;
      if (list.ok() && list->status == 200) {
        bj::value l = list->Json();
        rv = Str(l, {"metadata", "resourceVersion"});
        const bj::value* items = l.is_object() ? l.as_object().if_contains("items") : nullptr;
        if (items == nullptr || !items->is_array() || items->as_array().empty()) {
          return Error(Errc::kNotFound, "certificate signing request " + name_ + " is gone");
        }
        if (auto done = BERTH_TRY(Check(items->as_array().front()))) return *done;
      } else if (list.ok()) {
        return Error(Errc::kUnavailable,
                     "get certificate signing request " + name_ + ": " + Why(*list));
      }
      if (!list.ok() || rv.empty()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        continue;
      }
      auto left = std::chrono::duration_cast<std::chrono::seconds>(deadline_ - Clock::now());
      std::string target =
          std::string(kCsrs) + selector + "&watch=1&resourceVersion=" + rv +
          "&timeoutSeconds=" + std::to_string(std::max<int64_t>(1, left.count() + 1));
      Result<std::unique_ptr<WatchStream>> watch = api_.Watch(target);
      if (!watch.ok()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        continue;
      }
      watchdog.Watching(watch->get());
      Result<std::optional<std::string>> got = Follow(**watch);
      watchdog.Watching(nullptr);
      if (!got.ok()) return std::move(got).error();
      if (*got) return **got;
    }
  }

 private:
  Status Reuse(const pki::CertificateRequest& req) {
    Result<controlplane::client::ApiResponse> r = api_.Do("GET", std::string(kCsrs) + "/" + name_);
    if (!r.ok()) return std::move(r).error().Wrap("get certificate signing request " + name_);
    if (r->status != 200) {
      return Error(Errc::kUnavailable, "get certificate signing request " + name_ + ": " + Why(*r));
    }
    bj::value csr = r->Json();
    std::optional<std::string> request = Base64Decode(Str(csr, {"spec", "request"}));
    if (!request || *request != req.csr_pem || Str(csr, {"spec", "signerName"}) != kSigner) {
      return Error(Errc::kAlreadyExists, "certificate signing request " + name_ +
                                             " exists with a different request or signer");
    }
    uid_ = Str(csr, {"metadata", "uid"});
    return Ok();
  }

  // Events until the stream ends (nullopt) or the request is decided.
  Result<std::optional<std::string>> Follow(WatchStream& watch) {
    for (;;) {
      Result<std::string> line = watch.NextLine();
      if (!line.ok()) return std::optional<std::string>();
      boost::system::error_code ec;
      bj::value event = bj::parse(*line, ec);
      if (ec || !event.is_object()) continue;
      std::string type = Str(event, {"type"});
      if (type == "ERROR") return std::optional<std::string>();  // e.g. 410: list again
      const bj::value* obj = event.as_object().if_contains("object");
      if (obj == nullptr) continue;
      if (type == "DELETED") {
        return Error(Errc::kNotFound,
                     "certificate signing request " + name_ + " was deleted before it was issued");
      }
      if (auto done = BERTH_TRY(Check(*obj))) return done;
    }
  }

  // The certificate once issued; an error once denied or failed.
  Result<std::optional<std::string>> Check(const bj::value& csr) {
    if (!uid_.empty() && Str(csr, {"metadata", "uid"}) != uid_) {
      return Error(Errc::kAborted, "certificate signing request " + name_ + " changed UIDs");
    }
    bool approved = false;
    const bj::value* conditions = nullptr;
    if (csr.is_object()) {
      const bj::value* status = csr.as_object().if_contains("status");
      if (status != nullptr && status->is_object())
        conditions = status->as_object().if_contains("conditions");
    }
    if (conditions != nullptr && conditions->is_array()) {
      for (const bj::value& c : conditions->as_array()) {
        std::string type = Str(c, {"type"});
        std::string detail =
            ", reason: " + Str(c, {"reason"}) + ", message: " + Str(c, {"message"});
        if (type == "Denied") {
          return Error(Errc::kPermissionDenied,
                       "certificate signing request " + name_ + " is denied" + detail);
        }
        if (type == "Failed") {
          return Error(Errc::kAborted, "certificate signing request " + name_ + " failed" + detail);
        }
        approved = approved || type == "Approved";
      }
    }
    approved_ = approved;
    std::string cert = Str(csr, {"status", "certificate"});
    if (!approved || cert.empty()) return std::optional<std::string>();
    std::optional<std::string> pem = Base64Decode(cert);
    if (!pem) {
      return Error(Errc::kDataLoss,
                   "certificate signing request " + name_ + ": status.certificate is not base64");
    }
    return std::optional<std::string>(*pem);
  }

  Error TimedOut() const {
    return Error(Errc::kDeadlineExceeded,
                 "timed out waiting for certificate signing request " + name_ + " to be issued (" +
                     (approved_ ? "approved, not yet signed" : "not approved") + ")");
  }

  ApiClient& api_;
  std::string name_;
  std::string uid_;
  Clock::time_point deadline_;
  bool approved_ = false;
};

Result<ClientConfig> Bootstrap(const TlsBootstrapOptions& o) {
  Kubeconfig bootstrap =
      BERTH_TRY_CTX(ReadKubeconfig(o.bootstrap_kubeconfig), "--bootstrap-kubeconfig");
  pki::CertSpec subject;
  subject.common_name = "system:node:" + o.node_name;
  subject.organizations = {"system:nodes"};
  pki::CertificateRequest req = BERTH_TRY_CTX(PendingRequest(o.cert_dir, subject),
                                              "TLS bootstrap: the pending key in " + o.cert_dir);
  // ECDSA keys: no key encipherment (upstream adds it for RSA keys only).
  std::vector<std::string> usages = {"digital signature", "client auth"};
  std::string name =
      BERTH_TRY(KubeletCsrName(req.key_pem, subject.common_name, subject.organizations, usages));
  BLOG(kInfo) << "TLS bootstrap: requesting a client certificate for " << subject.common_name
              << " (" << name << ")";
  ApiClient api(bootstrap.client);
  CsrRequest csr(api, name, Clock::now() + o.timeout);
  bj::array usage_array(usages.begin(), usages.end());
  BERTH_TRY(csr.Create(req, usage_array));
  std::string cert = BERTH_TRY(csr.WaitForCertificate());
  std::string pem_path = BERTH_TRY(StoreClientCert(o.cert_dir, {cert, req.key_pem}));
  (void)RemoveAll(PathJoin(o.cert_dir, kPendingFile));
  KubeconfigFiles files{bootstrap.ca_file, pem_path, pem_path};
  ClientConfig own = bootstrap.client;
  own.bearer_token.clear();
  BERTH_TRY_CTX(WriteKubeconfig(o.kubeconfig, own, bootstrap.server, files), "TLS bootstrap");
  BLOG(kInfo) << "TLS bootstrap: wrote " << o.kubeconfig << " for " << subject.common_name;
  return LoadKubeconfig(o.kubeconfig);
}

}  // namespace

Result<std::string> KubeletCsrName(const std::string& key_pem, const std::string& common_name,
                                   const std::vector<std::string>& organizations,
                                   const std::vector<std::string>& usages) {
  std::string public_key = BERTH_TRY(pki::PublicKeyDer(key_pem));
  // Each part base64-encoded and '|'-terminated, so that different parts
  // cannot run together into the same stream.
  std::string stream;
  auto write = [&](std::string_view part) {
    stream += Base64RawUrl(part);
    stream += '|';
  };
  write(public_key);
  write(common_name);
  for (const std::string& o : organizations)
    write(o);
  for (const std::string& u : usages)
    write(u);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(stream.data(), stream.size(), digest, &size, EVP_sha512_256(), nullptr) != 1) {
    return Error(Errc::kInternal, "SHA-512/256 digest of the certificate request");
  }
  return "node-csr-" + Base64RawUrl(std::string_view(reinterpret_cast<const char*>(digest), size));
}

Result<ClientConfig> LoadOrBootstrapClientConfig(const TlsBootstrapOptions& o) {
  if (o.bootstrap_kubeconfig.empty() || StillValid(o.kubeconfig)) {
    return BERTH_TRY_CTX(LoadKubeconfig(o.kubeconfig), "--kubeconfig");
  }
  if (o.node_name.empty()) return Error(Errc::kInvalidArgument, "TLS bootstrap: no node name");
  return BERTH_TRY_CTX(Bootstrap(o), "TLS bootstrap");
}

}  // namespace berth::agent
