#include "controlplane/server/api/protobuf.h"

#include <cstdint>
#include <cstdio>
#include <cstring>

#include "common/base64.h"
#include "common/time.h"
#include "controlplane/server/api/proto_schema.h"

namespace berth::controlplane::api {
namespace {

namespace bj = boost::json;
using proto::Field;
using proto::Message;
using proto::Type;

Error Malformed(const std::string& what) {
  return Error(Errc::kInvalidArgument, "protobuf body: " + what);
}

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool done() const { return pos_ >= data_.size(); }

  Result<uint64_t> Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) return Malformed("truncated varint");
      auto byte = static_cast<uint8_t>(data_[pos_++]);
      v |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return v;
    }
    return Malformed("varint too long");
  }
  Result<std::string_view> Bytes() {
    uint64_t n = BERTH_TRY(Varint());
    if (n > data_.size() - pos_) return Malformed("truncated field");
    std::string_view out = data_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  Result<uint64_t> Fixed(size_t size) {
    if (size > data_.size() - pos_) return Malformed("truncated fixed field");
    uint64_t v = 0;
    std::memcpy(&v, data_.data() + pos_, size);
    pos_ += size;
    return v;
  }
  Status Skip(int wire_type) {
    switch (wire_type) {
      case 0:
        return Varint().ok() ? Ok() : Malformed("truncated varint");
      case 1:
        return Fixed(8).ok() ? Ok() : Malformed("truncated fixed64");
      case 2:
        return Bytes().ok() ? Ok() : Malformed("truncated bytes");
      case 5:
        return Fixed(4).ok() ? Ok() : Malformed("truncated fixed32");
      default:
        return Malformed("unsupported wire type " + std::to_string(wire_type));
    }
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

Result<bj::object> DecodeMessage(std::string_view bytes, const Message& schema);

// metav1.Time and MicroTime: seconds=1, nanos=2; a zero time is null.
Result<bj::value> DecodeTime(std::string_view bytes, bool micro) {
  Reader r(bytes);
  int64_t seconds = 0, nanos = 0;
  while (!r.done()) {
    uint64_t tag = BERTH_TRY(r.Varint());
    if ((tag & 7) != 0) {
      BERTH_TRY(r.Skip(static_cast<int>(tag & 7)));
      continue;
    }
    uint64_t v = BERTH_TRY(r.Varint());
    if ((tag >> 3) == 1) seconds = static_cast<int64_t>(v);
    if ((tag >> 3) == 2) nanos = static_cast<int64_t>(v);
  }
  if (seconds == 0 && nanos == 0) return bj::value(nullptr);
  std::string text = FormatRfc3339(static_cast<time_t>(seconds));
  if (micro) {
    char fraction[8];
    std::snprintf(fraction, sizeof fraction, ".%06d", static_cast<int>(nanos / 1000));
    text.insert(text.size() - 1, fraction);
  }
  return bj::value(bj::string(text));
}

// intstr.IntOrString: type=1 (0 int, 1 string), intVal=2, strVal=3.
Result<bj::value> DecodeIntOrString(std::string_view bytes) {
  Reader r(bytes);
  int64_t type = 0, int_val = 0;
  std::string str_val;
  while (!r.done()) {
    uint64_t tag = BERTH_TRY(r.Varint());
    int number = static_cast<int>(tag >> 3);
    if (number == 3 && (tag & 7) == 2) {
      str_val = std::string(BERTH_TRY(r.Bytes()));
    } else if ((tag & 7) == 0) {
      uint64_t v = BERTH_TRY(r.Varint());
      if (number == 1) type = static_cast<int64_t>(v);
      if (number == 2) int_val = static_cast<int32_t>(v);
    } else {
      BERTH_TRY(r.Skip(static_cast<int>(tag & 7)));
    }
  }
  if (type == 1) return bj::value(bj::string(str_val));
  return bj::value(int_val);
}

// The bytes of field 1 of a message whose only field that matters is 1:
// resource.Quantity's string, RawExtension's and FieldsV1's raw JSON.
Result<std::string_view> FieldOne(std::string_view bytes) {
  Reader r(bytes);
  std::string_view out;
  while (!r.done()) {
    uint64_t tag = BERTH_TRY(r.Varint());
    if ((tag >> 3) == 1 && (tag & 7) == 2) {
      out = BERTH_TRY(r.Bytes());
    } else {
      BERTH_TRY(r.Skip(static_cast<int>(tag & 7)));
    }
  }
  return out;
}

Result<bj::value> DecodeRawJson(std::string_view bytes) {
  std::string_view raw = BERTH_TRY(FieldOne(bytes));
  if (raw.empty()) return bj::value(nullptr);
  boost::system::error_code ec;
  bj::value v = bj::parse(raw, ec);
  if (ec) return Malformed("embedded JSON: " + ec.message());
  return v;
}

// One field's value from its wire form.
Result<bj::value> DecodeValue(const Field& f, Type type, const Message* message, int wire_type,
                              Reader& r, const Message& parent) {
  auto wrong = [&] {
    return Malformed(std::string(parent.name) + "." + std::string(f.json) +
                     ": unexpected wire type " + std::to_string(wire_type));
  };
  switch (type) {
    case Type::kString:
    case Type::kBytes: {
      if (wire_type != 2) return wrong();
      std::string_view b = BERTH_TRY(r.Bytes());
      if (type == Type::kBytes) return bj::value(bj::string(Base64Encode(b)));
      return bj::value(bj::string(b));
    }
    case Type::kInt32:
    case Type::kInt64:
    case Type::kBool: {
      if (wire_type != 0) return wrong();
      uint64_t v = BERTH_TRY(r.Varint());
      if (type == Type::kBool) return bj::value(v != 0);
      if (type == Type::kInt32) return bj::value(static_cast<int64_t>(static_cast<int32_t>(v)));
      return bj::value(static_cast<int64_t>(v));
    }
    case Type::kDouble: {
      if (wire_type != 1) return wrong();
      uint64_t bits = BERTH_TRY(r.Fixed(8));
      double d = 0;
      std::memcpy(&d, &bits, sizeof d);
      return bj::value(d);
    }
    case Type::kMessage:
    case Type::kTime:
    case Type::kMicroTime:
    case Type::kIntOrString:
    case Type::kQuantity:
    case Type::kRawJson: {
      if (wire_type != 2) return wrong();
      std::string_view b = BERTH_TRY(r.Bytes());
      if (type == Type::kTime || type == Type::kMicroTime) {
        return DecodeTime(b, type == Type::kMicroTime);
      }
      if (type == Type::kIntOrString) return DecodeIntOrString(b);
      if (type == Type::kQuantity) return bj::value(bj::string(BERTH_TRY(FieldOne(b))));
      if (type == Type::kRawJson) return DecodeRawJson(b);
      bj::object decoded = BERTH_TRY(DecodeMessage(b, *message));
      if (proto::IsExtraValue(message)) {
        bj::value* items = decoded.if_contains("items");
        return items != nullptr ? *items : bj::value(bj::array());
      }
      return bj::value(std::move(decoded));
    }
  }
  return wrong();
}

bool IsZero(const bj::value& v) {
  if (v.is_string()) return v.as_string().empty();
  if (v.is_int64()) return v.as_int64() == 0;
  if (v.is_bool()) return !v.as_bool();
  if (v.is_double()) return v.as_double() == 0;
  return v.is_null();
}

// A map entry: key=1 (string), value=2.
Status DecodeMapEntry(const Field& f, std::string_view bytes, bj::object& into,
                      const Message& parent) {
  Reader r(bytes);
  std::string key;
  bj::value value;
  if (f.type == Type::kString) value = bj::string();
  while (!r.done()) {
    uint64_t tag = BERTH_TRY(r.Varint());
    int number = static_cast<int>(tag >> 3);
    int wire = static_cast<int>(tag & 7);
    if (number == 1 && wire == 2) {
      key = std::string(BERTH_TRY(r.Bytes()));
    } else if (number == 2) {
      value = BERTH_TRY(DecodeValue(f, f.type, f.message, wire, r, parent));
    } else {
      BERTH_TRY(r.Skip(wire));
    }
  }
  into[key] = std::move(value);
  return Ok();
}

Result<bj::object> DecodeMessage(std::string_view bytes, const Message& schema) {
  Reader r(bytes);
  bj::object out;
  while (!r.done()) {
    uint64_t tag = BERTH_TRY(r.Varint());
    int number = static_cast<int>(tag >> 3);
    int wire = static_cast<int>(tag & 7);
    const Field* f = schema.Find(number);
    if (f == nullptr) {
      return Error(Errc::kUnimplemented, "protobuf field " + std::to_string(number) + " of " +
                                             std::string(schema.name) +
                                             " is not known to this server; send JSON instead");
    }
    if (f->map) {
      if (wire != 2) return Malformed(std::string(f->json) + ": a map entry must be bytes");
      std::string_view entry = BERTH_TRY(r.Bytes());
      bj::value& m = out[f->json];
      if (!m.is_object()) m = bj::object();
      BERTH_TRY(DecodeMapEntry(*f, entry, m.as_object(), schema));
      continue;
    }
    if (f->repeated && wire == 2 &&
        (f->type == Type::kInt32 || f->type == Type::kInt64 || f->type == Type::kBool)) {
      // Packed scalars.
      Reader packed(BERTH_TRY(r.Bytes()));
      bj::value& list = out[f->json];
      if (!list.is_array()) list = bj::array();
      while (!packed.done())
        list.as_array().push_back(
            BERTH_TRY(DecodeValue(*f, f->type, f->message, 0, packed, schema)));
      continue;
    }
    bj::value v = BERTH_TRY(DecodeValue(*f, f->type, f->message, wire, r, schema));
    if (f->inline_ && v.is_object()) {
      for (auto& member : v.as_object())
        out[member.key()] = std::move(member.value());
      continue;
    }
    if (f->repeated) {
      bj::value& list = out[f->json];
      if (!list.is_array()) list = bj::array();
      list.as_array().push_back(std::move(v));
    } else if (f->presence || !IsZero(v)) {
      out[f->json] = std::move(v);
    }
  }
  return out;
}

}  // namespace

Result<bj::object> DecodeProtobufObject(std::string_view body) {
  static constexpr std::string_view kMagic("k8s\0", 4);
  if (!body.starts_with(kMagic)) return Malformed("missing the k8s\\0 prefix");
  Reader r(body.substr(kMagic.size()));
  std::string api_version, kind;
  std::string_view raw;
  while (!r.done()) {
    uint64_t tag = BERTH_TRY(r.Varint());
    int number = static_cast<int>(tag >> 3);
    int wire = static_cast<int>(tag & 7);
    if (number == 1 && wire == 2) {  // typeMeta
      Reader meta(BERTH_TRY(r.Bytes()));
      while (!meta.done()) {
        uint64_t t = BERTH_TRY(meta.Varint());
        if ((t & 7) != 2) {
          BERTH_TRY(meta.Skip(static_cast<int>(t & 7)));
          continue;
        }
        std::string_view s = BERTH_TRY(meta.Bytes());
        if ((t >> 3) == 1) api_version = std::string(s);
        if ((t >> 3) == 2) kind = std::string(s);
      }
    } else if (number == 2 && wire == 2) {  // raw
      raw = BERTH_TRY(r.Bytes());
    } else if ((number == 3 || number == 4) && wire == 2) {  // contentEncoding, contentType
      std::string_view s = BERTH_TRY(r.Bytes());
      if (!s.empty())
        return Malformed("content encoding `" + std::string(s) + "` is not supported");
    } else {
      BERTH_TRY(r.Skip(wire));
    }
  }
  const Message* schema = proto::FindKind(api_version, kind);
  if (schema == nullptr) {
    return Error(Errc::kUnimplemented, "this server reads " + kind + " (" + api_version +
                                           ") only as JSON or YAML, not protobuf");
  }
  bj::object obj = BERTH_TRY(DecodeMessage(raw, *schema));
  bj::object out{{"apiVersion", api_version}, {"kind", kind}};
  for (auto& member : obj)
    out[member.key()] = std::move(member.value());
  return out;
}

}  // namespace berth::controlplane::api
