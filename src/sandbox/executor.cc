#include "sandbox/executor.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <future>

#include "core/beneath.h"
#include "core/byte_size.h"
#include "core/path_index.h"
#include "core/path_util.h"
#include "core/tree.h"
#include "sandbox/input_view.h"

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

// Moves the declared outputs from the work directory into the store. The
// program shaped that directory, so nothing in it is followed: see
// LocalStore::AdoptFileAt.
ExecResult Collect(LocalStore* store, const std::vector<std::string>& outputs, const std::string& workdir,
                   const std::string& work) {
  ExecResult r;
  r.kind = ExecResult::Kind::kOk;
  UniqueFd dir(open(work.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir.valid()) {
    r.kind = ExecResult::Kind::kSetupFailed;
    r.message = "cannot open the work directory " + work + ": " + std::strerror(errno);
    return r;
  }
  for (const auto& tag : outputs) {
    bool executable = false;
    auto name = store->AdoptFileAt(dir.get(), tag, "output '" + tag + "'", &executable);
    if (!name.ok()) {
      Status::Code code = name.status().code();
      bool program_fault = code == Status::Code::kNotFound || code == Status::Code::kInvalid;
      r.kind = program_fault ? ExecResult::Kind::kMissingOutput : ExecResult::Kind::kSetupFailed;
      r.message = program_fault ? "the program exited 0 but left no regular file for output '" + tag + "' in " +
                                      workdir + ": " + name.status().message()
                                : "cannot store output '" + tag + "': " + name.status().message();
      return r;
    }
    r.reduction.outputs.push_back({tag, *name, executable});
  }
  return r;
}

/// For a program that failed: which of its limits it ran into, when that
/// is known (a full work dir or /tmp, SIGXFSZ) or likely (memory).
std::string LimitHint(const sandbox::Outcome& o) {
  const sandbox::Limits& l = o.limits;
  if (o.kind == sandbox::Outcome::Kind::kSignaled && o.signal == SIGXFSZ) {
    return "; it exceeded its limit of " + FormatBytes(l.file_bytes) + " per file (--limit-file raises it)";
  }
  // A tmpfs also holds at most one file per 16 KiB of its size.
  auto files = [&](uint64_t bytes) {
    return o.files_full ? " of files (" + std::to_string(sandbox::FileCap(bytes)) + ", one per " +
                              FormatBytes(sandbox::kBytesPerFile) + " of the limit)"
                        : std::string();
  };
  if (o.workdir_full) {
    return "; it exceeded its " + FormatBytes(l.workdir_bytes) + " work-dir limit (its work dir was full" +
           files(l.workdir_bytes) + "; --limit-workdir raises it)";
  }
  if (o.tmp_full) {
    return "; it exceeded its " + FormatBytes(l.tmp_bytes) + " /tmp limit (/tmp or /dev/shm was full" +
           files(l.tmp_bytes) + "; --limit-tmp raises it)";
  }
  // RLIMIT_AS makes allocations fail, and the program then dies its own
  // way; a peak near the limit says which way it was.
  if (l.memory_bytes > 0 && o.peak_rss_bytes >= l.memory_bytes / 2) {
    return "; it exceeded its " + FormatBytes(l.memory_bytes) + " memory limit (peak resident " +
           FormatBytes(o.peak_rss_bytes) + "; --limit-memory raises it)";
  }
  if (o.kind == sandbox::Outcome::Kind::kSignaled && o.signal == SIGKILL) {
    return " from outside the sandbox (the kernel's OOM killer takes sandboxes first: was the "
           "machine out of memory?)";
  }
  return "";
}

sandbox::Limits ToSandbox(const ThunkLimits& l) {
  return {l.memory_bytes, l.processes, l.tmp_bytes, l.file_bytes, l.workdir_bytes};
}

/// Overlay options cannot carry these characters in a layer's path.
bool OverlaySafe(const std::string& path) { return path.find_first_of(",:\\") == std::string::npos; }

/// The distinct directories above `paths` (clean relative paths), each
/// after its parent. Consecutive paths in one directory, the common case,
/// cost a comparison each: only a new directory is looked up.
std::vector<std::string_view> DirsAbove(const std::vector<std::string_view>& paths) {
  std::vector<std::string_view> dirs;
  std::string_view last;
  bool any = false;
  for (std::string_view p : paths) {
    size_t slash = p.rfind('/');
    if (slash == std::string_view::npos) continue;
    std::string_view dir = p.substr(0, slash);
    if (any && dir == last) continue;
    any = true;
    last = dir;
    // Its ancestors, top down; duplicates are dropped below.
    for (size_t s = dir.find('/'); s != std::string_view::npos; s = dir.find('/', s + 1)) dirs.push_back(dir.substr(0, s));
    dirs.push_back(dir);
  }
  PathIndex seen(dirs.size());
  size_t kept = 0;
  for (size_t i = 0; i < dirs.size(); ++i) {
    if (seen.Insert(dirs[i], i) == i) dirs[kept++] = dirs[i];
  }
  dirs.resize(kept);
  return dirs;
}

/// The inputs to show through one input view (input_view.h): the values
/// below the work dir, except any inside a tree input (the tree is mounted
/// over the view's directory) or with another input below it (the mount
/// then fails as before, naming the path). Fills `files` (sorted by path)
/// and `others` (the indices of the inputs not in it, to mount); none if
/// too few to be worth a view. Names were checked when the thunk was read:
/// only their type letter is looked at. No string is made per input (a
/// thunk with thousands of inputs).
void PlanView(const Thunk& thunk, const std::string& workdir, std::vector<ViewFile>* files,
              std::vector<size_t>* others) {
  // The inputs below the work dir, by their path relative to it.
  struct Below {
    std::string_view rel;
    char type;
    size_t index;
    bool excluded = false;
  };
  std::vector<Below> below;
  below.reserve(thunk.inputs.size());
  size_t candidates = 0;
  for (size_t i = 0; i < thunk.inputs.size(); ++i) {
    std::string_view p = thunk.inputs[i].path;
    char type = thunk.inputs[i].name.empty() ? '\0' : thunk.inputs[i].name[0];
    if (p.starts_with('/')) {
      if (p.size() <= workdir.size() + 1 || !p.starts_with(workdir) || p[workdir.size()] != '/') {
        // A tree at the work dir itself hides everything below it.
        if (type == static_cast<char>(ObjectType::kTree) && p == workdir) return;
        continue;
      }
      p.remove_prefix(workdir.size() + 1);
    }
    below.push_back({p, type, i});
    if (type == static_cast<char>(ObjectType::kValue)) candidates++;
  }
  if (candidates < kMinViewFiles) return;
  std::vector<std::string_view> paths;
  paths.reserve(below.size());
  for (const Below& b : below) paths.push_back(b.rel);
  // An input above another is one of the directories above the inputs:
  // with none (a compile's headers), every value is in the view, and the
  // index holds the directories, not the inputs.
  std::vector<std::string_view> all_dirs = DirsAbove(paths);
  PathIndex dir_index(all_dirs.size());
  for (size_t k = 0; k < all_dirs.size(); ++k) dir_index.Insert(all_dirs[k], k);
  bool nested = false;
  for (const Below& b : below) nested = nested || dir_index.Get(b.rel) != PathIndex::kAbsent;
  if (nested) {
    // Paths are distinct (thunk validation).
    PathIndex index(below.size());
    for (size_t k = 0; k < below.size(); ++k) index.Insert(below[k].rel, k);
    for (Below& b : below) {
      bool candidate = b.type == static_cast<char>(ObjectType::kValue);
      for (size_t slash = b.rel.rfind('/'); slash != std::string_view::npos && slash > 0;
           slash = b.rel.rfind('/', slash - 1)) {
        size_t k = index.Get(b.rel.substr(0, slash));
        if (k == PathIndex::kAbsent) continue;
        Below* above = &below[k];
        if (above->type == static_cast<char>(ObjectType::kValue) && !above->excluded) {
          above->excluded = true;
          candidates--;
        }
        if (candidate && above->type == static_cast<char>(ObjectType::kTree) && !b.excluded) {
          b.excluded = true;
          candidates--;
        }
      }
    }
    if (candidates < kMinViewFiles) return;
  }
  files->reserve(candidates);
  std::vector<bool> in_view(thunk.inputs.size());
  for (const Below& b : below) {
    if (b.type != static_cast<char>(ObjectType::kValue) || b.excluded) continue;
    const ThunkInput& in = thunk.inputs[b.index];
    files->push_back({b.rel, in.name, in.executable});
    in_view[b.index] = true;
  }
  for (size_t i = 0; i < in_view.size(); ++i) {
    if (!in_view[i]) others->push_back(i);
  }
  auto by_path = [](const ViewFile& a, const ViewFile& b) { return a.path < b.path; };
  if (!std::is_sorted(files->begin(), files->end(), by_path)) std::stable_sort(files->begin(), files->end(), by_path);
}

/// Lists shorter than this are planned for each run: that costs less than
/// keeping the plan.
constexpr size_t kMinKeptPlanInputs = 64;
constexpr size_t kKeptPlans = 4;

}  // namespace

std::shared_ptr<const Executor::ViewPlan> Executor::Plan(const Thunk& thunk, const std::string& workdir,
                                                         uid_t owner) {
  std::shared_ptr<const std::vector<ThunkInput>> list = thunk.inputs.shared();
  bool keep = list != nullptr && list->size() >= kMinKeptPlanInputs;
  if (keep) {
    std::lock_guard<std::mutex> l(plans_mu_);
    for (const KnownPlan& k : plans_) {
      if (k.list == list && k.workdir == workdir && k.owner == owner) return k.plan;
    }
  }
  auto plan = std::make_shared<ViewPlan>();
  PlanView(thunk, workdir, &plan->files, &plan->others);
  if (!plan->files.empty()) plan->key = ViewKey(plan->files, owner);
  if (keep) {
    std::lock_guard<std::mutex> l(plans_mu_);
    if (plans_.size() == kKeptPlans) plans_.pop_front();
    plans_.push_back({std::move(list), workdir, owner, plan});
  }
  return plan;
}

Executor::Executor(LocalStore* store, sandbox::Server* server)
    : store_(store), server_(server), slots_(std::make_shared<Slots>(store->TempDir() + "/slot." + UniqueSuffix())) {}

Executor::Slots::~Slots() {
  for (const std::string& dir : free_) RemoveTree(dir);
  if (made_ > 0) RemoveTree(root_);
}

Result<std::string> Executor::Slots::Take() {
  std::string dir;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!free_.empty()) {
      dir = std::move(free_.back());
      free_.pop_back();
      return dir;
    }
    if (made_ == 0) GG_RETURN_IF_ERROR(MakeDirs(root_));
    dir = prefix_ + "." + std::to_string(made_++);
  }
  GG_RETURN_IF_ERROR(MakeDirs(dir + "/work"));
  return dir;
}

void Executor::Slots::Give(std::string dir) {
  std::lock_guard<std::mutex> l(mu_);
  free_.push_back(std::move(dir));
}

Result<Executor::Id> Executor::Start(const Thunk& thunk, Callback done, const ThunkLimits& force_limits) {
  sandbox::Spec spec;
  // Hermetic runs reuse a directory: nothing of the program's stays in it
  // (its work dir is a tmpfs of its own; the outputs copied out below it are
  // moved into the store), and stdout and stderr are truncated when opened.
  bool hermetic = server_->hermetic();
  std::string scratch;
  if (hermetic) {
    GG_ASSIGN_OR_RETURN(scratch, slots_->Take());
  } else {
    scratch = store_->TempDir() + "/run." + UniqueSuffix();
  }
  spec.root_dir = hermetic ? slots_->root() : scratch + "/root";
  spec.work_host_dir = scratch + "/work";
  spec.workdir = thunk.effective_workdir();
  spec.stdout_path = scratch + "/stdout";
  spec.stderr_path = scratch + "/stderr";
  spec.timeout_seconds = thunk.timeout_ms / 1000.0;
  // The thunk's own limits first, then the force's; the sandbox fills in
  // GG_LIMIT_* and the defaults.
  spec.limits = sandbox::Prefer(ToSandbox(thunk.limits), ToSandbox(force_limits));
  spec.outputs = thunk.outputs;
  if (!hermetic) {
    GG_RETURN_IF_ERROR(MakeDirs(spec.root_dir));
    GG_RETURN_IF_ERROR(MakeDirs(spec.work_host_dir));
  }
  auto fail = [&](const Status& s) -> Result<Id> {
    RemoveTree(scratch);
    return s;
  };
  // Many files below the work dir: one overlay layer instead of a mount each.
  std::shared_ptr<const ViewPlan> plan;  // none: no view, every input is mounted
  std::shared_ptr<UniqueFd> lease;       // held until the run ends
  // (Not for a work dir at /, which /dev, /proc and /tmp are mounted in.)
  if (hermetic && spec.workdir != "/" && OverlaySafe(spec.workdir) && OverlaySafe(store_->dir())) {
    // Its directories belong to the program, as mounted inputs' directories
    // do: the sandbox need not make them again at every run.
    uid_t owner = server_->program_uid();
    plan = Plan(thunk, spec.workdir, owner);
    if (plan->files.empty()) {
      plan.reset();
    } else {
      auto view = LeaseView(store_, plan->files, owner, plan->key);
      if (view.ok()) {
        spec.workdir_view = view->path;
        lease = std::make_shared<UniqueFd>(std::move(view->fd));
      } else if (view.status().code() == Status::Code::kUnavailable) {
        plan.reset();  // a blob at the link limit: mount them one by one
      } else {
        return fail(view.status());
      }
    }
  }
  // The inputs not in the view, each mounted (no pass over those in it).
  size_t mounted = plan ? plan->others.size() : thunk.inputs.size();
  for (size_t k = 0; k < mounted; ++k) {
    const auto& in = thunk.inputs[plan ? plan->others[k] : k];
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
    // The sandbox makes the mount points (never in the host work dir).
    spec.mounts.push_back({*host, thunk.SandboxPath(in), name->type() == ObjectType::kTree});
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
  // Output directories exist before the program starts, like make's would
  // (a hermetic run's init makes them in its work dir and copies out).
  bool nested = false;
  for (const auto& tag : thunk.outputs) {
    if (tag.find('/') == std::string::npos) continue;
    nested = true;
    if (hermetic) continue;
    if (Status s = MakeDirs(DirName(spec.work_host_dir + "/" + tag)); !s.ok()) return fail(s);
  }

  LocalStore* store = store_;
  // What the callback needs of the thunk, not the thunk: a copy of one with
  // thousands of inputs was a visible part of its start-up.
  auto on_done = [store, outputs = thunk.outputs, workdir = spec.workdir, timeout_ms = thunk.timeout_ms, scratch,
                  hermetic, nested, lease, slots = slots_,
                  done = std::move(done)](const sandbox::Outcome& o) {
    ExecResult r;
    std::string work = scratch + "/work";
    switch (o.kind) {
      case sandbox::Outcome::Kind::kExited:
        if (o.exit_code == 0 && !o.error.empty() && o.error[0] != '\0') {
          // The sandbox could not copy an output out of the work dir: the
          // error is "TAG\0why".
          size_t nul = o.error.find('\0');
          std::string tag = o.error.substr(0, nul);
          std::string why = nul == std::string::npos ? "" : o.error.substr(nul + 1);
          r.kind = ExecResult::Kind::kMissingOutput;
          r.message = "the program exited 0 but left no regular file for output '" + tag + "' in " +
                      workdir + ": " + why;
        } else if (o.exit_code == 0) {
          r = Collect(store, outputs, workdir, work);
        } else {
          r.kind = ExecResult::Kind::kNonzeroExit;
          r.message = "the program exited with status " + std::to_string(o.exit_code) + LimitHint(o);
        }
        break;
      case sandbox::Outcome::Kind::kSignaled:
        r.kind = ExecResult::Kind::kSignaled;
        r.message = "the program was killed by signal " + std::to_string(o.signal) + LimitHint(o);
        break;
      case sandbox::Outcome::Kind::kTimedOut:
        r.kind = ExecResult::Kind::kTimedOut;
        r.message = "the program ran past the thunk's timeout of " + std::to_string(timeout_ms / 1000.0) +
                    " s and was killed";
        break;
      case sandbox::Outcome::Kind::kSetupFailed:
        r.kind = ExecResult::Kind::kSetupFailed;
        r.thunk_at_fault = o.permanent;
        r.message = (o.permanent ? "the thunk cannot run: " : "sandbox set-up failed: ") + o.error;
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
    // A set-up failure precedes the program, and a reused directory's
    // stdout and stderr still hold the last run's until the init opens them.
    // stderr on success too: a compiler's warnings are shown by gg build.
    if (o.kind != sandbox::Outcome::Kind::kSetupFailed) {
      r.stderr_tail = ReadTail(scratch + "/stderr");
      if (!r.ok()) r.stdout_tail = ReadTail(scratch + "/stdout");
    }
    // Its outputs were all moved into the store: the work dir is empty
    // again (nested outputs leave their directories, so those are not kept).
    if (hermetic && r.ok() && !nested) {
      slots->Give(scratch);
    } else {
      RemoveTree(scratch);
    }
    done(std::move(r));
  };
  auto id = server_->Launch(spec, std::move(on_done));
  if (!id.ok()) return fail(id.status());
  return *id;
}

ExecResult Executor::Run(const Thunk& thunk, const ThunkLimits& force_limits) {
  std::promise<ExecResult> promise;
  auto future = promise.get_future();
  auto id = Start(thunk, [&promise](ExecResult r) { promise.set_value(std::move(r)); }, force_limits);
  if (!id.ok()) {
    ExecResult r;
    r.kind = ExecResult::Kind::kSetupFailed;
    r.message = id.status().message();
    return r;
  }
  return future.get();
}

}  // namespace gg
