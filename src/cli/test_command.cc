#include <getopt.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <mutex>
#include <thread>

#include "cli/command.h"
#include "cli/force_flags.h"
#include "core/path_util.h"
#include "gtest/annotations.h"
#include "gtest/junit.h"
#include "gtest/learn.h"
#include "gtest/lines.h"
#include "gtest/listing.h"
#include "gtest/test_thunk.h"

namespace gg::cli {
namespace {

using gtest::TestCase;
using gtest::TestResult;
using gtest::TestUnit;

constexpr char kUsage[] =
    "usage: gg test [-j N] [--engine E]... [--storage URI] [--annotations FILE | --learn]\n"
    "               [--data-root DIR]... [--shard-by test|suite|N] [--filter PATTERN]\n"
    "               [--junit FILE] [--timeout S] [--trace FILE] BINARY...\n\n"
    "Runs GoogleTest binaries as one thunk per test (or per suite, or N shards),\n"
    "in parallel, each seeing only the binary, its shared libraries and the data\n"
    "files declared for it. A test's result (pass or fail) is memoized: a second\n"
    "run with nothing changed runs nothing; changing a data file re-runs the\n"
    "tests that read it; rebuilding a binary re-runs its tests.\n\n"
    "  --filter PATTERN     gtest's syntax: POS[:POS...][-NEG[:NEG...]], * and ?\n"
    "  --data-root DIR      where data files are (repeatable; default: the current\n"
    "                       directory); tests run from a copy of its layout\n"
    "  --annotations FILE   data files per suite and test (docs/gg_test.md);\n"
    "                       default: BINARY.gg-test beside each binary, if present\n"
    "  --learn              run each test once here under strace, record the files\n"
    "                       it reads under the data roots and write the annotations\n"
    "                       file (BINARY.gg-test, or --annotations FILE)\n"
    "  --shard-by MODE      test (default): a thunk per test; suite: per suite;\n"
    "                       N: N shards per binary (GTEST_TOTAL_SHARDS)\n"
    "  --timeout S          a test (thunk) running longer fails (default 300)\n"
    "  --junit FILE         write every result as one JUnit XML file\n"
    "  -j N, --engine E, --storage URI, --secret-file FILE, --trace FILE,\n"
    "  --max-attempts N     as for 'gg force'\n\n"
    "The last line of the report is 'N passed, N failed' (', N skipped' and\n"
    "', N disabled' follow when there are any).\n"
    "Exit status: 0 every test passed, 1 a test failed, 2 usage, 3 other error\n"
    "(the binary does not list, a declared file is missing, a thunk could not run).\n";

struct Options {
  int jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));  // local runs of --learn
  ForceFlags flags;  // -j, --engine, --storage, --secret-file, --trace, --max-attempts (not --timeout)
  std::string annotations_file;
  bool learn = false;
  std::vector<std::string> data_roots;
  std::string shard_by = "test";
  std::string filter;
  std::string junit;
  double timeout = 300;
  std::vector<std::string> binaries;
};

// One binary's plan: its tests, the files they read, its thunks.
struct Binary {
  std::string path;
  std::vector<TestCase> tests;  // selected by the filter, disabled ones included
  gtest::Annotations annotations;
  std::string annotations_path;
  gtest::BinaryInputs inputs;
  std::vector<TestUnit> units;
  std::vector<Name> thunks;  // one per unit
};

std::vector<TestUnit> MakeUnits(const Binary& b, const std::string& shard_by, const std::string& filter) {
  std::vector<TestUnit> units;
  std::vector<TestCase> runnable;
  for (const auto& t : b.tests) {
    if (!t.disabled) runnable.push_back(t);
  }
  if (shard_by == "test") {
    for (const auto& t : runnable) units.push_back({{t}, t.full_name(), {}, {}});
  } else if (shard_by == "suite") {
    std::map<std::string, size_t> index;
    for (const auto& t : runnable) {
      auto [it, fresh] = index.emplace(t.suite, units.size());
      if (fresh) units.push_back({});
      TestUnit& u = units[it->second];
      u.tests.push_back(t);
      u.filter += (u.filter.empty() ? "" : ":") + t.full_name();
    }
  } else if (!runnable.empty()) {
    // gtest deals the runnable tests (those the filter selects, not disabled)
    // round-robin to the shards in list order.
    size_t n = std::min<size_t>(std::strtoul(shard_by.c_str(), nullptr, 10), runnable.size());
    for (size_t i = 0; i < n; ++i) {
      units.push_back({{}, filter.empty() ? "*" : filter,
                       {"GTEST_TOTAL_SHARDS=" + std::to_string(n), "GTEST_SHARD_INDEX=" + std::to_string(i)}, {}});
    }
    for (size_t i = 0; i < runnable.size(); ++i) units[i % n].tests.push_back(runnable[i]);
  }
  for (auto& u : units) {
    for (const auto& t : u.tests) {
      auto files = b.annotations.FilesFor(t.suite, t.name);
      u.files.insert(files.begin(), files.end());
    }
  }
  return units;
}

// Runs `fn(i)` for i in [0, n) on `jobs` threads.
template <typename Fn>
void ParallelFor(size_t n, int jobs, Fn fn) {
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  for (int j = 0; j < std::max(1, jobs); ++j) {
    threads.emplace_back([&] {
      for (size_t i; (i = next++) < n;) fn(i);
    });
  }
  for (auto& t : threads) t.join();
}

// Paths the binary's own inputs occupy: never data files.
std::set<std::string> OwnPaths(const gtest::BinaryInputs& in) {
  std::set<std::string> out;
  for (const auto& i : in.inputs) out.insert(i.path);
  return out;
}

// --learn: each runnable test once under strace, locally.
Status Learn(LocalStore* store, const Options& o, Binary* b) {
  std::vector<TestCase> runnable;
  for (const auto& t : b->tests) {
    if (!t.disabled) runnable.push_back(t);
  }
  std::vector<gtest::OpenedFiles> traced(runnable.size());
  std::vector<Status> errors(runnable.size());
  if (isatty(STDERR_FILENO)) std::fprintf(stderr, "gg test: learning the files of %zu tests of %s\n", runnable.size(), b->path.c_str());
  ParallelFor(runnable.size(), o.jobs, [&](size_t i) {
    gtest::LocalRun run{b->path, runnable[i].full_name(), {}, o.data_roots[0], o.timeout};
    auto opened = gtest::TraceRun(run, store->TempDir());
    if (opened.ok()) {
      traced[i] = std::move(*opened);
    } else {
      errors[i] = opened.status();
    }
  });
  std::set<std::string> own = OwnPaths(b->inputs);
  for (size_t i = 0; i < runnable.size(); ++i) {
    if (!errors[i].ok()) return errors[i].Prefix("learning " + runnable[i].full_name());
    std::set<std::string> files;
    for (const auto& f : gtest::DataFilesUnder(traced[i], o.data_roots)) {
      bool is_own = false;
      for (const auto& root : o.data_roots) is_own |= own.count(root + "/" + f) > 0;
      if (!is_own) files.insert(f);
    }
    std::string full = runnable[i].full_name();
    if (files.empty()) {
      b->annotations.test_files.erase(full);
    } else {
      b->annotations.test_files[full] = files;
    }
  }
  GG_RETURN_IF_ERROR(WriteFileAtomic(b->annotations_path, b->annotations.Serialize()));
  std::fprintf(stderr, "gg test: wrote %s\n", b->annotations_path.c_str());
  return Status::Ok();
}

// The data file `rel` as inputs: at its place under the work dir, and at its
// host path for tests that open it by absolute path.
Status AddDataInputs(LocalStore* store, const std::vector<std::string>& roots, const std::string& rel,
                     const std::string& origin, std::map<std::string, std::vector<ThunkInput>>* cache,
                     std::vector<ThunkInput>* out) {
  auto it = cache->find(rel);
  if (it == cache->end()) {
    std::string found;
    for (const auto& root : roots) {
      struct stat st {};
      if (stat((root + "/" + rel).c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
        found = root + "/" + rel;
        break;
      }
    }
    if (found.empty()) {
      std::string list;
      for (const auto& r : roots) list += (list.empty() ? "" : ", ") + r;
      return Status::NotFound("data file '" + rel + "' (declared in " + origin + ") is in no data root (" + list +
                              "): fix the annotation or pass --data-root");
    }
    GG_ASSIGN_OR_RETURN(Name name, store->PutFile(found));
    it = cache->emplace(rel, std::vector<ThunkInput>{{name.str(), rel, false}, {name.str(), found, false}}).first;
  }
  out->insert(out->end(), it->second.begin(), it->second.end());
  return Status::Ok();
}

// Why a test failed in the sandbox, if it is a file it reads here but was not
// given: the test runs again here under strace. The answer is kept in the
// store beside the result, so a memoized run reports the same.
Result<std::vector<std::string>> UndeclaredFiles(LocalStore* store, const Options& o, const Binary& b,
                                                 const TestUnit& unit, const Name& thunk, const TestCase& test) {
  std::string dir = store->dir() + "/gtest";
  std::string record = dir + "/undeclared-" + thunk.str().substr(1, 43) + "-" +
                       Name::ForContent(test.full_name()).str().substr(1, 16);
  if (auto cached = ReadFile(record); cached.ok()) {
    std::vector<std::string> files;
    for (std::string_view line : gtest::Lines(*cached)) {
      if (!line.empty()) files.emplace_back(line);
    }
    return files;
  }
  gtest::LocalRun run{b.path, test.full_name(), unit.env, o.data_roots[0], o.timeout};
  GG_ASSIGN_OR_RETURN(auto opened, gtest::TraceRun(run, store->TempDir()));
  std::set<std::string> own = OwnPaths(b.inputs);
  std::vector<std::string> files;
  std::string text;
  for (const auto& f : gtest::DataFilesUnder(opened, o.data_roots)) {
    bool is_own = false;
    for (const auto& root : o.data_roots) is_own |= own.count(root + "/" + f) > 0;
    if (is_own || unit.files.count(f)) continue;
    files.push_back(f);
    text += f + "\n";
  }
  GG_RETURN_IF_ERROR(MakeDirs(dir));
  GG_RETURN_IF_ERROR(WriteFileAtomic(record, text));
  return files;
}

void PrintIndented(const std::string& text) {
  for (std::string_view line : gtest::Lines(text)) std::printf("    %.*s\n", static_cast<int>(line.size()), line.data());
}

// The force flags go through the one parser of gg force and gg build, except
// --timeout: for gg test it is a test's own time limit.
Result<std::vector<char*>> TakeForceFlags(int argc, char** argv, ForceFlags* flags) {
  static const std::string_view kValued[] = {"--annotations", "--data-root", "--shard-by", "--filter", "--junit",
                                             "--timeout"};
  std::vector<char*> rest = {argv[0]};
  int i = 1;
  while (i < argc) {
    std::string_view a = argv[i];
    if (a == "--") break;
    bool own = a.starts_with("--timeout");
    for (std::string_view v : kValued) own = own || a == v;
    if (!own) {
      GG_ASSIGN_OR_RETURN(bool taken, TakeForceFlag(argc, argv, &i, flags));
      if (taken) continue;
    }
    rest.push_back(argv[i++]);
    for (std::string_view v : kValued) {
      if (a == v && i < argc) rest.push_back(argv[i++]);  // its value, even one that starts with '-'
    }
  }
  for (; i < argc; ++i) rest.push_back(argv[i]);
  return rest;
}

int ParseOptions(int argc, char** argv, Options* o) {
  auto rest = TakeForceFlags(argc, argv, &o->flags);
  if (!rest.ok()) {
    std::fprintf(stderr, "gg: %s\n%s", rest.status().message().c_str(), kUsage);
    return kExitUsage;
  }
  if (o->flags.engines.jobs > 0) o->jobs = o->flags.engines.jobs;
  argc = static_cast<int>(rest->size());
  argv = rest->data();
  static const option kLong[] = {{"timeout", required_argument, nullptr, 's'},
                                 {"annotations", required_argument, nullptr, 'A'},
                                 {"learn", no_argument, nullptr, 'L'},
                                 {"data-root", required_argument, nullptr, 'D'},
                                 {"shard-by", required_argument, nullptr, 'B'},
                                 {"filter", required_argument, nullptr, 'F'},
                                 {"junit", required_argument, nullptr, 'J'},
                                 {nullptr, 0, nullptr, 0}};
  optind = 1;
  int opt;
  while ((opt = getopt_long(argc, argv, "", kLong, nullptr)) != -1) {
    switch (opt) {
      case 's': o->timeout = std::atof(optarg); break;
      case 'A': o->annotations_file = optarg; break;
      case 'L': o->learn = true; break;
      case 'D': o->data_roots.push_back(optarg); break;
      case 'B': o->shard_by = optarg; break;
      case 'F': o->filter = optarg; break;
      case 'J': o->junit = optarg; break;
      default: std::fprintf(stderr, "%s", kUsage); return kExitUsage;
    }
  }
  bool shards = !o->shard_by.empty() && o->shard_by.find_first_not_of("0123456789") == std::string::npos &&
                std::atoi(o->shard_by.c_str()) > 0;
  if (o->shard_by != "test" && o->shard_by != "suite" && !shards) {
    std::fprintf(stderr, "gg: --shard-by takes test, suite or a positive number, not '%s'\n", o->shard_by.c_str());
    return kExitUsage;
  }
  if (!(o->timeout > 0) || !std::isfinite(o->timeout)) {
    std::fprintf(stderr, "gg: --timeout takes a positive number of seconds\n");
    return kExitUsage;
  }
  if (optind >= argc) {
    std::fprintf(stderr, "gg: test needs at least one BINARY\n%s", kUsage);
    return kExitUsage;
  }
  for (int i = optind; i < argc; ++i) o->binaries.push_back(AbsolutePath(argv[i]));
  if (o->data_roots.empty()) o->data_roots.push_back(".");
  for (auto& r : o->data_roots) {
    r = AbsolutePath(r);
    while (r.size() > 1 && r.back() == '/') r.pop_back();
  }
  return -1;
}

const char* Plural(size_t n) { return n == 1 ? "" : "s"; }

}  // namespace

int TestMain(int argc, char** argv) {
  if (WantsHelp(argc, argv)) {
    std::printf("%s", kUsage);
    return kExitOk;
  }
  Options o;
  if (int rc = ParseOptions(argc, argv, &o); rc >= 0) return rc;
  // A test runs as long as it runs: a second copy only helps when a run is
  // stuck in the infrastructure, i.e. outlives the test's own timeout.
  o.flags.straggler_seconds = o.timeout + 10;
  auto store = OpenStoreOrComplain();
  if (!store) return kExitError;

  // 1. List, select, read or learn the data files, make the thunks.
  std::vector<Binary> binaries;
  std::vector<Name> targets;
  for (const auto& path : o.binaries) {
    Binary b;
    b.path = path;
    if (access(path.c_str(), X_OK) != 0) return Fail(Status::NotFound(path + ": no such executable test binary"));
    auto listed = gtest::ListTests(path);
    if (!listed.ok()) return Fail(listed.status());
    for (auto& t : *listed) {
      if (o.filter.empty() || gtest::MatchesFilter(t.full_name(), o.filter)) b.tests.push_back(std::move(t));
    }
    b.annotations_path = o.annotations_file.empty() ? gtest::AnnotationsPathFor(path) : AbsolutePath(o.annotations_file);
    if (auto text = ReadFile(b.annotations_path); text.ok()) {
      auto parsed = gtest::Annotations::Parse(*text);
      if (!parsed.ok()) return Fail(parsed.status().Prefix(b.annotations_path));
      b.annotations = std::move(*parsed);
    } else if (!o.annotations_file.empty() && !o.learn) {
      return Fail(text.status().Prefix("--annotations"));
    }
    auto inputs = gtest::CaptureBinary(store.get(), path);
    if (!inputs.ok()) return Fail(inputs.status().Prefix(path));
    b.inputs = std::move(*inputs);
    if (o.learn) {
      if (Status s = Learn(store.get(), o, &b); !s.ok()) return Fail(s);
    }
    b.units = MakeUnits(b, o.shard_by, o.filter);
    std::map<std::string, std::vector<ThunkInput>> data_cache;
    for (const auto& unit : b.units) {
      std::vector<ThunkInput> data;
      for (const auto& f : unit.files) {
        if (Status s = AddDataInputs(store.get(), o.data_roots, f, b.annotations_path, &data_cache, &data); !s.ok()) {
          return Fail(s);
        }
      }
      Thunk thunk = gtest::MakeTestThunk(b.inputs, unit, data, o.timeout);
      auto name = store->Put(thunk.Serialize());
      if (!name.ok()) return Fail(name.status());
      b.thunks.push_back(*name);
      for (const char* tag : {gtest::kStatusTag, gtest::kXmlTag, gtest::kOutputTag}) {
        targets.push_back(*Name::Parse(name->str() + "#" + tag));
      }
    }
    binaries.push_back(std::move(b));
  }

  // 2. Force every thunk.
  auto setup = SetUpForce(store.get(), o.flags);
  if (!setup.ok()) return Fail(setup.status());
  signal(SIGPIPE, SIG_IGN);
  // On a terminal: tests done of all and failed so far. A unit's status
  // output starts with its gtest exit code, non-zero when a test in it failed.
  std::set<std::string> units;
  for (const auto& b : binaries) {
    for (const auto& t : b.thunks) units.insert(t.str());
  }
  size_t units_done = 0, units_failed = 0;
  bool tty = isatty(STDERR_FILENO);
  if (tty) {
    (*setup)->options.progress_out = nullptr;
    (*setup)->options.on_done = [&](const Name& thunk, const Reduction& r) {
      if (!units.count(thunk.str())) return;
      ++units_done;
      const ReductionOutput* status = r.Find(gtest::kStatusTag);
      if (status != nullptr) {
        auto bytes = store->Get(status->name);
        if (bytes.ok() && !bytes->starts_with("0 ")) ++units_failed;
      }
      std::fprintf(stderr, "\rgg test: %zu/%zu done, %zu failed   ", units_done, units.size(), units_failed);
    };
  }
  Coordinator coordinator(store.get(), (*setup)->options);
  std::vector<ReductionOutput> outputs;
  if (!targets.empty()) {
    auto forced = coordinator.Force(targets);
    if (tty && units_done > 0) std::fprintf(stderr, "\n");
    if (!forced.ok()) {
      int rc = Fail(forced.status().Prefix("a test thunk could not run"));
      return (*setup)->options.interrupted->load() ? kExitInterrupted : std::max<int>(rc, kExitError);
    }
    outputs = std::move(*forced);
  }

  // 3. Results, in list order.
  std::vector<TestResult> results;
  size_t passed = 0, failed = 0, skipped = 0, disabled = 0, next = 0;
  std::vector<std::string> failed_names;
  for (const auto& b : binaries) {
    std::map<std::string, TestResult> by_name;
    for (size_t u = 0; u < b.units.size(); ++u) {
      gtest::UnitOutputs out;
      for (std::string* field : {&out.status, &out.xml, &out.output}) {
        auto bytes = store->Get(outputs[next++].name);
        if (!bytes.ok()) return Fail(bytes.status().Prefix("the result of thunk " + b.thunks[u].str()));
        *field = std::move(*bytes);
      }
      for (auto& r : gtest::ResultsOf(b.units[u], out, o.timeout)) {
        bool timed_out = !r.failures.empty() && r.failures[0].starts_with("timed out");
        if (r.outcome == TestResult::Outcome::kFailed && !timed_out) {
          const TestCase* test = nullptr;
          for (const auto& t : b.units[u].tests) {
            if (t.full_name() == r.full_name()) test = &t;
          }
          auto undeclared = test ? UndeclaredFiles(store.get(), o, b, b.units[u], b.thunks[u], *test)
                                 : Result<std::vector<std::string>>(std::vector<std::string>{});
          if (!undeclared.ok()) {
            r.failures.push_back("(could not check for undeclared data files: " + undeclared.status().message() + ")");
          } else {
            for (const auto& f : *undeclared) {
              r.failures.push_back("it opens " + f + " (under a --data-root), which was not declared, so the sandbox "
                                   "gave ENOENT: add the line '    @" + f + "' under '  " + r.name + "' of '" +
                                   r.suite + ".' in " + b.annotations_path + ", or run gg test --learn");
            }
          }
        }
        by_name[r.full_name()] = std::move(r);
      }
    }
    for (const auto& t : b.tests) {
      TestResult r;
      if (t.disabled) {
        r.suite = t.suite;
        r.name = t.name;
        r.outcome = TestResult::Outcome::kDisabled;
      } else if (auto it = by_name.find(t.full_name()); it != by_name.end()) {
        r = std::move(it->second);
      } else {
        // Every enabled test is in a unit; a miss is a bug, never a pass.
        r.suite = t.suite;
        r.name = t.name;
        r.outcome = TestResult::Outcome::kFailed;
        r.failures.push_back("gg test found no result for this test (a bug: please report it)");
      }
      r.binary = b.path;
      switch (r.outcome) {
        case TestResult::Outcome::kPassed:
          ++passed;
          std::printf("[       OK ] %s (%.0f ms)\n", r.full_name().c_str(), r.seconds * 1000);
          break;
        case TestResult::Outcome::kSkipped:
          ++skipped;
          std::printf("[  SKIPPED ] %s\n", r.full_name().c_str());
          break;
        case TestResult::Outcome::kDisabled:
          ++disabled;
          std::printf("[ DISABLED ] %s\n", r.full_name().c_str());
          break;
        case TestResult::Outcome::kFailed:
          ++failed;
          failed_names.push_back(r.full_name() + (binaries.size() > 1 ? " (" + b.path + ")" : ""));
          std::printf("[  FAILED  ] %s (%s)\n", r.full_name().c_str(), b.path.c_str());
          for (const auto& f : r.failures) PrintIndented(f);
          if (!r.output.empty()) {
            std::printf("  its output:\n");
            PrintIndented(r.output);
          }
          break;
      }
      results.push_back(std::move(r));
    }
  }
  const ForceStats& st = coordinator.stats();
  size_t thunks = 0;
  for (const auto& b : binaries) thunks += b.thunks.size();
  std::printf("[==========] %zu test%s from %zu binar%s in %zu thunk%s: %zu run, %zu memoized\n", results.size(),
              Plural(results.size()), binaries.size(), binaries.size() == 1 ? "y" : "ies", thunks, Plural(thunks),
              st.executed, st.memoized);
  for (const auto& n : failed_names) std::printf("[  FAILED  ] %s\n", n.c_str());
  if (!o.junit.empty()) {
    if (Status s = WriteFileAtomic(o.junit, gtest::WriteJUnit(results)); !s.ok()) return Fail(s.Prefix("--junit"));
  }
  std::printf("%zu passed, %zu failed", passed, failed);
  if (skipped) std::printf(", %zu skipped", skipped);
  if (disabled) std::printf(", %zu disabled", disabled);
  std::printf("\n");
  std::fflush(stdout);
  return failed == 0 ? kExitOk : kExitThunkFailed;
}

}  // namespace gg::cli
