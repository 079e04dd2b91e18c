#include "gg/thunk.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <set>

#include "core/gg.pb.h"
#include "core/limits_codec.h"
#include "core/path_index.h"
#include "core/path_util.h"

namespace gg {

std::vector<ThunkInput>& ThunkInputs::edit() {
  if (!list_) {
    list_ = std::make_shared<std::vector<ThunkInput>>();
  } else if (list_.use_count() > 1) {
    list_ = std::make_shared<std::vector<ThunkInput>>(*list_);
  }
  return *list_;
}

const std::vector<ThunkInput>& ThunkInputs::Empty() {
  static const std::vector<ThunkInput> empty;
  return empty;
}

std::string Thunk::Serialize() const {
  proto::Thunk p;
  p.set_version(kThunkFormatVersion);
  p.set_function(function);
  for (const auto& a : args) p.add_args(a);
  for (const auto& e : env) p.add_env(e);
  for (const auto& in : inputs) {
    auto* pi = p.add_inputs();
    pi->set_name(in.name);
    pi->set_path(in.path);
    pi->set_executable(in.executable);
  }
  for (const auto& o : outputs) p.add_outputs(o);
  p.set_timeout_ms(timeout_ms);
  if (workdir != kDefaultWorkdir) p.set_workdir(workdir);
  if (limits.any()) LimitsToProto(limits, p.mutable_limits());

  std::string out(kThunkMagic);
  std::string body;
  google::protobuf::io::StringOutputStream stream(&body);
  {
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    p.SerializeToCodedStream(&coded);
  }
  out += body;
  return out;
}

namespace {

/// Reads the thunk message straight into `t` (wire format: docs/thunk_format.md,
/// core/gg.proto) without protobuf's message objects: every force reads each
/// thunk it runs, and for a compile's thousands of inputs the generic parse
/// and the copy out of its messages were most of the coordinator's time.
/// Reads only what gg writes: the known fields with their wire types, no
/// limits, strings in ASCII. Returns false, leaving the rest to protobuf's
/// parser (which then decides, exactly as before), on anything else: an
/// unknown field, another wire type, a limits message, a string protobuf
/// would check as UTF-8, or bytes that do not parse.
class WireReader {
 public:
  explicit WireReader(std::string_view bytes)
      : p_(reinterpret_cast<const uint8_t*>(bytes.data())), end_(p_ + bytes.size()) {}
  bool done() const { return p_ == end_; }
  const char* pos() const { return reinterpret_cast<const char*>(p_); }
  bool Varint(uint64_t* v) {
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return false;
      uint8_t b = *p_++;
      r |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        *v = r;
        return true;
      }
    }
    return false;  // more than 10 bytes
  }
  /// A length-delimited field's bytes, if all ASCII.
  bool Ascii(std::string_view* out) {
    uint64_t n;
    if (!Varint(&n) || n > static_cast<uint64_t>(end_ - p_)) return false;
    const uint8_t* s = p_;
    p_ += n;
    uint8_t high = 0;
    for (uint64_t i = 0; i < n; ++i) high |= s[i];
    if (high & 0x80) return false;
    *out = std::string_view(reinterpret_cast<const char*>(s), n);
    return true;
  }
  /// Skips a field of wire type 0 or 2; false on any other.
  bool Skip(uint64_t key) {
    uint64_t v;
    if ((key & 7) == 0) return Varint(&v);
    std::string_view s;
    return (key & 7) == 2 && Bytes(&s);
  }
  /// Moves to `to`, a position of the same bytes at or after this one.
  void JumpTo(const char* to) { p_ = reinterpret_cast<const uint8_t*>(to); }
  bool Bytes(std::string_view* out) {
    uint64_t n;
    if (!Varint(&n) || n > static_cast<uint64_t>(end_ - p_)) return false;
    *out = std::string_view(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return true;
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

constexpr uint64_t kVarint = 0, kLength = 2;
/// An input field's key (field 5, length-delimited): one byte, so a byte
/// with this value where a field starts begins an input field.
constexpr uint8_t kInputKey = 5 << 3 | kLength;

bool ParseInput(std::string_view bytes, ThunkInput* in) {
  WireReader r(bytes);
  while (!r.done()) {
    uint64_t key, v;
    std::string_view s;
    if (!r.Varint(&key)) return false;
    switch (key) {
      case 1 << 3 | kLength:
        if (!r.Ascii(&s)) return false;
        in->name.assign(s);
        break;
      case 2 << 3 | kLength:
        if (!r.Ascii(&s)) return false;
        in->path.assign(s);
        break;
      case 3 << 3 | kVarint:
        if (!r.Varint(&v)) return false;
        in->executable = v != 0;
        break;
      default:
        return false;
    }
  }
  return true;
}

/// The input lists of the last few thunks read, each with the exact bytes
/// it was read from and the working directory it was validated under: a
/// thunk with the same bytes there and the same work dir shares the list
/// and skips reading and checking each input again (a build's compiles
/// list the same thousands of headers). Only lists that passed Validate
/// are kept, and a lookup compares every byte, so different inputs never
/// match.
class ValidatedInputs {
 public:
  static ValidatedInputs& Get() {
    static ValidatedInputs* cache = new ValidatedInputs;  // never destroyed: threads may parse until exit
    return *cache;
  }
  /// A kept list found by FindAt: how many bytes its input fields take,
  /// the work dir it was checked under, and the list.
  struct Match {
    size_t length = 0;
    std::string workdir;
    std::shared_ptr<const std::vector<ThunkInput>> list;
  };
  /// The kept list whose bytes `rest` begins with, if they end a run of
  /// input fields there (no input field follows at once). `rest` starts at
  /// the message's first input field: that the work dir is the kept one
  /// too is for the caller to check, once it has read the work dir field.
  std::optional<Match> FindAt(std::string_view rest) {
    std::lock_guard<std::mutex> l(mu_);
    for (const Entry& e : entries_) {
      size_t n = e.bytes.size();
      if (rest.size() >= n && (rest.size() == n || static_cast<uint8_t>(rest[n]) != kInputKey) &&
          std::memcmp(e.bytes.data(), rest.data(), n) == 0) {
        return Match{n, e.workdir, e.list};
      }
    }
    return std::nullopt;
  }
  std::shared_ptr<const std::vector<ThunkInput>> Find(std::string_view bytes, std::string_view workdir) {
    std::lock_guard<std::mutex> l(mu_);
    for (const Entry& e : entries_) {
      if (e.bytes.size() == bytes.size() && e.workdir == workdir &&
          std::memcmp(e.bytes.data(), bytes.data(), bytes.size()) == 0) {
        return e.list;
      }
    }
    return nullptr;
  }
  void Remember(std::string_view bytes, std::string_view workdir, std::shared_ptr<const std::vector<ThunkInput>> list) {
    if (bytes.size() > kMaxBytes || list == nullptr) return;
    Entry e{std::string(bytes), std::string(workdir), std::move(list)};
    std::lock_guard<std::mutex> l(mu_);
    if (entries_.size() == kEntries) entries_.pop_front();
    entries_.push_back(std::move(e));
  }

 private:
  struct Entry {
    std::string bytes, workdir;
    std::shared_ptr<const std::vector<ThunkInput>> list;
  };
  static constexpr size_t kEntries = 4, kMaxBytes = 16 << 20;
  std::mutex mu_;
  std::deque<Entry> entries_;
};

/// What a first pass over the message's fields finds: how many inputs it
/// lists (room is made for them at once: a vector grown input by input
/// moved each one several times), their bytes if they are one run of
/// fields (as gg writes them), the last working directory field, and the
/// kept list those bytes are, if Scan found one.
struct Layout {
  size_t inputs = 0;
  std::string_view inputs_bytes;  ///< empty unless the inputs are consecutive
  std::string_view workdir;
  std::optional<ValidatedInputs::Match> known;
};

/// With `look_up`, a run of input fields that a kept list's bytes begin is
/// compared with them and jumped over at once instead of walked field by
/// field (every run of a compile's thunk reads its thousands of inputs).
Layout Scan(std::string_view bytes, bool look_up = true) {
  WireReader r(bytes);
  Layout l;
  const char* first = nullptr;
  const char* last_end = nullptr;
  bool consecutive = true;
  uint64_t key;
  while (!r.done()) {
    const char* at = r.pos();
    if (look_up && first == nullptr && static_cast<uint8_t>(*at) == kInputKey) {
      l.known = ValidatedInputs::Get().FindAt(std::string_view(at, bytes.data() + bytes.size() - at));
      if (l.known) {
        first = at;
        last_end = at + l.known->length;
        l.inputs = l.known->list->size();
        r.JumpTo(last_end);
        continue;
      }
    }
    std::string_view s;
    if (!r.Varint(&key) || ((key & 7) == kLength ? !r.Bytes(&s) : !r.Skip(key))) break;
    if (key == kInputKey) {
      // Another input after the run kept: these are not its inputs.
      if (l.known) return Scan(bytes, /*look_up=*/false);
      if (first == nullptr) first = at;
      consecutive = consecutive && (last_end == nullptr || last_end == at);
      last_end = r.pos();
      l.inputs++;
    } else if (key == (8 << 3 | kLength)) {
      l.workdir = s;
    }
  }
  if (first != nullptr && consecutive) l.inputs_bytes = std::string_view(first, last_end - first);
  return l;
}

/// Lists shorter than this are read each time: that costs less than
/// keeping them, and they would push the large ones out.
constexpr size_t kMinSharedInputs = 64;

/// What the uses of a large input list would otherwise each find with a
/// pass over all of it (cache misses on thousands of inputs): where the
/// function is (Validate, and the executor for the program's path) and
/// whether any input is a thunk's output (the coordinator). Kept for the
/// last few lists that already had another holder (Thunk::Parse's, or a
/// copy's), each held: a list with another holder is never changed in
/// place (ThunkInputs::edit copies it first), so what was found stays true.
class ListFacts {
 public:
  static constexpr size_t kNone = SIZE_MAX;
  static ListFacts& Get() {
    static ListFacts* facts = new ListFacts;  // never destroyed: threads may ask until exit
    return *facts;
  }
  /// Whether `inputs` is worth keeping facts about.
  static bool Kept(const ThunkInputs& inputs) {
    // One use for the caller's `inputs`, one for the other holder.
    return inputs.size() >= kMinSharedInputs && inputs.shared().use_count() > 2;
  }
  /// The index of the first executable input named `function`, or kNone.
  size_t FunctionIndex(const ThunkInputs& inputs, std::string_view function) {
    std::lock_guard<std::mutex> l(mu_);
    Entry& e = Find(inputs);
    if (!e.function_known || e.function != function) {
      e.function.assign(function);
      e.function_index = FirstExecutable(inputs, function);
      e.function_known = true;
    }
    return e.function_index;
  }
  bool AnyThunkOutput(const ThunkInputs& inputs) {
    std::lock_guard<std::mutex> l(mu_);
    Entry& e = Find(inputs);
    if (e.any_thunk_output < 0) {
      e.any_thunk_output = std::any_of(inputs.begin(), inputs.end(), [](const ThunkInput& in) {
        return in.name.starts_with(static_cast<char>(ObjectType::kThunk));
      });
    }
    return e.any_thunk_output > 0;
  }
  static size_t FirstExecutable(const ThunkInputs& inputs, std::string_view function) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (inputs[i].executable && inputs[i].name == function) return i;
    }
    return kNone;
  }

 private:
  struct Entry {
    std::shared_ptr<const std::vector<ThunkInput>> list;
    bool function_known = false;
    std::string function;
    size_t function_index = kNone;
    int any_thunk_output = -1;  // -1: not looked at yet
  };
  Entry& Find(const ThunkInputs& inputs) {
    std::shared_ptr<const std::vector<ThunkInput>> list = inputs.shared();
    for (Entry& e : entries_) {
      if (e.list == list) return e;
    }
    if (entries_.size() == kEntries) entries_.pop_front();
    entries_.push_back({std::move(list)});
    return entries_.back();
  }
  static constexpr size_t kEntries = 4;
  std::mutex mu_;
  std::deque<Entry> entries_;
};

/// Fills `t` from gg's own encoding; false leaves it to ParseGeneric.
/// `known` (when not null) is the list already read and validated from the
/// same inputs bytes under the same work dir: the input fields are skipped,
/// all at once (Scan found where they end).
bool ParseWritten(std::string_view bytes, const Layout& layout, std::shared_ptr<const std::vector<ThunkInput>> known,
                  Thunk* t, uint32_t* version) {
  std::vector<ThunkInput>* inputs = nullptr;
  const char* skip_from = nullptr;
  if (known) {
    t->inputs = ThunkInputs(std::move(known));
    skip_from = layout.inputs_bytes.data();
  } else if (layout.inputs > 0) {
    inputs = &t->inputs.edit();
    inputs->reserve(layout.inputs);
  }
  WireReader r(bytes);
  std::string workdir;
  while (!r.done()) {
    uint64_t key, v;
    std::string_view s;
    if (r.pos() == skip_from) {
      r.JumpTo(skip_from + layout.inputs_bytes.size());
      continue;
    }
    if (!r.Varint(&key)) return false;
    switch (key) {
      case 1 << 3 | kVarint:
        if (!r.Varint(&v)) return false;
        *version = static_cast<uint32_t>(v);
        break;
      case 2 << 3 | kLength:
        if (!r.Ascii(&s)) return false;
        t->function.assign(s);
        break;
      case 3 << 3 | kLength:
        if (!r.Ascii(&s)) return false;
        t->args.emplace_back(s);
        break;
      case 4 << 3 | kLength:
        if (!r.Ascii(&s)) return false;
        t->env.emplace_back(s);
        break;
      case 5 << 3 | kLength:
        if (!r.Bytes(&s)) return false;
        if (inputs != nullptr && !ParseInput(s, &inputs->emplace_back())) return false;
        break;
      case 6 << 3 | kLength:
        if (!r.Ascii(&s)) return false;
        t->outputs.emplace_back(s);
        break;
      case 7 << 3 | kVarint:
        if (!r.Varint(&v)) return false;
        t->timeout_ms = v;
        break;
      case 8 << 3 | kLength:
        if (!r.Ascii(&s)) return false;
        workdir.assign(s);
        break;
      default:
        return false;
    }
  }
  t->workdir = workdir.empty() ? std::string(kDefaultWorkdir) : std::move(workdir);
  return true;
}

/// The same through protobuf's parser, for whatever ParseWritten leaves.
Result<Thunk> ParseGeneric(std::string_view bytes, uint32_t* version, bool* empty_limits) {
  // On an arena in one block: a message and two strings allocated and
  // freed for each input made up most of the parse.
  google::protobuf::ArenaOptions arena_options;
  // ~3x the wire size, measured; no more at once for a thunk of one huge string.
  arena_options.start_block_size = std::min<size_t>(3 * bytes.size() + 4096, size_t{16} << 20);
  arena_options.max_block_size = arena_options.start_block_size;
  google::protobuf::Arena arena(arena_options);
  proto::Thunk& p = *google::protobuf::Arena::CreateMessage<proto::Thunk>(&arena);
  if (bytes.size() > static_cast<size_t>(INT_MAX) || !p.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Status::Corrupt("malformed thunk: the protobuf message does not parse");
  }
  *version = p.version();
  Thunk t;
  t.function = p.function();
  t.args.assign(p.args().begin(), p.args().end());
  t.env.assign(p.env().begin(), p.env().end());
  t.inputs.reserve(p.inputs_size());
  for (const auto& pi : p.inputs()) t.inputs.push_back({pi.name(), pi.path(), pi.executable()});
  t.outputs.assign(p.outputs().begin(), p.outputs().end());
  t.timeout_ms = p.timeout_ms();
  t.workdir = p.workdir().empty() ? std::string(kDefaultWorkdir) : p.workdir();
  if (p.has_limits()) {
    t.limits = LimitsFromProto(p.limits());
    *empty_limits = !t.limits.any();
  }
  return t;
}

}  // namespace

Result<Thunk> Thunk::Parse(std::string_view bytes) {
  if (!bytes.starts_with(kThunkMagic)) {
    return Status::Corrupt("not a thunk: the thunk magic header is missing");
  }
  bytes.remove_prefix(kThunkMagic.size());
  uint32_t version = 0;
  bool empty_limits = false;
  Thunk t;
  Layout layout = Scan(bytes);
  std::string_view workdir = layout.workdir.empty() ? kDefaultWorkdir : layout.workdir;
  bool shareable = layout.inputs >= kMinSharedInputs && !layout.inputs_bytes.empty();
  std::shared_ptr<const std::vector<ThunkInput>> known;
  if (layout.known && layout.known->workdir == workdir) {
    known = layout.known->list;
  } else if (shareable) {
    known = ValidatedInputs::Get().Find(layout.inputs_bytes, workdir);
  }
  bool inputs_valid = known != nullptr;
  if (!ParseWritten(bytes, layout, std::move(known), &t, &version)) {
    version = 0;
    inputs_valid = shareable = false;
    GG_ASSIGN_OR_RETURN(t, ParseGeneric(bytes, &version, &empty_limits));
  }
  if (version == 0) {
    return Status::Corrupt(bytes.empty() ? "malformed thunk: the body after the magic header is empty"
                                         : "malformed thunk: it has no format version (truncated or not written by gg)");
  }
  if (version != kThunkFormatVersion) {
    return Status::Corrupt("thunk format version " + std::to_string(version) +
                           " is not supported (this gg reads version " +
                           std::to_string(kThunkFormatVersion) + "); upgrade gg");
  }
  // An empty limits message would give the same thunk a second name.
  if (empty_limits) return Status::Corrupt("malformed thunk: its limits message sets no limit");
  if (Status st = t.Check(/*check_inputs=*/!inputs_valid); !st.ok()) {
    return Status::Corrupt("malformed thunk: " + st.message());
  }
  if (shareable && !inputs_valid) ValidatedInputs::Get().Remember(layout.inputs_bytes, workdir, t.inputs.shared());
  return t;
}

Result<uint64_t> TimeoutMsFromSeconds(double seconds) {
  if (seconds == 0) return uint64_t{0};
  if (!std::isfinite(seconds) || seconds < 0.001 || seconds > kMaxTimeoutMs / 1000.0) {
    return Status::Invalid("a timeout must be 0 (none) or from 0.001 s to " + std::to_string(kMaxTimeoutMs / 1000) +
                           " s (30 days), not " + std::to_string(seconds));
  }
  return static_cast<uint64_t>(std::llround(seconds * 1000));
}

Status ValidateLimits(const ThunkLimits& l) {
  // Beyond this a size means nothing to the kernel (tmpfs refuses it), and
  // the run would fail in set-up, as if the machine were at fault.
  constexpr uint64_t kMaxBytes = 1ull << 50;
  const std::pair<const char*, uint64_t> sizes[] = {{"memory", l.memory_bytes},
                                                    {"tmp", l.tmp_bytes},
                                                    {"file", l.file_bytes},
                                                    {"workdir", l.workdir_bytes}};
  for (const auto& [what, v] : sizes) {
    if (v > kMaxBytes) {
      return Status::Invalid("the " + std::string(what) + " limit of " + std::to_string(v) +
                             " bytes is above the maximum of 1 PiB");
    }
  }
  if (l.memory_bytes != 0 && l.memory_bytes < kMinMemoryLimit) {
    return Status::Invalid("a memory limit of " + std::to_string(l.memory_bytes) +
                           " bytes is too small for any program to start (at least 16 MiB)");
  }
  if (l.processes > (1u << 22)) {
    return Status::Invalid("the process limit of " + std::to_string(l.processes) + " is above the maximum of 4194304");
  }
  return Status::Ok();
}

Name Thunk::name() const { return Name::ForContent(Serialize()); }

Status Thunk::Validate() const { return Check(/*check_inputs=*/true); }

Status Thunk::Check(bool check_inputs) const {
  if (args.empty()) return Status::Invalid("argv is empty (argv[0] is required)");
  // A NUL would silently cut the string where the kernel reads it.
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].find('\0') != std::string::npos) {
      return Status::Invalid("argument " + std::to_string(i) + " contains a NUL byte, which a program cannot receive");
    }
  }
  if (function.find('\0') != std::string::npos) return Status::Invalid("the function name contains a NUL byte");
  if (timeout_ms > kMaxTimeoutMs) {
    return Status::Invalid("timeout of " + std::to_string(timeout_ms) + " ms is longer than the maximum of " +
                           std::to_string(kMaxTimeoutMs / 1000) + " s");
  }
  if (Status s = ValidateLimits(limits); !s.ok()) return s;
  std::string wd = effective_workdir();
  if (!IsCleanAbsolutePath(wd) || wd == "/") {
    return Status::Invalid("working directory '" + wd + "' must be a clean absolute path other than /");
  }
  // Where each input is seen, as a view into its path: relative to the work
  // dir for those below it (relative paths never start with '/', so they
  // cannot equal an absolute one elsewhere). No string is built per input:
  // every force checks this.
  std::string_view below = wd;
  auto place = [&](std::string_view p) {
    if (p.size() > below.size() + 1 && p.starts_with(below) && p[below.size()] == '/') p.remove_prefix(below.size() + 1);
    return p;
  };
  // Inputs in order of their places (relative and absolute ones each, as
  // gg writes them) cannot share one: an index of the places is made only
  // from the first input out of that order.
  std::optional<PathIndex> seen;
  std::string_view last_relative, last_absolute;
  for (size_t i = 0; check_inputs && i < inputs.size(); ++i) {
    const ThunkInput& in = inputs[i];
    if (!Name::Valid(in.name)) return Name::Parse(in.name).status();
    if (in.path.empty()) return Status::Invalid("input " + in.name + " has no path");
    std::string_view p = in.path;
    if (IsCleanAbsolutePath(p) && p != "/") {
      p = place(p);
    } else if (!IsCleanRelativePath(p)) {
      return Status::Invalid("input path '" + in.path + "' must be a clean relative path or an absolute path other than /");
    }
    if (!seen) {
      std::string_view& last = p.starts_with('/') ? last_absolute : last_relative;
      if (last.empty() || last < p) {
        last = p;
        continue;
      }
      seen.emplace(inputs.size());
      for (size_t k = 0; k < i; ++k) seen->Insert(place(inputs[k].path), k);
    }
    if (seen->Insert(p, i) != i) return Status::Invalid("two inputs share the path '" + in.path + "'");
  }
  const ThunkInput* fn = FunctionInput();
  if (fn == nullptr) {
    return Status::Invalid("the function " + function + " is not among the executable inputs");
  }
  if (outputs.empty()) return Status::Invalid("a thunk needs at least one output");
  std::set<std::string> tags;
  for (const auto& o : outputs) {
    if (!IsCleanRelativePath(o)) return Status::Invalid("output tag '" + o + "' must be a clean relative path");
    if (!tags.insert(o).second) return Status::Invalid("output tag '" + o + "' appears twice");
  }
  for (const auto& e : env) {
    if (e.find('\0') != std::string::npos) {
      return Status::Invalid("environment entry '" + e.substr(0, e.find('\0')) + "...' contains a NUL byte");
    }
    size_t eq = e.find('=');
    if (eq == std::string::npos) return Status::Invalid("environment entry '" + e + "' has no '=' (write NAME=VALUE)");
    if (eq == 0) return Status::Invalid("environment entry '" + e + "' has an empty name (write NAME=VALUE)");
  }
  return Status::Ok();
}

std::string Thunk::SandboxPath(const ThunkInput& input) const {
  if (!input.path.empty() && input.path[0] == '/') return input.path;
  return effective_workdir() + "/" + input.path;
}

const ThunkInput* Thunk::FunctionInput() const {
  size_t i = ListFacts::Kept(inputs) ? ListFacts::Get().FunctionIndex(inputs, function)
                                     : ListFacts::FirstExecutable(inputs, function);
  return i == ListFacts::kNone ? nullptr : &inputs[i];
}

Result<std::string> Thunk::ExpandPlaceholders(std::string_view text) const {
  static constexpr std::string_view kOpen = "@{GG:";
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t start = text.find(kOpen, pos);
    if (start == std::string_view::npos) break;
    size_t end = text.find('}', start);
    if (end == std::string_view::npos) break;
    std::string_view name = text.substr(start + kOpen.size(), end - start - kOpen.size());
    const ThunkInput* found = nullptr;
    for (const auto& in : inputs) {
      if (in.name == name) found = &in;
    }
    if (found == nullptr) {
      return Status::Invalid("placeholder @{GG:" + std::string(name) + "} names no input of the thunk");
    }
    out += text.substr(pos, start - pos);
    out += SandboxPath(*found);
    pos = end + 1;
  }
  out += text.substr(pos);
  return out;
}

std::vector<Name> Thunk::ThunkDependencies() const {
  std::vector<Name> deps;
  if (ListFacts::Kept(inputs) && !ListFacts::Get().AnyThunkOutput(inputs)) return deps;
  for (const auto& in : inputs) {
    // Most inputs are values or trees: their letter says so without a parse.
    if (!in.name.starts_with(static_cast<char>(ObjectType::kThunk))) continue;
    auto n = Name::Parse(in.name);
    if (n.ok() && n->is_thunk()) deps.push_back(*n);
  }
  return deps;
}

}  // namespace gg
