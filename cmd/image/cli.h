#pragma once
// `berth image <verb>`: pull, ls, inspect, rm, prune, import, export, one
// file per concern. Global flags: --root (the image root) and
// --registry-config-dir (containerd's hosts.toml directory layout).

#include <string>
#include <vector>

#include "cmd/flags.h"
#include "common/error.h"
#include "runtime/image/image_root.h"

namespace berth::cli::image {

namespace img = ::berth::image;
using Args = std::vector<std::string>;

struct Context {
  std::string root = img::kDefaultImageRoot;
  std::string registry_config_dir = "/etc/berth/certs.d";
};

int ImageMain(const Args& args);

int Pull(Context& ctx, const Args& args);
int List(Context& ctx, const Args& args);
int Inspect(Context& ctx, const Args& args);
int Remove(Context& ctx, const Args& args);
int Prune(Context& ctx, const Args& args);
int Import(Context& ctx, const Args& args);
int Export(Context& ctx, const Args& args);

// Prints "berth image <verb>: <error>" to stderr; returns 1.
int Fail(const std::string& verb, const Error& error);
Result<img::ImageRoot> OpenRoot(const Context& ctx);
std::string HumanSize(uint64_t bytes);

}  // namespace berth::cli::image
