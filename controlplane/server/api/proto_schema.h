#pragma once
// The protobuf schemas of the Kubernetes types berth server reads from
// protobuf bodies: field numbers and JSON names from upstream's
// generated.proto files (k8s.io/api, k8s.io/apimachinery), and the
// special JSON forms (metav1.Time as RFC 3339, IntOrString, Quantity,
// RawExtension, FieldsV1).

#include <string_view>
#include <vector>

namespace berth::controlplane::api::proto {

enum class Type {
  kString,
  kBytes,  // JSON: base64
  kInt32,
  kInt64,
  kBool,
  kDouble,
  kMessage,
  kTime,         // metav1.Time: RFC 3339, seconds
  kMicroTime,    // metav1.MicroTime: RFC 3339 with microseconds
  kIntOrString,  // intstr.IntOrString: a number or a string
  kQuantity,     // resource.Quantity: its string
  kRawJson,      // runtime.RawExtension / metav1.FieldsV1: raw JSON bytes
};

struct Message;

struct Field {
  int number;
  std::string_view json;
  Type type;
  const Message* message = nullptr;  // kMessage, and map values of message type
  bool repeated = false;
  // A map: key string; value `type` (and `message`).
  bool map = false;
  // A Go pointer field: present on the wire means set, even when zero
  // (replicas: 0). Other scalars at their zero value are omitted, as
  // `omitempty` JSON does.
  bool presence = false;
  // Go's `json:",inline"`: the message's fields sit in the parent object
  // (a Volume's source, a ConfigMapVolumeSource's name).
  bool inline_ = false;
};

struct Message {
  std::string_view name;
  std::vector<Field> fields;
  const Field* Find(int number) const {
    for (const Field& f : fields)
      if (f.number == number) return &f;
    return nullptr;
  }
};

// authentication/v1 ExtraValue: a message on the wire, a list of strings
// in JSON.
bool IsExtraValue(const Message* m);

// The schema of a top-level kind ("v1", "Secret"); null when unknown.
const Message* FindKind(std::string_view api_version, std::string_view kind);

}  // namespace berth::controlplane::api::proto
