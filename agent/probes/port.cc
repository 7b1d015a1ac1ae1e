#include "agent/probes/port.h"

#include <string>

#include "agent/container/object_fields.h"
#include "common/strings.h"

namespace berth::agent {

Result<int> ResolveContainerPort(const boost::json::value* port,
                                 const boost::json::object* container) {
  int64_t number = -1;
  if (port != nullptr && (port->is_int64() || port->is_uint64())) {
    number = port->is_int64() ? port->get_int64() : static_cast<int64_t>(port->get_uint64());
  } else if (port != nullptr && port->is_string()) {
    std::string name(port->get_string());
    bool found = false;
    if (const boost::json::array* ports = fields::ArrayAt(container, "ports")) {
      for (const boost::json::value& p : *ports) {
        if (fields::StringAt(p.if_object(), "name") == name) {
          number = fields::IntAt(p.if_object(), "containerPort").value_or(0);
          found = true;
          break;
        }
      }
    }
    if (!found) {
      // Last ditch: a number stored as a string.
      Result<int64_t> parsed = ParseInt<int64_t>(name, "port");
      if (!parsed.ok()) {
        return Error(Errc::kInvalidArgument,
                     "strconv.Atoi: parsing " + JsonQuote(name) + ": invalid syntax");
      }
      number = *parsed;
    }
  } else {
    return Error(Errc::kInvalidArgument,
                 "intOrString had no kind: " + (port ? boost::json::serialize(*port) : "null"));
  }
  if (number > 0 && number < 65536) return static_cast<int>(number);
  return Error(Errc::kInvalidArgument, "invalid port number: " + std::to_string(number));
}

}  // namespace berth::agent
