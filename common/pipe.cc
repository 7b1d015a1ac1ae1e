#include "common/pipe.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>

namespace berth {

Result<Pipe> MakePipe(std::string_view what) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Error::Sys("pipe2", std::string(what));
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace berth
