#include "runtime/image/registry/toml.h"

#include <cctype>

namespace berth::image::registry::toml {

const Value* Table::Find(std::string_view key) const {
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i] == key) return &values[i];
  }
  return nullptr;
}

const char* Value::KindName() const {
  switch (kind) {
    case Kind::kString:
      return "string";
    case Kind::kBool:
      return "boolean";
    case Kind::kInteger:
      return "integer";
    case Kind::kArray:
      return "array";
    case Kind::kTable:
      return "table";
  }
  return "value";
}

namespace {

bool IsBareKeyChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Parser {
 public:
  Parser(std::string_view text, std::string_view file) : s_(text), file_(file) {}

  Result<Table> Run() {
    Table root;
    Table* current = &root;
    while (true) {
      SkipBlank(/*newlines=*/true);
      if (AtEnd()) return root;
      if (Peek() == '[') {
        current = BERTH_TRY(Header(root));
      } else {
        BERTH_TRY(KeyValue(*current));
      }
      BERTH_TRY(EndOfLine());
    }
  }

 private:
  bool AtEnd() const { return pos_ >= s_.size(); }
  char Peek(size_t ahead = 0) const { return pos_ + ahead < s_.size() ? s_[pos_ + ahead] : '\0'; }
  char Next() {
    char c = s_[pos_++];
    if (c == '\n') ++line_;
    return c;
  }

  Error Fail(std::string_view what) const { return FailAt(line_, what); }
  Error FailAt(int line, std::string_view what) const {
    return Error(Errc::kInvalidArgument,
                 std::string(file_) + ":" + std::to_string(line) + ": " + std::string(what));
  }

  // Spaces, tabs and comments; with `newlines`, also line breaks.
  void SkipBlank(bool newlines) {
    while (!AtEnd()) {
      char c = Peek();
      if (c == ' ' || c == '\t' || c == '\r' || (newlines && c == '\n')) {
        Next();
      } else if (c == '#') {
        while (!AtEnd() && Peek() != '\n')
          Next();
      } else {
        return;
      }
    }
  }

  Status EndOfLine() {
    SkipBlank(false);
    if (AtEnd()) return Ok();
    if (Peek() != '\n') return Fail(std::string("unexpected '") + Peek() + "' after value");
    Next();
    return Ok();
  }

  Result<std::string> Key() {
    SkipBlank(false);
    if (Peek() == '"' || Peek() == '\'') {
      Result<std::string> k = String();
      if (!k.ok()) return std::move(k).error();
      return k;
    }
    std::string key;
    while (!AtEnd() && IsBareKeyChar(Peek()))
      key += Next();
    if (key.empty()) {
      return Fail(AtEnd() || Peek() == '\n'
                      ? std::string("expected a key")
                      : std::string("invalid character '") + Peek() + "' in key");
    }
    return key;
  }

  Result<std::vector<std::string>> DottedKey() {
    std::vector<std::string> parts;
    parts.push_back(BERTH_TRY(Key()));
    while (true) {
      SkipBlank(false);
      if (Peek() != '.') return parts;
      Next();
      parts.push_back(BERTH_TRY(Key()));
    }
  }

  Error NotATable(const std::string& key, const Value& v) const {
    return Fail("key \"" + key + "\" is not a table (" + v.KindName() + " at line " +
                std::to_string(v.line) + ")");
  }

  // Walks (creating implicit tables) to the table for `path`.
  Result<Table*> Descend(Table& from, const std::vector<std::string>& path, size_t count) {
    Table* t = &from;
    for (size_t i = 0; i < count; ++i) {
      Value* v = const_cast<Value*>(t->Find(path[i]));
      if (v == nullptr) {
        t->keys.push_back(path[i]);
        Value table;
        table.kind = Value::Kind::kTable;
        table.line = line_;
        t->values.push_back(std::move(table));
        v = &t->values.back();
      } else if (v->kind != Value::Kind::kTable) {
        return NotATable(path[i], *v);
      }
      t = &v->table;
    }
    return t;
  }

  Result<Table*> Header(Table& root) {
    Next();  // '['
    if (Peek() == '[') return Fail("arrays of tables ([[...]]) are not supported in hosts.toml");
    std::vector<std::string> path = BERTH_TRY(DottedKey());
    SkipBlank(false);
    if (Peek() != ']') return Fail("expected ']' to close the table header");
    Next();
    Table* parent = BERTH_TRY(Descend(root, path, path.size() - 1));
    Value* v = const_cast<Value*>(parent->Find(path.back()));
    if (v != nullptr && v->kind == Value::Kind::kTable && !v->table.header_defined) {
      v->table.header_defined = true;  // implicitly created before, now defined
      return &v->table;
    }
    if (v != nullptr && v->kind != Value::Kind::kTable) return NotATable(path.back(), *v);
    if (v != nullptr) return Fail("table [" + path.back() + "] defined twice");
    parent->keys.push_back(path.back());
    Value table;
    table.kind = Value::Kind::kTable;
    table.line = line_;
    table.table.header_defined = true;
    parent->values.push_back(std::move(table));
    return &parent->values.back().table;
  }

  Status KeyValue(Table& current) {
    int line = line_;
    std::vector<std::string> path = BERTH_TRY(DottedKey());
    SkipBlank(false);
    if (Peek() != '=') return Fail("expected '=' after key \"" + path.back() + "\"");
    Next();
    SkipBlank(false);
    Value value = BERTH_TRY(ParseValue());
    Table* t = BERTH_TRY(Descend(current, path, path.size() - 1));
    if (const Value* old = t->Find(path.back()); old != nullptr) {
      return FailAt(line, "duplicate key \"" + path.back() + "\" (first defined at line " +
                              std::to_string(old->line) + ")");
    }
    t->keys.push_back(path.back());
    t->values.push_back(std::move(value));
    return Ok();
  }

  Result<Value> ParseValue() {
    Value v;
    v.line = line_;
    char c = Peek();
    if (c == '"' || c == '\'') {
      v.kind = Value::Kind::kString;
      v.string = BERTH_TRY(String());
    } else if (c == '[') {
      v.kind = Value::Kind::kArray;
      v.array = BERTH_TRY(Array());
    } else if (c == '{') {
      v.kind = Value::Kind::kTable;
      v.table = BERTH_TRY(InlineTable());
    } else if (s_.substr(pos_, 4) == "true" && !IsBareKeyChar(Peek(4))) {
      pos_ += 4;
      v.kind = Value::Kind::kBool;
      v.boolean = true;
    } else if (s_.substr(pos_, 5) == "false" && !IsBareKeyChar(Peek(5))) {
      pos_ += 5;
      v.kind = Value::Kind::kBool;
    } else if (std::isdigit(static_cast<unsigned char>(c)) || c == '+' || c == '-') {
      v.kind = Value::Kind::kInteger;
      v.integer = BERTH_TRY(Integer());
    } else if (AtEnd() || c == '\n' || c == '#') {
      return Fail("expected a value");
    } else {
      return Fail(std::string("unsupported value starting with '") + c + "'");
    }
    return v;
  }

  Result<int64_t> Integer() {
    std::string digits;
    bool negative = false;
    if (Peek() == '+' || Peek() == '-') negative = Next() == '-';
    while (!AtEnd() && (std::isdigit(static_cast<unsigned char>(Peek())) || Peek() == '_')) {
      char c = Next();
      if (c != '_') digits += c;
    }
    if (!AtEnd() && (Peek() == '.' || Peek() == 'e' || Peek() == 'E' || Peek() == ':' ||
                     Peek() == '-' || Peek() == 'x' || Peek() == 'o' || Peek() == 'b')) {
      return Fail("only decimal integers are supported (no floats, dates or prefixes)");
    }
    if (digits.empty() || digits.size() > 18) return Fail("invalid integer");
    int64_t value = std::stoll(digits);
    return negative ? -value : value;
  }

  Result<std::string> String() {
    char quote = Next();
    if (Peek() == quote && Peek(1) == quote)
      return Fail("multi-line strings are not supported in hosts.toml");
    std::string out;
    while (true) {
      if (AtEnd() || Peek() == '\n') return Fail("unterminated string");
      char c = Next();
      if (c == quote) return out;
      if (c != '\\' || quote == '\'') {
        out += c;
        continue;
      }
      if (AtEnd()) return Fail("unterminated string");
      char e = Next();
      switch (e) {
        case 'b':
          out += '\b';
          break;
        case 't':
          out += '\t';
          break;
        case 'n':
          out += '\n';
          break;
        case 'f':
          out += '\f';
          break;
        case 'r':
          out += '\r';
          break;
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case 'u':
        case 'U': {
          size_t n = e == 'u' ? 4 : 8;
          uint32_t cp = 0;
          for (size_t i = 0; i < n; ++i) {
            char h = AtEnd() ? '\0' : Next();
            if (!std::isxdigit(static_cast<unsigned char>(h)))
              return Fail("invalid unicode escape in string");
            cp = cp * 16 + static_cast<uint32_t>(std::isdigit(static_cast<unsigned char>(h))
                                                     ? h - '0'
                                                     : std::tolower(h) - 'a' + 10);
          }
          if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return Fail("invalid unicode code point in string");
          AppendUtf8(out, cp);
          break;
        }
        default:
          return Fail(std::string("invalid escape '\\") + e + "' in string");
      }
    }
  }

  Result<std::vector<Value>> Array() {
    int open_line = line_;
    Next();  // '['
    std::vector<Value> items;
    while (true) {
      SkipBlank(true);
      if (AtEnd()) return FailAt(open_line, "unterminated array");
      if (Peek() == ']') {
        Next();
        return items;
      }
      items.push_back(BERTH_TRY(ParseValue()));
      SkipBlank(true);
      if (Peek() == ',') {
        Next();
      } else if (Peek() != ']') {
        return AtEnd() ? FailAt(open_line, "unterminated array")
                       : Fail("expected ',' or ']' in array");
      }
    }
  }

  Result<Table> InlineTable() {
    Next();  // '{'
    Table t;
    SkipBlank(false);
    if (Peek() == '}') {
      Next();
      return t;
    }
    while (true) {
      BERTH_TRY(KeyValue(t));
      SkipBlank(false);
      char c = AtEnd() ? '\0' : Next();
      if (c == '}') return t;
      if (c != ',') return Fail("expected ',' or '}' in inline table");
    }
  }

  std::string_view s_;
  std::string_view file_;
  size_t pos_ = 0;
  int line_ = 1;
};

}  // namespace

Result<Table> Parse(std::string_view text, std::string_view file) {
  return Parser(text, file).Run();
}

}  // namespace berth::image::registry::toml
