#pragma once
// pipe2(O_CLOEXEC) as two owned ends.

#include <string_view>

#include "common/error.h"
#include "common/fd.h"

namespace berth {

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

// `what` names the pipe's use in the error.
Result<Pipe> MakePipe(std::string_view what);

}  // namespace berth
