#include "cmd/flags.h"

#include "common/strings.h"

namespace berth::cli {

void FlagSet::Add(const std::string& names, bool is_bool,
                  std::function<Status(const std::string&)> set, const std::string& help) {
  flags_.push_back({Split(names, ','), is_bool, std::move(set), help});
}

void FlagSet::String(const std::string& names, std::string* out, const std::string& help) {
  Add(
      names, false,
      [out](const std::string& v) {
        *out = v;
        return Ok();
      },
      help);
}

void FlagSet::StringList(const std::string& names, std::vector<std::string>* out,
                         const std::string& help) {
  Add(
      names, false,
      [out](const std::string& v) {
        out->push_back(v);
        return Ok();
      },
      help);
}

void FlagSet::Bool(const std::string& names, bool* out, const std::string& help) {
  Add(
      names, true,
      [out, names](const std::string& v) -> Status {
        if (v == "true" || v == "1" || v == "t" || v == "T" || v == "TRUE" || v == "True") {
          *out = true;
        } else if (v == "false" || v == "0" || v == "f" || v == "F" || v == "FALSE" ||
                   v == "False") {
          *out = false;
        } else {
          return Error(Errc::kInvalidArgument,
                       "invalid boolean value \"" + v + "\" for -" + Split(names, ',')[0]);
        }
        return Ok();
      },
      help);
}

void FlagSet::Int(const std::string& names, int* out, const std::string& help) {
  Add(
      names, false,
      [out, names](const std::string& v) -> Status {
        *out = BERTH_TRY(ParseInt<int>(v, "-" + Split(names, ',')[0]));
        return Ok();
      },
      help);
}

void FlagSet::Duration(const std::string& names, std::chrono::seconds* out,
                       const std::string& help) {
  Add(
      names, false,
      [out, names](const std::string& v) -> Status {
        std::string flag = "-" + Split(names, ',')[0];
        auto bad = [&] {
          return Error(Errc::kInvalidArgument,
                       flag + " `" + v + "`: want a duration such as 5m0s, 1h or 90s");
        };
        if (v == "0") {
          *out = std::chrono::seconds(0);
          return Ok();
        }
        int64_t total = 0;
        size_t i = 0;
        while (i < v.size()) {
          size_t start = i;
          while (i < v.size() && v[i] >= '0' && v[i] <= '9')
            ++i;
          if (i == start || i == v.size()) return bad();
          int64_t n = std::stoll(v.substr(start, i - start));
          switch (v[i++]) {
            case 'h':
              total += n * 3600;
              break;
            case 'm':
              total += n * 60;
              break;
            case 's':
              total += n;
              break;
            default:
              return bad();
          }
        }
        if (v.empty()) return bad();
        *out = std::chrono::seconds(total);
        return Ok();
      },
      help);
}

const FlagSet::Flag* FlagSet::Find(const std::string& name) const {
  for (const Flag& f : flags_) {
    for (const std::string& n : f.names) {
      if (n == name) return &f;
    }
  }
  return nullptr;
}

Result<std::vector<std::string>> FlagSet::Parse(const std::vector<std::string>& args) {
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') break;
    std::string body = arg.substr(arg[1] == '-' ? 2 : 1);
    std::string name = body, value;
    bool has_value = false;
    if (size_t eq = body.find('='); eq != std::string::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
      has_value = true;
    }
    const Flag* flag = Find(name);
    if (flag == nullptr) {
      return Error(Errc::kInvalidArgument, command_ + ": flag provided but not defined: -" + name);
    }
    if (!has_value) {
      if (flag->is_bool) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return Error(Errc::kInvalidArgument, command_ + ": flag needs an argument: -" + name);
      }
    }
    BERTH_TRY(flag->set(value));
  }
  return std::vector<std::string>(args.begin() + static_cast<long>(i), args.end());
}

std::string FlagSet::Usage() const {
  std::string out;
  for (const Flag& f : flags_) {
    std::string names;
    for (const std::string& n : f.names)
      names += (names.empty() ? "" : ", ") + std::string(n.size() == 1 ? "-" : "--") + n;
    out += "   " + names + (f.is_bool ? "" : " value") + "\t" + f.help + "\n";
  }
  return out;
}

}  // namespace berth::cli
