#include "report/explain.h"

#include <sys/stat.h>

#include <algorithm>
#include <ctime>
#include <map>

#include "coordinator/identity_log.h"
#include "core/placeholder.h"
#include "core/sha256.h"
#include "core/shell_quote.h"
#include "core/tree.h"

namespace gg::report {
namespace {

std::string Seconds(int64_t us) {
  char buf[32];
  std::snprintf(buf, sizeof buf, us < 1000000 ? "%.0f ms" : "%.2f s", us < 1000000 ? us / 1e3 : us / 1e6);
  return buf;
}

std::string Indent(const std::string& text, const std::string& prefix) {
  std::string out = prefix;
  for (size_t i = 0; i < text.size(); ++i) {
    out.push_back(text[i]);
    if (text[i] == '\n' && i + 1 < text.size()) out += prefix;
  }
  if (!out.empty() && out.back() != '\n') out.push_back('\n');
  return out;
}

std::optional<Tree> LoadTree(LocalStore* store, const std::string& name) {
  auto n = Name::Parse(name);
  if (!n.ok() || n->type() != ObjectType::kTree) return std::nullopt;
  auto bytes = store->Get(*n);
  if (!bytes.ok()) return std::nullopt;
  auto tree = Tree::Parse(*bytes);
  if (!tree.ok()) return std::nullopt;
  return std::move(*tree);
}

std::string EntryName(const TreeEntry& e) {
  switch (e.kind) {
    case TreeEntry::Kind::kDir: return "(directory)";
    case TreeEntry::Kind::kSymlink: return "-> " + e.target;
    case TreeEntry::Kind::kFile: return e.name.str() + (e.executable ? " (executable)" : "");
  }
  return "";
}

std::optional<Thunk> LoadThunk(LocalStore* store, const std::string& name) {
  auto n = Name::Parse(name);
  if (!n.ok() || !n->is_thunk()) return std::nullopt;
  auto bytes = store->Get(n->object());
  if (!bytes.ok()) return std::nullopt;
  auto t = Thunk::Parse(*bytes);
  if (!t.ok()) return std::nullopt;
  return std::move(*t);
}

std::string Short(const std::string& name) { return name.size() > 16 ? name.substr(0, 16) + "…" : name; }

}  // namespace

std::vector<Difference> DiffThunks(LocalStore* store, const Thunk& before, const Thunk& after) {
  std::vector<Difference> out;
  std::map<std::string, const ThunkInput*> a, b;
  for (const auto& in : before.inputs) a[before.SandboxPath(in)] = &in;
  for (const auto& in : after.inputs) b[after.SandboxPath(in)] = &in;
  auto label = [&](const Thunk& t, const std::string& sandbox_path) {
    // Paths under the work dir as the build wrote them.
    std::string wd = t.effective_workdir() + "/";
    return sandbox_path.starts_with(wd) ? sandbox_path.substr(wd.size()) : sandbox_path;
  };
  for (const auto& [path, in] : b) {
    auto it = a.find(path);
    if (it == a.end()) {
      out.push_back({"input " + label(after, path), "", in->name});
      continue;
    }
    if (it->second->name == in->name && it->second->executable == in->executable) continue;
    auto ta = LoadTree(store, it->second->name), tb = LoadTree(store, in->name);
    if (ta && tb) {
      // Name the files inside the directory that changed.
      std::map<std::string, const TreeEntry*> ea, eb;
      for (const auto& e : ta->entries) ea[e.path] = &e;
      for (const auto& e : tb->entries) eb[e.path] = &e;
      for (const auto& [p, e] : eb) {
        auto x = ea.find(p);
        if (x == ea.end()) {
          out.push_back({"input " + label(after, path) + "/" + p, "", EntryName(*e)});
        } else if (!(*x->second == *e)) {
          out.push_back({"input " + label(after, path) + "/" + p, EntryName(*x->second), EntryName(*e)});
        }
      }
      for (const auto& [p, e] : ea) {
        if (!eb.count(p)) out.push_back({"input " + label(after, path) + "/" + p, EntryName(*e), ""});
      }
      continue;
    }
    out.push_back({"input " + label(after, path), it->second->name + (it->second->executable ? " (executable)" : ""),
                   in->name + (in->executable ? " (executable)" : "")});
  }
  for (const auto& [path, in] : a) {
    if (!b.count(path)) out.push_back({"input " + label(before, path), in->name, ""});
  }
  size_t n = std::max(before.args.size(), after.args.size());
  for (size_t i = 0; i < n; ++i) {
    std::string x = i < before.args.size() ? before.args[i] : "", y = i < after.args.size() ? after.args[i] : "";
    if (x != y) out.push_back({"argument " + std::to_string(i), x, y});
  }
  for (const auto& v : after.env) {
    if (std::find(before.env.begin(), before.env.end(), v) == before.env.end()) out.push_back({"environment", "", v});
  }
  for (const auto& v : before.env) {
    if (std::find(after.env.begin(), after.env.end(), v) == after.env.end()) out.push_back({"environment", v, ""});
  }
  if (before.function != after.function) out.push_back({"function", before.function, after.function});
  if (before.timeout_ms != after.timeout_ms) {
    out.push_back({"timeout", std::to_string(before.timeout_ms) + " ms", std::to_string(after.timeout_ms) + " ms"});
  }
  return out;
}

Result<std::string> Explain(LocalStore* store, const std::optional<Trace>& trace, const std::string& what) {
  std::string out;
  std::vector<const Run*> no_runs;
  auto runs_of = [&](const std::string& thunk) {
    std::vector<const Run*> rs;
    if (trace) {
      for (const Run& r : trace->runs) {
        if (r.thunk == thunk) rs.push_back(&r);
      }
    }
    return rs;
  };
  auto produced_by = [&](const std::string& output) -> std::string {
    if (!trace) return "";
    for (const Run& r : trace->runs) {
      if (r.ok() && std::find(r.outputs.begin(), r.outputs.end(), output) != r.outputs.end()) return r.thunk;
    }
    return "";
  };

  // What is asked about: the thunk to start from.
  std::string start;
  struct stat st {};
  if (stat(what.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    GG_ASSIGN_OR_RETURN(auto placeholder, ReadPlaceholder(what));
    if (placeholder) {
      start = placeholder->object().str();
      out += what + " is a placeholder for thunk " + placeholder->str() + "\n";
    } else {
      GG_ASSIGN_OR_RETURN(Name content, HashFile(what));
      start = produced_by(content.str());
      if (start.empty()) {
        GG_ASSIGN_OR_RETURN(auto log, IdentityLog(store->dir() + "/identities").ReadAll());
        for (auto it = log.rbegin(); it != log.rend(); ++it) {
          if (it->output == content) {
            start = it->thunk.str();
            break;
          }
        }
      }
      if (start.empty()) {
        return Status::NotFound(what + " (content " + content.str() +
                                ") is no output of a thunk this store saw run: not built by gg here, or changed since");
      }
      // Walk up tail calls: the thunk the build asked for, which reduced to this one.
      for (int depth = 0; depth < 50; ++depth) {
        std::string up = produced_by(start);
        if (up.empty()) break;
        start = up;
      }
      out += what + " (content " + content.str() + ") was made by thunk " + start + "\n";
    }
  } else {
    auto name = Name::Parse(what);
    if (!name.ok() || !name->is_thunk()) {
      return Status::Invalid("'" + what + "' is neither a file nor a thunk name (T...)");
    }
    start = name->object().str();
  }
  if (!trace) out += "(no trace of a force in this store: only the reductions are known)\n";

  std::string thunk_name = start;
  GG_ASSIGN_OR_RETURN(auto log, IdentityLog(store->dir() + "/identities").ReadAll());
  for (int depth = 0; depth < 50 && !thunk_name.empty(); ++depth) {
    auto thunk = LoadThunk(store, thunk_name);
    std::string fn = thunk && !thunk->args.empty() ? thunk->args[0].substr(thunk->args[0].rfind('/') + 1) : "?";
    out += "\nthunk " + thunk_name + " (" + fn + ")\n";
    if (thunk) out += "  command: " + ShellCommand(thunk->args) + "\n";
    else out += "  (the thunk is not in this store)\n";
    auto parsed = Name::Parse(thunk_name);
    std::optional<Reduction> reduction;
    if (parsed.ok()) {
      GG_ASSIGN_OR_RETURN(reduction, store->reductions().Get(*parsed));
    }
    std::string next;
    if (!reduction) {
      out += "  not reduced\n";
    } else if (reduction->outputs[0].name.is_thunk()) {
      next = reduction->outputs[0].name.object().str();
      out += "  reduced to thunk " + next + " (a tail call: forced in its place)\n";
    } else {
      out += "  reduced to";
      for (const auto& o : reduction->outputs) out += " " + o.name.str() + (o.tag.empty() ? "" : " (" + o.tag + ")");
      out += "\n";
    }

    auto runs = runs_of(thunk_name);
    if (runs.empty()) {
      out += trace ? "  did not run in the last force (memoized, or not part of it)\n" : "";
    } else {
      out += "  ran in the last force: " + std::to_string(runs.size()) + " run" + (runs.size() > 1 ? "s" : "") + "\n";
      const Run* last = runs.back();
      for (const Run* r : runs) {
        out += "    attempt " + std::to_string(r->attempt) + (r->duplicate ? " (straggler copy)" : "") + " on " +
               r->engine + ": " + r->result;
        out += ", running " + Seconds(r->running()) + ", in slot " + Seconds(r->end_us - r->slot_start());
        if (r->queued_us >= 0) out += ", queued " + Seconds(r->slot_start() - r->queued_us);
        out += "\n";
        if (!r->ok() && !r->message.empty()) out += "      why: " + r->message + "\n";
        if (r->ok()) last = r;
      }
      if (!last->ok() && !last->cancelled()) {
        if (!last->exit_status.empty()) out += "  exit status: " + last->exit_status + "\n";
        if (!last->stderr_tail.empty()) out += "  stderr (end):\n" + Indent(last->stderr_tail, "    ");
        out += "  to reproduce by hand: gg execute " + (last->resolved.empty() ? thunk_name : last->resolved) + "\n";
      }
      // Why it was not memoized: the last earlier run of the same job.
      std::string resolved = last->resolved.empty() ? thunk_name : last->resolved;
      auto ran = LoadThunk(store, resolved);
      if (ran) {
        std::string identity = ThunkIdentity(*ran);
        const IdentityEntry* previous = nullptr;
        for (const auto& e : log) {
          if (e.identity != identity) continue;
          if (e.thunk.str() == resolved) break;  // its own record: what came after is later
          previous = &e;
        }
        if (previous == nullptr) {
          out += "  not memoized: no earlier run of the same job (program, work dir and outputs) is recorded "
                 "in this store: a first build, or its command or output path changed\n";
        } else {
          char when[64];
          std::time_t t = previous->unix_time;
          std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&t));
          out += "  not memoized: the last earlier run of the same job was thunk " + previous->thunk.str() + " (" + when +
                 ", output " + previous->output.str() + ")";
          auto before = LoadThunk(store, previous->thunk.str());
          if (!before) {
            out += ";\n    it is no longer in the store (gc?), so what differs is unknown\n";
          } else {
            auto diffs = DiffThunks(store, *before, *ran);
            out += diffs.empty() ? "; nothing differs (its reduction was lost?)\n" : "; what differs:\n";
            for (const auto& d : diffs) {
              out += "    " + d.what + ": " + (d.before.empty() ? "(none)" : Short(d.before)) + " -> " +
                     (d.after.empty() ? "(none)" : Short(d.after)) + "\n";
            }
          }
          if (reduction && reduction->outputs[0].name == previous->output) {
            out += "  it gave the same output as that run, so what uses it did not need to run again\n";
          }
        }
      }
    }
    thunk_name = next;
  }
  return out;
}

}  // namespace gg::report
