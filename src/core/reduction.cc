#include "core/reduction.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "core/path_util.h"

namespace gg {

static constexpr std::string_view kHeader = "gg-reduction 1\n";

std::string Reduction::Serialize() const {
  std::string out(kHeader);
  char buf[64];
  std::snprintf(buf, sizeof buf, "seconds %.6f\n", seconds);
  out += buf;
  for (const auto& o : outputs) {
    out += "out " + o.name.str() + (o.executable ? " 755 " : " 644 ") + o.tag + "\n";
  }
  return out;
}

Result<Reduction> Reduction::Parse(std::string_view text) {
  if (!text.starts_with(kHeader)) return Status::Corrupt("reduction record has no 'gg-reduction 1' header");
  text.remove_prefix(kHeader.size());
  Reduction r;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    if (nl == std::string_view::npos) return Status::Corrupt("reduction record is truncated");
    std::string line(text.substr(0, nl));
    text.remove_prefix(nl + 1);
    if (line.starts_with("seconds ")) {
      r.seconds = std::strtod(line.c_str() + 8, nullptr);
    } else if (line.starts_with("out ")) {
      size_t a = line.find(' ', 4);
      size_t b = a == std::string::npos ? a : line.find(' ', a + 1);
      if (b == std::string::npos) return Status::Corrupt("bad output line in reduction: " + line);
      auto name = Name::Parse(line.substr(4, a - 4));
      if (!name.ok()) return Status::Corrupt("bad output name in reduction: " + name.status().message());
      r.outputs.push_back({line.substr(b + 1), *name, line.substr(a + 1, b - a - 1) == "755"});
    }
  }
  if (r.outputs.empty()) return Status::Corrupt("reduction record lists no outputs");
  return r;
}

const ReductionOutput* Reduction::Find(const std::string& tag) const {
  if (tag.empty()) return outputs.empty() ? nullptr : &outputs[0];
  for (const auto& o : outputs) {
    if (o.tag == tag) return &o;
  }
  return nullptr;
}

Result<std::optional<Reduction>> ReductionStore::Get(const Name& thunk) const {
  auto text = ReadFile(dir_ + "/" + thunk.object().str());
  if (!text.ok()) {
    if (text.status().code() == Status::Code::kNotFound) return std::optional<Reduction>();
    return text.status();
  }
  auto r = Reduction::Parse(*text);
  if (!r.ok()) {
    // A damaged record is a miss: the thunk simply runs again.
    return std::optional<Reduction>();
  }
  return std::optional<Reduction>(std::move(*r));
}

Status ReductionStore::Put(const Name& thunk, const Reduction& r) const {
  return WriteFileAtomic(dir_ + "/" + thunk.object().str(), r.Serialize());
}

Status ReductionStore::Remove(const Name& thunk) const {
  if (unlink((dir_ + "/" + thunk.object().str()).c_str()) != 0 && errno != ENOENT) {
    return Status::FromErrno("cannot remove reduction of " + thunk.str(), errno);
  }
  return Status::Ok();
}

Result<std::vector<Name>> ReductionStore::List() const {
  GG_ASSIGN_OR_RETURN(auto entries, ListDirectory(dir_));
  std::vector<Name> out;
  for (const auto& e : entries) {
    if (e.find(".tmp.") != std::string::npos) continue;
    if (auto n = Name::Parse(e); n.ok()) out.push_back(*n);
  }
  return out;
}

}  // namespace gg
