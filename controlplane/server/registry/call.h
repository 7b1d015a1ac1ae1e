#pragma once
// One REST call in flight: the resource type, the parsed request, and the
// ways to answer it (an object, a Table when the client asked for one, or
// a Status). Also the object helpers the verbs share.

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <variant>

#include "common/error.h"
#include "controlplane/server/api/request_info.h"
#include "controlplane/server/api/resources.h"
#include "controlplane/server/api/status.h"
#include "controlplane/server/api/validation.h"
#include "controlplane/server/http/https_server.h"
#include "controlplane/storage/store.h"

namespace berth::controlplane {
struct UserInfo;  // authn.h
}  // namespace berth::controlplane

namespace berth::controlplane::registry {

template <class T>
using ApiResult = std::variant<T, api::ApiStatus>;

void Reply(http::Response& w, const api::ApiStatus& status);

struct Call {
  Call(const api::ResourceType& t, const api::RequestInfo& i, const api::Query& q,
       const http::Request& r, http::Response& out)
      : type(t), info(i), query(q), req(r), w(out), ns(i.namespace_), name(i.name) {}

  const api::ResourceType& type;
  const api::RequestInfo& info;
  const api::Query& query;
  const http::Request& req;
  http::Response& w;
  std::string ns;                  // the namespace keys use
  std::string name;                // the object's name (set by create from the body)
  const UserInfo* user = nullptr;  // who asks; null for the server's own calls

  std::string Param(std::string_view key) const;
  bool DryRun() const { return Param("dryRun") == "All"; }
  std::string Key() const;
  // The body as a JSON object (JSON or YAML); 400 naming the problem.
  ApiResult<boost::json::object> BodyObject() const;
  api::ApiStatus NotFound() const;
  // "the object has been modified; please apply your changes to the
  // latest version and try again".
  api::ApiStatus Conflict() const;

  void Fail(const api::ApiStatus& status) const { Reply(w, status); }
  // An object, or a one-row Table when the client asked for one.
  void ReplyObject(int code, const boost::json::object& obj) const;
  void ReplyJson(int code, const boost::json::value& body) const;
  void ReplySuccess(int code) const;
};

// Stored values carry no resourceVersion: it is the key's mod revision.
Result<boost::json::object> Decode(const storage::KeyValue& kv);
std::string Encode(boost::json::object obj);
// As `type` serves them: its version's shape, apiVersion and kind (the
// stored form may be another version's, Kind::FromStorage).
Result<boost::json::object> Decode(const api::ResourceType& type, const storage::KeyValue& kv);
std::string Encode(const api::ResourceType& type, boost::json::object obj);

// The store key of an object.
std::string StorageKey(const api::ResourceType& type, const std::string& ns,
                       const std::string& name);
// An object as `type` serves it; nullopt when there is none.
Result<std::optional<boost::json::object>> ReadObject(storage::Store& store,
                                                      const api::ResourceType& type,
                                                      const std::string& ns,
                                                      const std::string& name);
void SetResourceVersion(boost::json::object& obj, int64_t revision);
int64_t ResourceVersionOf(const boost::json::object& obj);
// A resourceVersion as a revision; nullopt when not a non-negative integer.
std::optional<int64_t> ParseResourceVersion(std::string_view text);

api::ApiStatus StoreError(const Call& c, const Error& error, const std::string& name = "");

bool HasFinalizers(const boost::json::object& obj);
void AddFinalizer(boost::json::object& obj, const std::string& finalizer);
// Anything outside metadata and status differs.
bool SpecChanged(const boost::json::object& a, const boost::json::object& b);
// metadata.name by the kind's rule, labels and annotations.
void ValidateMeta(const api::ResourceType& type, const boost::json::object& obj,
                  api::FieldErrors& errors);

struct DeleteOptions {
  std::optional<int64_t> grace_period;
  std::string propagation;  // "", Background, Foreground, Orphan
  std::optional<std::string> uid;
  std::optional<int64_t> resource_version;
};
// From the body (a DeleteOptions object, or none) and the query.
std::optional<api::ApiStatus> ParseDeleteOptions(const Call& c, DeleteOptions& options);

}  // namespace berth::controlplane::registry
