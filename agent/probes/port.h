#pragma once
// A probe's or hook's port (an IntOrString) as a number: a number, the
// name of one of the container's ports, or a number written as a string
// (upstream pkg/probe ResolveContainerPort).

#include <boost/json.hpp>

#include "common/error.h"

namespace berth::agent {

Result<int> ResolveContainerPort(const boost::json::value* port,
                                 const boost::json::object* container);

}  // namespace berth::agent
