#pragma once
// Per-kind behaviour, as kube-apiserver's registry strategies hold it:
// defaulting, what a create resets, validation, the fields a field
// selector may name, and the Table columns kubectl shows. The generic REST
// code (rest.h) calls these; everything else about an object is the same
// for every kind.

#include <boost/json.hpp>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/server/api/validation.h"

namespace berth::controlplane::api {

struct TableColumn {
  std::string name;  // "Status"
  std::string type;  // "string", "integer", "date"
  std::string format;
  std::string description;
  int priority = 0;  // 1: only with -o wide
};

class Kind {
 public:
  enum class NameRule { kSubdomain, kLabel, kPathSegment };
  virtual ~Kind() = default;

  virtual NameRule name_rule() const { return NameRule::kSubdomain; }
  // metadata.generation counts spec changes.
  virtual bool tracks_generation() const { return false; }
  // Upstream's SetDefaults_<Kind> for the fields users touch.
  virtual void Default(boost::json::object& /*obj*/) const {}
  // On create, after defaulting: reset what a client may not set.
  virtual void PrepareForCreate(boost::json::object& /*obj*/) const {}
  // `old` is null on create.
  virtual void Validate(const boost::json::object& /*obj*/, const boost::json::object* /*old*/,
                        FieldErrors& /*errors*/) const {}
  // A field selector's value for `obj`; nullopt: the kind has no such
  // field label. metadata.name and metadata.namespace are answered here.
  virtual std::optional<std::string> Field(const boost::json::object& obj,
                                           std::string_view field) const;
  // A kind stored in another version's shape (events.k8s.io/v1 Events
  // live as core/v1 Events, as upstream shares their storage): to and from
  // the stored form.
  virtual void ToStorage(boost::json::object& /*obj*/) const {}
  virtual void FromStorage(boost::json::object& /*obj*/) const {}
  // Table columns (Name first for most kinds) and a row's cells.
  virtual std::vector<TableColumn> Columns() const;
  virtual boost::json::array Cells(const boost::json::object& obj, time_t now) const;
};

const Kind& GenericKind();
// Generic, but any name that is a valid path segment: upstream holds RBAC
// objects (system:node) and CertificateSigningRequests (the kubelet's
// node-csr-<base64url>) to no other name rule.
const Kind& PathSegmentNamedKind();
const Kind& NamespaceKind();
const Kind& PodKind();
const Kind& NodeKind();
const Kind& ServiceKind();
const Kind& EventKind();
const Kind& EventsV1Kind();  // events.k8s.io/v1, stored as core/v1
const Kind& DeploymentKind();
const Kind& ReplicaSetKind();
const Kind& StatefulSetKind();
const Kind& DaemonSetKind();
const Kind& JobKind();
const Kind& ConfigMapKind();
const Kind& SecretKind();

// A pod spec's defaults and validation, for pods and pod templates.
void DefaultPodSpec(boost::json::object& spec);
void ValidatePodSpec(const boost::json::object& spec, const std::string& path, FieldErrors& errors);

// Shared by the kinds' files.
TableColumn NameColumn();
TableColumn AgeColumn();
std::string NameOf(const boost::json::object& obj);
// kubectl's age: "5s", "3m20s", "4h", "2d3h", "3y".
std::string HumanDuration(int64_t seconds);
// The age of an object created at an RFC 3339 time ("<unknown>" when unset).
std::string Age(const boost::json::object& obj, time_t now);
time_t ParseRfc3339(std::string_view text);  // -1 when not one
// obj[a][b]... or null when any step is missing or not an object.
const boost::json::value* Lookup(const boost::json::object& obj,
                                 std::initializer_list<std::string_view> path);
std::string LookupString(const boost::json::object& obj,
                         std::initializer_list<std::string_view> path);
int64_t LookupInt(const boost::json::object& obj, std::initializer_list<std::string_view> path);
// obj[key] as an object, made (replacing a non-object) when missing.
boost::json::object& Child(boost::json::object& obj, std::string_view key);
// Sets obj[key] = value when the key is missing or null.
void SetDefault(boost::json::object& obj, std::string_view key, boost::json::value value);

}  // namespace berth::controlplane::api
