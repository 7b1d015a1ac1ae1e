#pragma once
// The registry client: the pull side of the OCI distribution spec.
//
//   registry::ClientOptions options;
//   options.hosts.hosts_dir = "/etc/berth/certs.d";
//   options.credentials = MakeCredentials(ref.domain, cri_auth, docker_config);
//   registry::Client client(std::move(options));
//   Descriptor top = BERTH_TRY(client.Resolve(ref));              // tag -> digest
//   std::string doc = BERTH_TRY(client.FetchManifest(ref, top));  // verified bytes
//   if (media::IsIndex(top.media_type)) {
//     Index index = BERTH_TRY(ParseIndex(doc, "index " + top.digest.str()));
//     Descriptor m = BERTH_TRY(SelectManifest(index, HostPlatform()));
//     ...FetchManifest(ref, m)...
//   }
//   BERTH_TRY(client.FetchBlob(ref, layer, sink));                // streamed, verified
//
// Every request goes to the registry's endpoints in order (hosts.h: the
// hosts.toml mirrors, then the upstream server), using only endpoints with
// the capability it needs: resolve for a tag, pull for anything named by
// digest. An endpoint that cannot be reached, answers 404, 401/403, another
// 4xx, keeps failing with 5xx/429 or serves content that fails
// verification (size, digest) hands over to the next. Connection
// failures (on the last endpoint), broken transfers and 5xx/429 answers are
// retried with exponential backoff, `attempts` times per endpoint. When all
// fail, the error is the last endpoint's, followed by the earlier ones.
//
// Errors name the URL and the HTTP status, e.g.
//   401 Unauthorized from http://127.0.0.1:5000/v2/app/manifests/v1: invalid credentials
//   blob sha256:<expected>: content digest sha256:<actual> does not match
// and carry the matching category (NotFound, Unauthenticated, DataLoss,
// Unavailable...). Callers add the operation: "pull <ref>: ...".
//
// Thread-safe: one Client may serve concurrent fetches of one pull. Make a
// Client per pull (credentials are per pull) and share an HttpClient to
// reuse connections across pulls.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/image/manifest.h"
#include "runtime/image/reference.h"
#include "runtime/image/registry/blob_sink.h"
#include "runtime/image/registry/credentials.h"
#include "runtime/image/registry/hosts.h"
#include "runtime/image/registry/http_client.h"

namespace berth::image::registry {

struct ClientOptions {
  HostsOptions hosts;                      // hosts.toml directory, plain_http, skip_verify, CA
  CredentialsFn credentials;               // unset: anonymous
  std::shared_ptr<HttpClient> http;        // unset: a client of its own
  int attempts = 3;                        // per endpoint, for transient failures
  std::chrono::milliseconds backoff{250};  // before the 2nd attempt; doubles after
  int64_t max_manifest_size = 4 << 20;
};

class Authorizer;

class Client {
 public:
  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // The descriptor `ref` names: HEAD (GET when HEAD does not tell enough)
  // of /v2/<path>/manifests/<tag|digest>, accepting OCI and Docker indexes
  // and manifests. The digest is the registry's Docker-Content-Digest or
  // that of the body; a digest reference must match it.
  Result<Descriptor> Resolve(const Reference& ref);

  // The manifest or index `desc` describes, fetched by digest and verified
  // (size and digest); larger than max_manifest_size is refused.
  Result<std::string> FetchManifest(const Reference& ref, const Descriptor& desc);

  // Streams the blob `desc` describes into `sink` (redirects to blob storage
  // are followed), verifying size and SHA-256 on the way.
  Status FetchBlob(const Reference& ref, const Descriptor& desc, BlobSink& sink);

  // The endpoints requests for `registry_host` go to, read from the hosts
  // directory once per Client (so once per pull, as containerd does).
  Result<std::vector<Endpoint>> Endpoints(const std::string& registry_host);

 private:
  struct Attempt;
  template <class T>
  struct Step;

  template <class T, class StepFn>
  Result<T> TryEndpoints(const Reference& ref, Capability need, StepFn step);
  Attempt Send(const Endpoint& ep, const std::string& scope, HttpRequest req);
  Result<Url> MakeUrl(const Endpoint& ep, const Reference& ref, std::string_view kind,
                      std::string_view object);
  bool UseHttp(const Endpoint& ep);

  ClientOptions options_;
  std::shared_ptr<HttpClient> http_;
  std::unique_ptr<Authorizer> auth_;
  std::mutex mu_;
  std::map<std::string, bool> plain_http_hosts_;  // http_fallback hosts found to speak HTTP
  std::map<std::string, std::vector<Endpoint>> endpoints_;  // by registry host
};

}  // namespace berth::image::registry
