#include "runtime/image/registry/client.h"

#include <thread>

#include "common/log.h"
#include "common/strings.h"
#include "runtime/image/registry/authorizer.h"
#include "runtime/image/registry/registry_error.h"

namespace berth::image::registry {
namespace {

// What the loop over endpoints does after a failed step.
enum class Next {
  kRetry,     // transient: the same endpoint again after a backoff, then the next
  kNextHost,  // this endpoint cannot help
  kStop,      // no endpoint can (e.g. the caller's sink failed)
};

const std::string& ManifestAccept() {
  static const std::string accept =
      std::string(media::kOciIndex) + ", " + std::string(media::kOciManifest) + ", " +
      std::string(media::kDockerManifestList) + ", " + std::string(media::kDockerManifest);
  return accept;
}

constexpr std::string_view kDockerSchema1 = "application/vnd.docker.distribution.manifest.v1";

std::string MediaTypeOf(const HttpResponse& r) {
  std::string ct = r.headers.Get("Content-Type").value_or("");
  return std::string(Trim(std::string_view(ct).substr(0, ct.find(';'))));
}

bool IsManifestType(std::string_view t) {
  return media::IsIndex(t) || media::IsManifest(t);
}

Next ForTransport(TransportFailure f, bool more_hosts) {
  switch (f) {
    case TransportFailure::kConnect:
      // An unreachable mirror is not worth waiting for; the upstream is.
      return more_hosts ? Next::kNextHost : Next::kRetry;
    case TransportFailure::kTransfer:
      return Next::kRetry;
    case TransportFailure::kAborted:
      return Next::kStop;
    case TransportFailure::kNone:  // auth errors (token server, challenge)
    case TransportFailure::kTls:
    case TransportFailure::kRedirect:
      return Next::kNextHost;
  }
  return Next::kNextHost;
}

Next ForStatus(int status) {
  if (status == 429 || status >= 500) return Next::kRetry;
  return Next::kNextHost;
}

// A HEAD that failed this way may still be answered by a GET (405 Method
// Not Allowed, 400 from registries that dislike HEAD).
bool GetMayHelp(int status) {
  return status != 401 && status != 403 && status != 404 && status != 429 && status < 500;
}

// A 401 that survived the auth retry says the credentials were rejected.
Error ResponseError(Authorizer& auth, const Endpoint& ep, const HttpResponse& r) {
  return r.status == 401 ? auth.RejectedError(ep, r) : StatusError(r);
}

Error WithEarlier(const Error& err, const std::vector<std::string>& earlier) {
  if (earlier.empty()) return err;
  return Error(err.code(), err.str() + " (tried before: " + Join(earlier, "; ") + ")");
}

const char* CapabilityName(Capability c) {
  switch (c) {
    case kCapPull:
      return "pull";
    case kCapResolve:
      return "resolve";
    case kCapPush:
      return "push";
  }
  return "?";
}

Error Mismatch(std::string_view what, const Digest& want, const Digest& got) {
  return Error(Errc::kDataLoss, std::string(what) + " " + want.str() + ": content digest " +
                                    got.str() + " does not match");
}

// What a HEAD (or GET) of a manifest says about it; nullopt when it does
// not say enough (no digest, length or known media type) and a GET must.
Result<std::optional<Descriptor>> DescriptorFromHead(const HttpResponse& r, const Reference& ref) {
  std::string type = MediaTypeOf(r);
  if (type.rfind(kDockerSchema1, 0) == 0) {
    return Error(Errc::kUnimplemented, ref.String() + ": " + r.url.String() +
                                           " serves a Docker schema 1 manifest (not supported)");
  }
  std::optional<Digest> reported;
  if (auto h = r.headers.Get("Docker-Content-Digest")) {
    Result<Digest> d = Digest::Parse(*h, "Docker-Content-Digest");
    if (d.ok()) reported = *d;
  }
  if (ref.digest && reported && *reported != *ref.digest)
    return Mismatch("manifest", *ref.digest, *reported);
  std::optional<Digest> digest = ref.digest ? ref.digest : reported;
  Result<int64_t> size = ParseInt<int64_t>(r.headers.Get("Content-Length").value_or(""), "");
  if (!digest || !size.ok() || !IsManifestType(type)) return std::optional<Descriptor>();
  Descriptor d;
  d.media_type = type;
  d.digest = *digest;
  d.size = *size;
  return std::optional<Descriptor>(d);
}

// The descriptor of a fetched manifest body: its own digest, checked
// against the reference's and the registry's.
Result<Descriptor> DescriptorFromBody(const HttpResponse& r, const Reference& ref) {
  Digest got = Sha256Of(r.body);
  if (ref.digest && got != *ref.digest) return Mismatch("manifest", *ref.digest, got);
  if (auto h = r.headers.Get("Docker-Content-Digest")) {
    Result<Digest> reported = Digest::Parse(*h, "Docker-Content-Digest");
    if (reported.ok() && *reported != got) return Mismatch("manifest", *reported, got);
  }
  Descriptor d;
  d.digest = got;
  d.size = static_cast<int64_t>(r.body.size());
  d.media_type = MediaTypeOf(r);
  std::string what = "manifest " + got.str() + " from " + r.url.String();
  if (!IsManifestType(d.media_type)) d.media_type = BERTH_TRY(DetectMediaType(r.body, what));
  if (!IsManifestType(d.media_type)) {
    return Error(Errc::kUnimplemented, what + ": unsupported media type \"" + d.media_type + "\"");
  }
  return d;
}

}  // namespace

struct Client::Attempt {
  Result<HttpResponse> response;  // any HTTP status, or why there was none
  TransportFailure failure = TransportFailure::kNone;
};

template <class T>
struct Client::Step {
  Result<T> result;
  Next next = Next::kStop;
};

Client::Client(ClientOptions options)
    : options_(std::move(options)),
      http_(options_.http ? options_.http : std::make_shared<HttpClient>()),
      auth_(std::make_unique<Authorizer>(*http_, options_.credentials)) {}

Client::~Client() = default;

Result<std::vector<Endpoint>> Client::Endpoints(const std::string& registry_host) {
  {
    std::lock_guard lock(mu_);
    auto it = endpoints_.find(registry_host);
    if (it != endpoints_.end()) return it->second;
  }
  std::vector<Endpoint> eps = BERTH_TRY(ConfigureEndpoints(options_.hosts, registry_host));
  std::lock_guard lock(mu_);
  endpoints_[registry_host] = eps;
  return eps;
}

bool Client::UseHttp(const Endpoint& ep) {
  std::lock_guard lock(mu_);
  return plain_http_hosts_.count(ep.host) != 0;
}

Result<Url> Client::MakeUrl(const Endpoint& ep, const Reference& ref, std::string_view kind,
                            std::string_view object) {
  std::string scheme = ep.http_fallback && UseHttp(ep) ? "http" : ep.scheme;
  std::string text = scheme + "://" + ep.host + ep.path + "/" + ref.path + "/" + std::string(kind) +
                     "/" + std::string(object);
  // containerd tells a mirror which registry the request is for.
  if (ep.host != ref.domain) text += "?ns=" + QueryEscape(ref.domain);
  return Url::Parse(text);
}

Client::Attempt Client::Send(const Endpoint& ep, const std::string& scope, HttpRequest req) {
  req.tls = ep.tls;
  req.dial_timeout = ep.dial_timeout;
  for (const auto& [k, v] : ep.headers)
    req.headers.Add(k, v);
  Result<std::string> auth = auth_->Authorize(ep, scope);
  if (!auth.ok()) return {std::move(auth).error()};
  std::string sent = *auth;
  if (!sent.empty()) req.headers.Set("Authorization", sent);
  bool answered_challenge = false;
  while (true) {
    TransportFailure failure = TransportFailure::kNone;
    Result<HttpResponse> r = http_->Do(req, &failure);
    if (!r.ok() && failure == TransportFailure::kTls && ep.http_fallback &&
        req.url.scheme == "https") {
      BLOG(kInfo) << r.error().str() << "; " << ep.host << " speaks plain HTTP, falling back";
      {
        std::lock_guard lock(mu_);
        plain_http_hosts_[ep.host] = true;
      }
      req.url.scheme = "http";
      continue;
    }
    if (!r.ok() || r->status != 401 || answered_challenge) return {std::move(r), failure};
    answered_challenge = true;
    Status learned = auth_->OnUnauthorized(ep, scope, *r, sent);
    if (!learned.ok()) return {std::move(learned).error()};
    Result<std::string> next = auth_->Authorize(ep, scope);
    if (!next.ok()) return {std::move(next).error()};
    if (next->empty()) return {std::move(r), failure};  // nothing to answer with
    sent = *next;
    req.headers.Set("Authorization", sent);
  }
}

template <class T, class StepFn>
Result<T> Client::TryEndpoints(const Reference& ref, Capability need, StepFn step) {
  std::vector<Endpoint> endpoints;
  for (Endpoint& ep : BERTH_TRY(Endpoints(ref.domain))) {
    if (ep.Can(need)) endpoints.push_back(std::move(ep));
  }
  if (endpoints.empty()) {
    return Error(Errc::kFailedPrecondition, "no host configured for " + ref.domain + " has the " +
                                                CapabilityName(need) + " capability");
  }
  std::vector<std::string> earlier;
  for (size_t i = 0; i < endpoints.size(); ++i) {
    bool more_hosts = i + 1 < endpoints.size();
    for (int attempt = 1;; ++attempt) {
      Step<T> s = step(endpoints[i], more_hosts);
      if (s.result.ok()) return std::move(s.result);
      Error err = std::move(s.result).error();
      if (s.next == Next::kStop) return WithEarlier(err, earlier);
      if (s.next == Next::kRetry && attempt < options_.attempts) {
        std::chrono::milliseconds delay = options_.backoff * (1 << (attempt - 1));
        BLOG(kInfo) << err.str() << "; retrying in " << delay.count() << "ms";
        std::this_thread::sleep_for(delay);
        continue;
      }
      if (!more_hosts) return WithEarlier(err, earlier);
      BLOG(kInfo) << err.str() << "; trying the next host";
      earlier.push_back(err.str());
      break;
    }
  }
  return Error(Errc::kInternal, "registry client: no endpoint was tried");
}

Result<Descriptor> Client::Resolve(const Reference& ref) {
  if (!ref.digest && ref.tag.empty())
    return Error(Errc::kInvalidArgument, ref.String() + ": neither a tag nor a digest");
  std::string scope = PullScope(ref.path);
  Capability need = ref.digest ? kCapPull : kCapResolve;

  return TryEndpoints<Descriptor>(
      ref, need, [&](const Endpoint& ep, bool more) -> Step<Descriptor> {
        Result<Url> url = MakeUrl(ep, ref, "manifests", ref.Object());
        if (!url.ok()) return {std::move(url).error(), Next::kNextHost};
        HttpRequest req;
        req.method = "HEAD";
        req.url = *url;
        req.headers.Set("Accept", ManifestAccept());
        Attempt head = Send(ep, scope, req);
        if (!head.response.ok())
          return {std::move(head.response).error(), ForTransport(head.failure, more)};
        const HttpResponse& hr = *head.response;
        if (hr.ok()) {
          Result<std::optional<Descriptor>> d = DescriptorFromHead(hr, ref);
          if (!d.ok()) return {std::move(d).error(), Next::kNextHost};
          if (*d) return {**d};
        } else if (!GetMayHelp(hr.status)) {
          return {ResponseError(*auth_, ep, hr), ForStatus(hr.status)};
        }
        // HEAD said too little (or is not allowed): GET the manifest itself.
        req.method = "GET";
        req.max_body = static_cast<size_t>(options_.max_manifest_size);
        Attempt get = Send(ep, scope, req);
        if (!get.response.ok()) {
          Next next = get.failure == TransportFailure::kAborted ? Next::kNextHost
                                                                : ForTransport(get.failure, more);
          return {std::move(get.response).error(), next};
        }
        const HttpResponse& gr = *get.response;
        if (!gr.ok()) return {ResponseError(*auth_, ep, gr), ForStatus(gr.status)};
        return {DescriptorFromBody(gr, ref), Next::kNextHost};
      });
}

Result<std::string> Client::FetchManifest(const Reference& ref, const Descriptor& desc) {
  std::string what = "manifest " + desc.digest.str();
  if (desc.size > options_.max_manifest_size) {
    return Error(Errc::kResourceExhausted,
                 what + ": size " + std::to_string(desc.size) + " exceeds the limit of " +
                     std::to_string(options_.max_manifest_size) + " bytes");
  }
  std::string scope = PullScope(ref.path);
  return TryEndpoints<std::string>(
      ref, kCapPull, [&](const Endpoint& ep, bool more) -> Step<std::string> {
        Result<Url> url = MakeUrl(ep, ref, "manifests", desc.digest.str());
        if (!url.ok()) return {std::move(url).error(), Next::kNextHost};
        HttpRequest req;
        req.url = *url;
        std::string accept = ManifestAccept();
        if (!desc.media_type.empty() && accept.find(desc.media_type) == std::string::npos)
          accept = desc.media_type + ", " + accept;
        req.headers.Set("Accept", accept);
        req.max_body = static_cast<size_t>(desc.size);
        Attempt a = Send(ep, scope, req);
        if (!a.response.ok()) {
          if (a.failure == TransportFailure::kAborted) {
            return {Error(Errc::kDataLoss, what + ": " + url->String() + " sent more than the " +
                                               std::to_string(desc.size) + " bytes expected"),
                    Next::kNextHost};
          }
          return {std::move(a.response).error(), ForTransport(a.failure, more)};
        }
        HttpResponse& r = *a.response;
        if (!r.ok()) return {ResponseError(*auth_, ep, r), ForStatus(r.status)};
        if (static_cast<int64_t>(r.body.size()) != desc.size) {
          return {Error(Errc::kDataLoss, what + ": " + url->String() + " sent " +
                                             std::to_string(r.body.size()) + " bytes, expected " +
                                             std::to_string(desc.size)),
                  Next::kNextHost};
        }
        Digest got = Sha256Of(r.body);
        if (got != desc.digest) return {Mismatch("manifest", desc.digest, got), Next::kNextHost};
        return {std::move(r.body)};
      });
}

Status Client::FetchBlob(const Reference& ref, const Descriptor& desc, BlobSink& sink) {
  std::string what = "blob " + desc.digest.str();
  std::string scope = PullScope(ref.path);
  Result<bool> done =
      TryEndpoints<bool>(ref, kCapPull, [&](const Endpoint& ep, bool more) -> Step<bool> {
        Result<Url> url = MakeUrl(ep, ref, "blobs", desc.digest.str());
        if (!url.ok()) return {std::move(url).error(), Next::kNextHost};
        Sha256 hasher;
        int64_t written = 0;
        bool too_long = false;
        bool sink_failed = false;
        HttpRequest req;
        req.url = *url;
        req.sink = [&](std::string_view chunk) -> Status {
          if (written + static_cast<int64_t>(chunk.size()) > desc.size) {
            too_long = true;
            return Error(Errc::kDataLoss, what + ": " + url->String() + " sent more than the " +
                                              std::to_string(desc.size) + " bytes expected");
          }
          written += static_cast<int64_t>(chunk.size());
          hasher.Update(chunk);
          Status s = sink.Write(chunk);
          sink_failed = !s.ok();
          return s;
        };
        Attempt a = Send(ep, scope, req);
        auto fail = [&](Error e, Next next) -> Step<bool> {
          if (written > 0 || e.code() == Errc::kDataLoss) sink.Discard();
          return {std::move(e), next};
        };
        if (!a.response.ok()) {
          Next next = too_long      ? Next::kNextHost
                      : sink_failed ? Next::kStop
                                    : ForTransport(a.failure, more);
          return fail(std::move(a.response).error(), next);
        }
        const HttpResponse& r = *a.response;
        if (!r.ok()) return fail(ResponseError(*auth_, ep, r), ForStatus(r.status));
        if (written != desc.size) {
          return fail(Error(Errc::kDataLoss, what + ": " + r.url.String() + " sent " +
                                                 std::to_string(written) + " bytes, expected " +
                                                 std::to_string(desc.size)),
                      Next::kNextHost);
        }
        Digest got = hasher.Finish();
        if (got != desc.digest) return fail(Mismatch("blob", desc.digest, got), Next::kNextHost);
        return {true};
      });
  if (!done.ok()) return std::move(done).error();
  return Ok();
}

}  // namespace berth::image::registry
