#include "sandbox/executor.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <future>

#include "core/path_util.h"
#include "core/tree.h"

namespace gg {
namespace {

constexpr size_t kTailBytes = 16 * 1024;

std::string ReadTail(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  struct stat st {};
  fstat(fd, &st);
  off_t start = st.st_size > static_cast<off_t>(kTailBytes) ? st.st_size - kTailBytes : 0;
  std::string out(st.st_size - start, '\0');
  ssize_t n = pread(fd, out.data(), out.size(), start);
  close(fd);
  out.resize(n > 0 ? n : 0);
  if (start > 0) out = "[... " + std::to_string(start) + " bytes cut ...]\n" + out;
  return out;
}

// Moves the declared outputs from the work directory into the store.
ExecResult Collect(LocalStore* store, const Thunk& thunk, const std::string& work) {
  ExecResult r;
  r.kind = ExecResult::Kind::kOk;
  for (const auto& tag : thunk.outputs) {
    std::string path = work + "/" + tag;
    struct stat st {};
    if (lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      r.kind = ExecResult::Kind::kMissingOutput;
      r.message = "the program exited 0 but left no regular file for output '" + tag + "' in " +
                  thunk.effective_workdir();
      return r;
    }
    auto name = store->AdoptFile(path);
    if (!name.ok()) {
      r.kind = ExecResult::Kind::kSetupFailed;
      r.message = "cannot store output '" + tag + "': " + name.status().message();
      return r;
    }
    r.reduction.outputs.push_back({tag, *name, (st.st_mode & 0111) != 0});
  }
  return r;
}

}  // namespace

Result<Executor::Id> Executor::Start(const Thunk& thunk, Callback done) {
  sandbox::Spec spec;
  std::string scratch = store_->TempDir() + "/run." + UniqueSuffix();
  spec.root_dir = scratch + "/root";
  spec.work_host_dir = scratch + "/work";
  spec.workdir = thunk.effective_workdir();
  spec.stdout_path = scratch + "/stdout";
  spec.stderr_path = scratch + "/stderr";
  spec.timeout_seconds = thunk.timeout_ms / 1000.0;
  GG_RETURN_IF_ERROR(MakeDirs(spec.root_dir));
  GG_RETURN_IF_ERROR(MakeDirs(spec.work_host_dir));
  auto fail = [&](const Status& s) -> Result<Id> {
    RemoveTree(scratch);
    return s;
  };
  for (const auto& in : thunk.inputs) {
    auto name = Name::Parse(in.name);
    if (!name.ok()) return fail(name.status());
    if (name->is_thunk()) {
      return fail(Status::Invalid("input " + in.name + " is a thunk's output that was not resolved"));
    }
    if (*name == EmptyTreeName()) {
      spec.mounts.push_back({"", thunk.SandboxPath(in), true, true});
      continue;
    }
    auto host = name->type() == ObjectType::kTree ? store_->MaterializeTree(*name)
                                                   : store_->MaterializeFile(*name, in.executable);
    if (!host.ok()) return fail(host.status().Prefix("input " + in.path));
    sandbox::Mount m{*host, thunk.SandboxPath(in), name->type() == ObjectType::kTree};
    if (in.path[0] != '/') {
      // Inputs in the working directory need their parent directories there.
      std::string parent = DirName(spec.work_host_dir + "/" + in.path);
      if (Status s = MakeDirs(parent); !s.ok()) return fail(s);
    }
    spec.mounts.push_back(std::move(m));
  }
  spec.exe = thunk.SandboxPath(*thunk.FunctionInput());
  for (const auto& a : thunk.args) {
    auto e = thunk.ExpandPlaceholders(a);
    if (!e.ok()) return fail(e.status());
    spec.argv.push_back(std::move(*e));
  }
  for (const auto& v : thunk.env) {
    auto e = thunk.ExpandPlaceholders(v);
    if (!e.ok()) return fail(e.status());
    spec.env.push_back(std::move(*e));
  }
  // Output directories exist before the program starts, like make's would.
  for (const auto& tag : thunk.outputs) {
    if (tag.find('/') != std::string::npos) {
      if (Status s = MakeDirs(DirName(spec.work_host_dir + "/" + tag)); !s.ok()) return fail(s);
    }
  }

  LocalStore* store = store_;
  auto on_done = [store, thunk, scratch, done = std::move(done)](const sandbox::Outcome& o) {
    ExecResult r;
    std::string work = scratch + "/work";
    switch (o.kind) {
      case sandbox::Outcome::Kind::kExited:
        if (o.exit_code == 0) {
          r = Collect(store, thunk, work);
        } else {
          r.kind = ExecResult::Kind::kNonzeroExit;
          r.message = "the program exited with status " + std::to_string(o.exit_code);
        }
        break;
      case sandbox::Outcome::Kind::kSignaled:
        r.kind = ExecResult::Kind::kSignaled;
        r.message = "the program was killed by signal " + std::to_string(o.signal);
        break;
      case sandbox::Outcome::Kind::kTimedOut:
        r.kind = ExecResult::Kind::kTimedOut;
        r.message = "the program ran past the thunk's timeout of " + std::to_string(thunk.timeout_ms / 1000.0) +
                    " s and was killed";
        break;
      case sandbox::Outcome::Kind::kSetupFailed:
        r.kind = ExecResult::Kind::kSetupFailed;
        r.message = "sandbox set-up failed: " + o.error;
        break;
      case sandbox::Outcome::Kind::kCrashed:
        r.kind = ExecResult::Kind::kCrashed;
        r.message = "the executor crashed: " + o.error;
        break;
      case sandbox::Outcome::Kind::kCancelled:
        r.kind = ExecResult::Kind::kCancelled;
        r.message = "cancelled";
        break;
    }
    r.exit_code = o.exit_code;
    r.signal = o.signal;
    r.reduction.seconds = o.seconds;
    if (!r.ok()) {
      r.stdout_tail = ReadTail(scratch + "/stdout");
      r.stderr_tail = ReadTail(scratch + "/stderr");
    }
    RemoveTree(scratch);
    done(std::move(r));
  };
  auto id = server_->Launch(spec, std::move(on_done));
  if (!id.ok()) return fail(id.status());
  return *id;
}

ExecResult Executor::Run(const Thunk& thunk) {
  std::promise<ExecResult> promise;
  auto future = promise.get_future();
  auto id = Start(thunk, [&promise](ExecResult r) { promise.set_value(std::move(r)); });
  if (!id.ok()) {
    ExecResult r;
    r.kind = ExecResult::Kind::kSetupFailed;
    r.message = id.status().message();
    return r;
  }
  return future.get();
}

}  // namespace gg
