#include "controlplane/server/api/openapi.h"

#include <boost/json.hpp>
#include <cstdint>
#include <string_view>

#include "controlplane/server/api/resources.h"
#include "generated/version.h"

namespace berth::controlplane::api {
namespace {

namespace bj = boost::json;

std::string PathOf(const ResourceType& t) {
  return t.group.empty() ? "api/" + t.version : "apis/" + t.group + "/" + t.version;
}

bj::object QueryParam(const char* name) {
  return bj::object{{"name", name}, {"in", "query"}, {"schema", bj::object{{"type", "string"}}}};
}

bj::object Operation(const ResourceType& t, const char* verb) {
  bj::object op{{"operationId", std::string(verb) + t.kind},
                {"x-kubernetes-action", verb},
                {"x-kubernetes-group-version-kind",
                 bj::object{{"group", t.group}, {"version", t.version}, {"kind", t.kind}}},
                {"parameters", bj::array{QueryParam("dryRun"), QueryParam("fieldManager"),
                                         QueryParam("fieldValidation")}},
                {"responses", bj::object{{"200", bj::object{{"description", "OK"}}}}}};
  return op;
}

// Protocol buffers' wire format, enough to write a message of strings and
// nested messages.
class ProtoWriter {
 public:
  ProtoWriter& String(int field, std::string_view value) {
    Tag(field, 2);
    Varint(value.size());
    out_.append(value);
    return *this;
  }
  ProtoWriter& Message(int field, const ProtoWriter& message) {
    return String(field, message.out_);
  }
  const std::string& bytes() const { return out_; }

 private:
  void Tag(int field, int wire_type) { Varint(static_cast<uint64_t>(field) << 3 | wire_type); }
  void Varint(uint64_t v) {
    while (v >= 0x80) {
      out_ += static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    out_ += static_cast<char>(v);
  }
  std::string out_;
};

// An openapi.v2.Operation for PATCH of `t`: its consumes, the
// fieldValidation query parameter, a 200 response and the
// x-kubernetes-group-version-kind extension.
ProtoWriter PatchOperationV2(const ResourceType& t) {
  ProtoWriter op;
  op.String(5, "patch" + t.kind);  // operation_id
  for (const char* type : {"application/json-patch+json", "application/merge-patch+json",
                           "application/strategic-merge-patch+json"}) {
    op.String(7, type);  // consumes
  }
  for (const char* name : {"dryRun", "fieldManager", "fieldValidation"}) {
    ProtoWriter query;
    query.String(2, "query").String(4, name).String(6, "string");  // in, name, type
    ProtoWriter non_body;
    non_body.Message(3, query);  // query_parameter_sub_schema
    ProtoWriter parameter;
    parameter.Message(2, non_body);  // non_body_parameter
    ProtoWriter item;
    item.Message(1, parameter);  // ParametersItem.parameter
    op.Message(8, item);
  }
  ProtoWriter response;
  response.String(1, "OK");
  ProtoWriter response_value;
  response_value.Message(1, response);
  ProtoWriter named_response;
  named_response.String(1, "200").Message(2, response_value);
  ProtoWriter responses;
  responses.Message(1, named_response);
  op.Message(9, responses);
  ProtoWriter any;
  any.String(2, "group: \"" + t.group + "\"\nkind: " + t.kind + "\nversion: " + t.version + "\n");
  ProtoWriter extension;
  extension.String(1, "x-kubernetes-group-version-kind").Message(2, any);
  op.Message(13, extension);  // vendor_extension
  return op;
}

}  // namespace

std::string OpenApiV2Protobuf() {
  ProtoWriter paths;
  for (const ResourceType& t : AllResources()) {
    std::string path = "/" + PathOf(t) + (t.namespaced ? "/namespaces/{namespace}/" : "/") +
                       t.resource + "/{name}";
    ProtoWriter item;
    item.Message(8, PatchOperationV2(t));  // PathItem.patch
    ProtoWriter named;
    named.String(1, path).Message(2, item);
    paths.Message(2, named);  // Paths.path
  }
  ProtoWriter info;
  info.String(1, "Kubernetes").String(2, "v1.33.0");
  ProtoWriter doc;
  doc.String(1, "2.0").Message(2, info).Message(8, paths);
  return doc.bytes();
}

std::string OpenApiV3Index() {
  bj::object paths;
  for (const ResourceType& t : AllResources()) {
    std::string path = PathOf(t);
    if (paths.contains(path)) continue;
    paths[path] = bj::object{
        {"serverRelativeURL", "/openapi/v3/" + path + "?hash=" + std::string(BERTH_GIT_COMMIT)}};
  }
  return bj::serialize(bj::object{{"paths", std::move(paths)}});
}

std::optional<std::string> OpenApiV3Document(const std::string& group_version_path) {
  bj::object paths;
  for (const ResourceType& t : AllResources()) {
    if (PathOf(t) != group_version_path) continue;
    std::string base =
        "/" + PathOf(t) + (t.namespaced ? "/namespaces/{namespace}/" : "/") + t.resource;
    paths[base] = bj::object{{"post", Operation(t, "post")}};
    paths[base + "/{name}"] =
        bj::object{{"put", Operation(t, "put")}, {"patch", Operation(t, "patch")}};
  }
  if (paths.empty()) return std::nullopt;
  return bj::serialize(
      bj::object{{"openapi", "3.0.0"},
                 {"info", bj::object{{"title", "Kubernetes"}, {"version", "v1.33.0"}}},
                 {"paths", std::move(paths)},
                 {"components", bj::object{{"schemas", bj::object()}}}});
}

}  // namespace berth::controlplane::api
