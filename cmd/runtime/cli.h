#pragma once
// `berth runtime` (and the binary installed as `berth-runc`): the runc
// command line, one file per verb. Each verb parses its flags and calls the
// runtime library; errors are reported the way runc reports them (a log
// line with level=error, plus the bare message on stderr when logging to a
// file), exit status 1.

#include <string>
#include <vector>

#include "cmd/flags.h"
#include "common/error.h"
#include "common/signals.h"
#include "runtime/oci/container.h"

namespace berth::cli::runtime {

namespace oci = ::berth::runtime::oci;
namespace security = ::berth::runtime::security;

using Args = std::vector<std::string>;

struct Context {
  oci::RuntimeOptions rt;
  bool log_to_file = false;
};

int RuntimeMain(const Args& args);

// Each returns the process exit status.
int Create(Context& ctx, const Args& args);
int Start(Context& ctx, const Args& args);
int Run(Context& ctx, const Args& args);
int State(Context& ctx, const Args& args);
int Kill(Context& ctx, const Args& args);
int Delete(Context& ctx, const Args& args);
int Exec(Context& ctx, const Args& args);
int List(Context& ctx, const Args& args);
int Ps(Context& ctx, const Args& args);
int Pause(Context& ctx, const Args& args);
int Resume(Context& ctx, const Args& args);
int Update(Context& ctx, const Args& args);
int Events(Context& ctx, const Args& args);
int Features(Context& ctx, const Args& args);
int Spec(Context& ctx, const Args& args);

// Logs `error` as runc does and returns `code`.
int Fail(const Context& ctx, const Error& error, int code = 1);
int Fail(const Context& ctx, const std::string& message, int code = 1);
// Exactly `n` positional arguments, the first being the container id.
Status ExpectArgs(const std::string& command, const Args& positional, size_t n,
                  const std::string& usage);
// Parses `args` with `flags` and returns the one positional argument, the
// container id.
Result<std::string> ParseContainerId(FlagSet& flags, const Args& args, const std::string& command,
                                     const std::string& usage = "<container-id>");
// Writes all of `text` to stdout.
void Print(const std::string& text);

// The config.json `spec` writes (runc's default spec).
const char* DefaultSpecJson();

using berth::ParseSignal;

}  // namespace berth::cli::runtime
