#pragma once
// The subset of TOML 1.0 that containerd's hosts.toml uses: comments,
// `key = value` with bare, quoted or dotted keys, [table] headers with
// quoted keys (`[host."http://127.0.0.1:5000".header]`), basic and literal
// strings, booleans, integers, arrays (nested, multi-line, trailing comma)
// and inline tables. Multi-line strings, floats, dates and arrays of tables
// are refused with an error naming the line. Tables keep their keys in file
// order, which is the order mirrors are tried in.
//
// Errors read "<file>:<line>: <what>".

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace berth::image::registry::toml {

struct Value;

struct Table {
  std::vector<std::string> keys;  // in file order
  std::vector<Value> values;      // values[i] belongs to keys[i]
  bool header_defined = false;    // by a [header] (redefinition is an error)

  const Value* Find(std::string_view key) const;
  size_t size() const { return keys.size(); }
};

struct Value {
  enum class Kind { kString, kBool, kInteger, kArray, kTable };
  Kind kind = Kind::kString;
  std::string string;
  bool boolean = false;
  int64_t integer = 0;
  std::vector<Value> array;
  Table table;
  int line = 0;  // where the value (or the table's header) is

  const char* KindName() const;
};

Result<Table> Parse(std::string_view text, std::string_view file);

}  // namespace berth::image::registry::toml
