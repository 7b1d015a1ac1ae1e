#include "controlplane/controllers/controller_revisions.h"

#include <algorithm>

#include "controlplane/controllers/api_util.h"
#include "controlplane/server/api/kinds.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

constexpr uint32_t kFnvOffset = 2166136261U;
constexpr uint32_t kFnvPrime = 16777619U;

uint32_t Fnv32(uint32_t h, std::string_view data) {
  for (unsigned char c : data) {
    h *= kFnvPrime;
    h ^= c;
  }
  return h;
}

uint32_t Fnv32a(uint32_t h, std::string_view data) {
  for (unsigned char c : data) {
    h ^= c;
    h *= kFnvPrime;
  }
  return h;
}

void AppendCanonical(const bj::value& v, std::string& out) {
  if (const bj::object* obj = v.if_object()) {
    std::vector<std::string_view> keys;
    keys.reserve(obj->size());
    for (const auto& kv : *obj)
      keys.push_back(kv.key());
    std::sort(keys.begin(), keys.end());
    out += '{';
    for (size_t i = 0; i < keys.size(); ++i) {
      if (i > 0) out += ',';
      out += bj::serialize(bj::string(keys[i]));
      out += ':';
      AppendCanonical(obj->at(keys[i]), out);
    }
    out += '}';
  } else if (const bj::array* arr = v.if_array()) {
    out += '[';
    for (size_t i = 0; i < arr->size(); ++i) {
      if (i > 0) out += ',';
      AppendCanonical((*arr)[i], out);
    }
    out += ']';
  } else {
    out += bj::serialize(v);
  }
}

Result<bj::object> ObjectReply(const char* method, const std::string& url,
                               const client::ApiResponse& r) {
  bj::value v = r.Json();
  if (!v.is_object()) return Error(Errc::kDataLoss, std::string(method) + " " + url + ": not JSON");
  return std::move(v.as_object());
}

std::string RevisionUrl(const bj::object& revision) {
  return RevisionsUrl(StringAt(revision, {"metadata", "namespace"})) + "/" +
         StringAt(revision, {"metadata", "name"});
}

}  // namespace

std::string CanonicalJson(const bj::value& v) {
  std::string out;
  AppendCanonical(v, out);
  return out;
}

std::string SafeEncodeString(std::string_view s) {
  static constexpr std::string_view kAlphanums = "bcdfghjklmnpqrstvwxz2456789";
  std::string out(s.size(), ' ');
  for (size_t i = 0; i < s.size(); ++i)
    out[i] = kAlphanums[static_cast<unsigned char>(s[i]) % kAlphanums.size()];
  return out;
}

std::string TemplateHash(const bj::object& pod_template, std::optional<int64_t> collision_count) {
  uint32_t h = Fnv32a(kFnvOffset, CanonicalJson(pod_template));
  if (collision_count) {
    // binary.LittleEndian.PutUint32 into an 8-byte buffer, as upstream.
    auto count = static_cast<uint32_t>(*collision_count);
    std::string bytes(8, '\0');
    for (int i = 0; i < 4; ++i)
      bytes[i] = static_cast<char>((count >> (8 * i)) & 0xff);
    h = Fnv32a(h, bytes);
  }
  return SafeEncodeString(std::to_string(h));
}

std::string RevisionDataHash(const bj::value& data, std::optional<int64_t> collision_count) {
  uint32_t h = Fnv32(kFnvOffset, CanonicalJson(data));
  if (collision_count) h = Fnv32(h, std::to_string(*collision_count));
  return SafeEncodeString(std::to_string(h));
}

bj::object TemplatePatch(const bj::object& workload) {
  const bj::value* t = api::Lookup(workload, {"spec", "template"});
  bj::object tmpl = t != nullptr && t->is_object() ? t->as_object() : bj::object();
  tmpl["$patch"] = "replace";
  return bj::object{{"spec", bj::object{{"template", std::move(tmpl)}}}};
}

bj::object RevisionTemplate(const bj::object& revision) {
  const bj::value* t = api::Lookup(revision, {"data", "spec", "template"});
  bj::object tmpl = t != nullptr && t->is_object() ? t->as_object() : bj::object();
  tmpl.erase("$patch");
  return tmpl;
}

int64_t RevisionNumber(const bj::object& revision) {
  return api::LookupInt(revision, {"revision"});
}

bj::object ApplyRevision(const bj::object& workload, const bj::object& revision) {
  bj::object out = workload;
  api::Child(out, "spec")["template"] = RevisionTemplate(revision);
  return out;
}

bj::object NewRevision(const bj::object& owner, OwnerKind kind, const std::string& name,
                       bj::object labels, bj::object data, int64_t revision) {
  bj::object meta{{"name", name},
                  {"namespace", StringAt(owner, {"metadata", "namespace"})},
                  {"labels", std::move(labels)},
                  {"ownerReferences", bj::array{ControllerRef(owner, kind)}}};
  if (const bj::value* a = api::Lookup(owner, {"metadata", "annotations"}); a && a->is_object()) {
    meta["annotations"] = *a;
  }
  return bj::object{{"apiVersion", "apps/v1"},
                    {"kind", "ControllerRevision"},
                    {"metadata", std::move(meta)},
                    {"data", std::move(data)},
                    {"revision", revision}};
}

std::vector<bj::object> OwnedRevisions(const client::Informer& revisions, const bj::object& owner) {
  std::vector<bj::object> out;
  for (bj::object& r : InNamespace(revisions, StringAt(owner, {"metadata", "namespace"})))
    if (IsControlledBy(r, owner)) out.push_back(std::move(r));
  std::sort(out.begin(), out.end(), [](const bj::object& a, const bj::object& b) {
    int64_t ra = RevisionNumber(a);
    int64_t rb = RevisionNumber(b);
    if (ra != rb) return ra < rb;
    return StringAt(a, {"metadata", "name"}) < StringAt(b, {"metadata", "name"});
  });
  return out;
}

std::string RevisionsUrl(const std::string& ns) {
  return "/apis/apps/v1/namespaces/" + ns + "/controllerrevisions";
}

Result<bj::object> CreateRevision(client::ApiClient& api, const bj::object& revision) {
  const std::string url = RevisionsUrl(StringAt(revision, {"metadata", "namespace"}));
  client::ApiResponse r = BERTH_TRY(api.Do("POST", url, bj::serialize(revision)));
  if (r.status == 409) {
    return Error(Errc::kAlreadyExists,
                 "POST " + url + ": " + StringAt(revision, {"metadata", "name"}) + " exists");
  }
  if (r.status != 201) return HttpError("POST", url, r);
  return ObjectReply("POST", url, r);
}

Result<bj::object> GetRevision(client::ApiClient& api, const std::string& ns,
                               const std::string& name) {
  const std::string url = RevisionsUrl(ns) + "/" + name;
  client::ApiResponse r = BERTH_TRY(api.Do("GET", url));
  if (r.status != 200) return HttpError("GET", url, r);
  return ObjectReply("GET", url, r);
}

Result<bj::object> RenumberRevision(client::ApiClient& api, bj::object revision, int64_t number) {
  const std::string url = RevisionUrl(revision);
  revision["revision"] = number;
  client::ApiResponse r = BERTH_TRY(api.Do("PUT", url, bj::serialize(revision)));
  if (r.status != 200) return HttpError("PUT", url, r);
  return ObjectReply("PUT", url, r);
}

Status DeleteRevision(client::ApiClient& api, const bj::object& revision) {
  const std::string url = RevisionUrl(revision);
  bj::object options{
      {"kind", "DeleteOptions"},
      {"apiVersion", "v1"},
      {"preconditions", bj::object{{"uid", StringAt(revision, {"metadata", "uid"})}}}};
  client::ApiResponse r = BERTH_TRY(api.Do("DELETE", url, bj::serialize(options)));
  if (r.status == 200 || r.status == 202 || r.status == 404) return Ok();
  return HttpError("DELETE", url, r);
}

}  // namespace berth::controlplane::controllers
