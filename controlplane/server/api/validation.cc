#include "controlplane/server/api/validation.h"

#include <cctype>

namespace berth::controlplane::api {
namespace {

bool IsLowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool IsAlnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

bool IsDns1123Label(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back())) return false;
  for (char c : s)
    if (!IsLowerAlnum(c) && c != '-') return false;
  return true;
}

bool IsDns1123Subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view part = s.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (part.empty() || !IsLowerAlnum(part.front()) || !IsLowerAlnum(part.back())) return false;
    for (char c : part)
      if (!IsLowerAlnum(c) && c != '-') return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// Label value / name part: [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, at most 63.
bool IsQualifiedPart(std::string_view s) {
  if (s.empty() || s.size() > 63 || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s)
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

std::string Quote(const boost::json::value& v) {
  return boost::json::serialize(v);
}

}  // namespace

void FieldErrors::Required(std::string field, std::string_view detail) {
  std::string message = "Required value";
  if (!detail.empty()) message += ": " + std::string(detail);
  causes_.push_back({"FieldValueRequired", std::move(message), std::move(field)});
}

void FieldErrors::Invalid(std::string field, const boost::json::value& value,
                          std::string_view detail) {
  std::string message = "Invalid value: " + Quote(value);
  if (!detail.empty()) message += ": " + std::string(detail);
  causes_.push_back({"FieldValueInvalid", std::move(message), std::move(field)});
}

void FieldErrors::Forbidden(std::string field, std::string_view detail) {
  causes_.push_back({"FieldValueForbidden", "Forbidden: " + std::string(detail), std::move(field)});
}

void FieldErrors::NotSupported(std::string field, const boost::json::value& value,
                               const std::vector<std::string>& supported) {
  std::string message = "Unsupported value: " + Quote(value);
  if (!supported.empty()) {
    message += ": supported values: ";
    for (size_t i = 0; i < supported.size(); ++i) {
      if (i > 0) message += ", ";
      message += "\"" + supported[i] + "\"";
    }
  }
  causes_.push_back({"FieldValueNotSupported", std::move(message), std::move(field)});
}

void FieldErrors::Duplicate(std::string field, const boost::json::value& value) {
  causes_.push_back({"FieldValueDuplicate", "Duplicate value: " + Quote(value), std::move(field)});
}

void FieldErrors::Immutable(std::string field, const boost::json::value* now,
                            const boost::json::value* old) {
  boost::json::value none;
  const boost::json::value& a = now != nullptr ? *now : none;
  const boost::json::value& b = old != nullptr ? *old : none;
  if (a == b) return;
  Invalid(std::move(field), a, "field is immutable");
}

void FieldErrors::TooLong(std::string field, size_t max_bytes) {
  causes_.push_back({"FieldValueTooLong",
                     "Too long: must have at most " + std::to_string(max_bytes) + " bytes",
                     std::move(field)});
}

ApiStatus InvalidStatus(const std::string& group, const std::string& kind, const std::string& name,
                        const std::vector<StatusCause>& causes) {
  std::string list;
  for (size_t i = 0; i < causes.size(); ++i) {
    if (i > 0) list += ", ";
    list += causes[i].field + ": " + causes[i].message;
  }
  if (causes.size() > 1) list = "[" + list + "]";
  ApiStatus s;
  s.code = 422;
  s.reason = "Invalid";
  s.message = kind + " \"" + name + "\" is invalid: " + list;
  s.name = name;
  s.group = group;
  s.kind = kind;
  s.causes = causes;
  return s;
}

std::string Dns1123SubdomainError(std::string_view value) {
  if (IsDns1123Subdomain(value)) return "";
  if (value.size() > 253) return "must be no more than 253 characters";
  return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
         "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
         "regex used for validation is "
         "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
}

std::string Dns1123LabelError(std::string_view value) {
  if (IsDns1123Label(value)) return "";
  if (value.size() > 63) return "must be no more than 63 characters";
  return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
         "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
         "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
}

std::string PathSegmentNameError(std::string_view value) {
  if (value == "." || value == "..") return "may not be '" + std::string(value) + "'";
  if (value.find('/') != std::string_view::npos) return "may not contain '/'";
  if (value.find('%') != std::string_view::npos) return "may not contain '%'";
  return "";
}

std::string QualifiedNameError(std::string_view value) {
  std::string_view name = value;
  size_t slash = value.find('/');
  if (slash != std::string_view::npos) {
    std::string_view prefix = value.substr(0, slash);
    name = value.substr(slash + 1);
    if (prefix.empty()) return "prefix part must be non-empty";
    if (!IsDns1123Subdomain(prefix)) return "prefix part " + Dns1123SubdomainError(prefix);
  }
  if (name.empty()) return "name part must be non-empty";
  if (name.size() > 63) return "name part must be no more than 63 characters";
  if (!IsQualifiedPart(name)) {
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start "
           "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', "
           "regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
  }
  return "";
}

std::string LabelValueError(std::string_view value) {
  if (value.empty() || IsQualifiedPart(value)) return "";
  if (value.size() > 63) return "must be no more than 63 characters";
  return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
         "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
         "'my_value',  or '12345', regex used for validation is "
         "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
}

void ValidateLabelsAndAnnotations(const boost::json::object& metadata, const std::string& path,
                                  FieldErrors& errors) {
  if (const boost::json::value* labels = metadata.if_contains("labels")) {
    if (!labels->is_object() && !labels->is_null()) {
      errors.Invalid(path + ".labels", *labels, "must be an object of strings");
    } else if (labels->is_object()) {
      for (const auto& [key, value] : labels->as_object()) {
        std::string field = path + ".labels";
        if (std::string e = QualifiedNameError(key); !e.empty()) {
          errors.Invalid(field, boost::json::string(key), e);
        }
        if (!value.is_string()) {
          errors.Invalid(field, value, "label values must be strings");
        } else if (std::string e = LabelValueError(value.as_string()); !e.empty()) {
          errors.Invalid(field, value, e);
        }
      }
    }
  }
  if (const boost::json::value* annotations = metadata.if_contains("annotations")) {
    if (annotations->is_object()) {
      size_t total = 0;
      for (const auto& [key, value] : annotations->as_object()) {
        if (std::string e = QualifiedNameError(key); !e.empty()) {
          errors.Invalid(path + ".annotations", boost::json::string(key), e);
        }
        if (!value.is_string()) {
          errors.Invalid(path + ".annotations", value, "annotation values must be strings");
        } else {
          total += key.size() + value.as_string().size();
        }
      }
      constexpr size_t kMaxAnnotationBytes = size_t{256} * 1024;
      if (total > kMaxAnnotationBytes) errors.TooLong(path + ".annotations", kMaxAnnotationBytes);
    } else if (!annotations->is_null()) {
      errors.Invalid(path + ".annotations", *annotations, "must be an object of strings");
    }
  }
}

}  // namespace berth::controlplane::api
