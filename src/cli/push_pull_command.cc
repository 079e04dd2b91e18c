// `gg push` and `gg pull`: moving objects, thunks and their reductions
// between the local store and a shared one (Redis, S3, GCS).
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/command.h"
#include "storage/known_objects.h"
#include "storage/storage.h"
#include "storage/transfer.h"

namespace gg::cli {
namespace {

struct Args {
  std::string storage;
  bool recheck = false;
  std::vector<Name> names;
};

/// Parses [--storage URI] [--recheck] NAME...; returns an exit code on error.
int ParseArgs(int argc, char** argv, bool allow_recheck, Args* out) {
  bool names_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (!names_only && a == "--") {
      names_only = true;
    } else if (!names_only && (a == "--storage" || a == "-s")) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "gg %s: --storage needs a URI\n", argv[0]);
        return kExitUsage;
      }
      out->storage = argv[++i];
    } else if (!names_only && a.starts_with("--storage=")) {
      out->storage = a.substr(10);
    } else if (!names_only && allow_recheck && a == "--recheck") {
      out->recheck = true;
    } else if (!names_only && a.size() > 1 && a[0] == '-') {
      std::fprintf(stderr, "gg %s: unknown option '%s' (see 'gg %s --help')\n", argv[0], a.c_str(), argv[0]);
      return kExitUsage;
    } else {
      auto n = Name::Parse(a);
      if (!n.ok()) {
        std::fprintf(stderr, "gg %s: '%s' is not an object name: %s\n", argv[0], a.c_str(), n.status().message().c_str());
        return kExitUsage;
      }
      out->names.push_back(*n);
    }
  }
  if (out->names.empty()) {
    std::fprintf(stderr, "gg %s: no names given (see 'gg %s --help')\n", argv[0], argv[0]);
    return kExitUsage;
  }
  return kExitOk;
}

std::string Plural(size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

/// Opens the local store, the shared store and its known-objects record.
struct Session {
  std::unique_ptr<LocalStore> local;
  std::unique_ptr<Storage> storage;
  std::unique_ptr<KnownObjects> known;
};

int OpenSession(const Args& args, Session* s) {
  auto uri = StorageUriFromFlagOrEnv(args.storage);
  if (!uri.ok()) return Fail(uri.status());
  s->local = OpenStoreOrComplain();
  if (!s->local) return kExitError;
  auto storage = OpenStorage(*uri);
  if (!storage.ok()) return Fail(storage.status());
  s->storage = std::move(*storage);
  auto known = KnownObjects::Open(s->local->dir(), s->storage->uri());
  if (!known.ok()) return Fail(known.status());
  s->known = std::move(*known);
  return kExitOk;
}

}  // namespace

int PushMain(int argc, char** argv) {
  if (WantsHelp(argc, argv)) {
    std::printf(
        "usage: gg push [--storage URI] [--recheck] NAME...\n\n"
        "Uploads objects to a shared store. A tree goes with its files; a thunk with\n"
        "its inputs and the thunks it depends on (recursively), and, if it has been\n"
        "forced here, with its reduction and outputs, so any machine using the store\n"
        "can force it or finds it already forced.\n\n"
        "Objects the store is known to hold (recorded under .gg/remote/) are not sent\n"
        "again; the others are asked about in one batch and only the missing ones sent.\n\n"
        "  --storage URI  the shared store (default: $GG_STORAGE_URI):\n"
        "                 redis://[user:password@]host[:port][/db]\n"
        "                 s3://bucket[/prefix][?region=R&endpoint=URL]\n"
        "                 gs://bucket[/prefix]\n"
        "  --recheck      ignore the record of what the store holds and ask it again\n"
        "                 (after the store was wiped)\n\n"
        "Credentials for s3:// and gs:// come from AWS_ACCESS_KEY_ID and\n"
        "AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), else ~/.aws/credentials\n"
        "[$AWS_PROFILE]. See docs/storage.md.\n");
    return kExitOk;
  }
  Args args;
  if (int rc = ParseArgs(argc, argv, true, &args); rc != kExitOk) return rc;
  Session s;
  if (int rc = OpenSession(args, &s); rc != kExitOk) return rc;
  if (args.recheck) {
    if (Status st = s.known->Clear(); !st.ok()) return Fail(st);
  }
  auto stats = PushClosure(*s.storage, *s.local, s.known.get(), args.names);
  if (!stats.ok()) return Fail(stats.status());
  std::printf("pushed %s (%s) and %s to %s; %s already there\n", Plural(stats->sent, "object", "objects").c_str(),
              Bytes(stats->bytes).c_str(), Plural(stats->reductions, "reduction", "reductions").c_str(),
              s.storage->uri().c_str(), Plural(stats->skipped, "object was", "objects were").c_str());
  if (stats->unavailable > 0) {
    std::fprintf(stderr, "gg push: %s referenced but not in the local store (not computed yet?) and not pushed\n",
                 Plural(stats->unavailable, "object is", "objects are").c_str());
  }
  return kExitOk;
}

int PullMain(int argc, char** argv) {
  if (WantsHelp(argc, argv)) {
    std::printf(
        "usage: gg pull [--storage URI] NAME...\n\n"
        "Downloads objects from a shared store into the local one, each checked\n"
        "against its name. For a thunk the store has a reduction of (with all its\n"
        "outputs present), pulls the reduction and the outputs, so forcing it here\n"
        "runs nothing; otherwise pulls its inputs and dependencies so it can be forced.\n\n"
        "  --storage URI  the shared store (default: $GG_STORAGE_URI); see 'gg push --help'\n");
    return kExitOk;
  }
  Args args;
  if (int rc = ParseArgs(argc, argv, false, &args); rc != kExitOk) return rc;
  Session s;
  if (int rc = OpenSession(args, &s); rc != kExitOk) return rc;
  auto stats = PullClosure(*s.storage, *s.local, s.known.get(), args.names);
  if (!stats.ok()) return Fail(stats.status());
  std::printf("pulled %s (%s) and %s from %s; %s already here\n", Plural(stats->sent, "object", "objects").c_str(),
              Bytes(stats->bytes).c_str(), Plural(stats->reductions, "reduction", "reductions").c_str(),
              s.storage->uri().c_str(), Plural(stats->skipped, "object was", "objects were").c_str());
  if (stats->unavailable > 0) {
    std::fprintf(stderr, "gg pull: %s referenced but not in %s and not pulled\n",
                 Plural(stats->unavailable, "object is", "objects are").c_str(), s.storage->uri().c_str());
  }
  return kExitOk;
}

}  // namespace gg::cli
