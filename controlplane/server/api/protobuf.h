#pragma once
// Kubernetes' protobuf encoding (application/vnd.kubernetes.protobuf) of
// request bodies, read into the JSON the rest of the server works on.
// kubectl's typed clients (create secret, create token, auth can-i, ...)
// send it. A body is the magic "k8s\0" and a runtime.Unknown wrapping the
// apiVersion, kind and the object's own bytes; the object is decoded by
// the schema of proto_schema.h. A kind or a field the schema lacks is an
// error naming it: nothing is dropped silently.

#include <boost/json.hpp>
#include <string_view>

#include "common/error.h"

namespace berth::controlplane::api {

inline constexpr char kProtobufContentType[] = "application/vnd.kubernetes.protobuf";

// kUnimplemented: a kind or field this server cannot read from protobuf;
// kInvalidArgument: malformed bytes.
Result<boost::json::object> DecodeProtobufObject(std::string_view body);

}  // namespace berth::controlplane::api
