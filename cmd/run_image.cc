// `berth run [--name ID] [--keep] [-t] IMAGE [COMMAND [ARG...]]`: a container
// from an image, in the foreground. The image is unpacked (if needed), its
// snapshots are mounted as an overlay with a fresh upper directory under
// <containers dir>/<id>, the image config and the command line become the
// bundle's config.json, and `berth runtime run` runs it. Afterwards the
// rootfs is unmounted and, unless --keep, the container directory removed.

#include <unistd.h>

#include <cstdio>
#include <random>

#include "cmd/image/cli.h"
#include "cmd/runtime/cli.h"
#include "common/file.h"
#include "common/json.h"
#include "runtime/image/container_config.h"
#include "runtime/image/image_user.h"
#include "runtime/image/unpack/overlay.h"

namespace berth::cli {
namespace {

namespace img = ::berth::image;
namespace bj = boost::json;

std::string RandomId() {
  std::random_device rd;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
  return buf;
}

Result<std::string> BundleConfig(const img::ContainerProcess& p, const std::string& rootfs,
                                 const std::string& id, bool tty) {
  bj::value spec = BERTH_TRY(json::Parse(runtime::DefaultSpecJson(), "default spec"));
  bj::object& root = spec.as_object();
  bj::object& process = root["process"].as_object();
  bj::array args, env;
  for (const std::string& a : p.args)
    args.emplace_back(a);
  for (const std::string& e : p.env)
    env.emplace_back(e);
  process["args"] = std::move(args);
  process["env"] = std::move(env);
  process["cwd"] = p.cwd;
  process["terminal"] = tty;
  // Names are looked up in the image's own /etc/passwd and /etc/group.
  img::ResolvedUser user = BERTH_TRY(img::ResolveUserInRootfs(p.user, rootfs));
  bj::array gids;
  for (uint32_t g : user.additional_gids)
    gids.emplace_back(g);
  process["user"] = bj::object{{"uid", user.uid}, {"gid", user.gid}, {"additionalGids", gids}};
  root["root"] = bj::object{{"path", rootfs}, {"readonly", false}};
  root["hostname"] = id.substr(0, 63);  // HOST_NAME_MAX
  return bj::serialize(spec);
}

int Fail(const Error& e) {
  std::fprintf(stderr, "berth run: %s\n", e.str().c_str());
  return 125;  // docker run's "the daemon failed" status, not the command's
}

}  // namespace

int RunImage(const std::vector<std::string>& args) {
  std::string image_root = img::kDefaultImageRoot, containers = "/var/lib/berth/containers";
  std::string runtime_root = "/run/berth/runc", id, user, workdir;
  std::vector<std::string> env;
  bool keep = false, tty = false;
  FlagSet flags("run");
  flags.String("root", &image_root, "the image root (as berth image --root)");
  flags.String("containers-dir", &containers, "where container rootfs upper layers live");
  flags.String("runtime-root", &runtime_root, "the runtime's state directory");
  flags.String("name", &id, "the container id (default: random)");
  flags.String("user,u", &user, "user[:group] to run as, names or ids (default: the image's)");
  flags.String("workdir,w", &workdir, "working directory (default: the image's)");
  flags.StringList("env,e", &env, "KEY=value to add to the environment (repeatable)");
  flags.Bool("tty,t", &tty, "give the container a terminal");
  flags.Bool("keep", &keep, "keep the container's directory (its upper layer) afterwards");
  Result<std::vector<std::string>> pos = flags.Parse(args);
  if (!pos.ok()) return Fail(pos.error());
  if (pos->empty()) {
    return Fail(
        Error(Errc::kInvalidArgument, "usage: berth run [options] IMAGE [COMMAND [ARG...]]"));
  }
  if (id.empty()) id = RandomId();

  Result<img::ImageRoot> root = img::ImageRoot::Open(image_root);
  if (!root.ok()) return Fail(root.error());
  Result<img::ImageRecord> record = root->Find(pos->front());
  if (!record.ok()) {
    return Fail(std::move(record).error().Wrap(
        "(pull it with `berth image pull` or load it with `berth image import`)"));
  }
  Result<img::Platform> platform = img::RecordPlatform(*record);
  if (!platform.ok()) return Fail(platform.error());
  Result<img::UnpackedImage> image = root->Unpack(*record, *platform);
  if (!image.ok()) return Fail(image.error());

  img::ContainerOverrides overrides;
  overrides.args.assign(pos->begin() + 1, pos->end());
  // Like `docker run IMAGE CMD...`: the words replace Cmd, Entrypoint stays.
  overrides.user = user;
  overrides.working_dir = workdir;
  for (const std::string& e : env) {
    size_t eq = e.find('=');
    overrides.env.emplace_back(e.substr(0, eq), eq == std::string::npos ? "" : e.substr(eq + 1));
  }
  Result<img::ContainerProcess> process =
      img::MergeImageConfig(image->config, overrides, record->name);
  if (!process.ok()) return Fail(process.error());

  std::string dir = containers + "/" + id;
  if (PathExists(dir))
    return Fail(Error(Errc::kAlreadyExists, "container directory " + dir + " exists"));
  // The upper directory is the merged root's inode: it must be as open as
  // an image's root normally is.
  Status made = MkdirAll(dir + "/upper", 0755);
  if (made.ok()) made = MkdirAll(dir + "/work", 0700);
  if (made.ok()) made = MkdirAll(dir + "/rootfs", 0755);
  if (!made.ok()) return Fail(made.error());
  int status = 125;
  {
    Result<img::OverlayMount> mount =
        img::MountOverlay(image->lower_dirs, dir + "/upper", dir + "/work", dir + "/rootfs", false);
    Result<std::string> config = mount.ok() ? BundleConfig(*process, dir + "/rootfs", id, tty)
                                            : Result<std::string>(mount.error());
    Status written =
        config.ok() ? WriteFile(dir + "/config.json", *config) : Status(config.error());
    if (written.ok()) {
      status = runtime::RuntimeMain({"--root", runtime_root, "run", "--bundle", dir, id});
    } else {
      Fail(written.error());
    }
  }
  if (!keep) (void)RemoveAll(dir);
  return status;
}

}  // namespace berth::cli
