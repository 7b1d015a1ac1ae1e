#pragma once
// Field errors as kube-apiserver words them ("spec.containers[0].image:
// Required value", "metadata.name: Invalid value: \"A\": a lowercase RFC
// 1123 subdomain must consist of ..."), and the name and label rules
// every kind shares.

#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/server/api/status.h"

namespace berth::controlplane::api {

class FieldErrors {
 public:
  void Required(std::string field, std::string_view detail = "");
  void Invalid(std::string field, const boost::json::value& value, std::string_view detail);
  void Forbidden(std::string field, std::string_view detail);
  void NotSupported(std::string field, const boost::json::value& value,
                    const std::vector<std::string>& supported);
  void Duplicate(std::string field, const boost::json::value& value);
  void TooLong(std::string field, size_t max_bytes);
  // "field is immutable" unless `old` equals `now`.
  void Immutable(std::string field, const boost::json::value* now, const boost::json::value* old);

  bool empty() const { return causes_.empty(); }
  const std::vector<StatusCause>& causes() const { return causes_; }

 private:
  std::vector<StatusCause> causes_;
};

// The 422 for `kind` `name` with these causes: `Pod "x" is invalid: ...`.
ApiStatus InvalidStatus(const std::string& group, const std::string& kind, const std::string& name,
                        const std::vector<StatusCause>& causes);

// "" when valid, else upstream's message.
std::string Dns1123SubdomainError(std::string_view value);
std::string Dns1123LabelError(std::string_view value);
// A name that is only a path segment (RBAC objects): not "." or "..", no '/' or '%'.
std::string PathSegmentNameError(std::string_view value);
// Label keys (qualified names with an optional DNS prefix) and values.
std::string QualifiedNameError(std::string_view value);
std::string LabelValueError(std::string_view value);

// metadata.labels and metadata.annotations; `path` is "metadata".
void ValidateLabelsAndAnnotations(const boost::json::object& metadata, const std::string& path,
                                  FieldErrors& errors);

}  // namespace berth::controlplane::api
