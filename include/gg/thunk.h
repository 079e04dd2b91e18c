// A thunk: a deterministic program invocation over named inputs. This is the
// public C++ view of the format; programs build thunks with it, serialize
// them, and name them by the hash of their bytes. See docs/thunk_format.md.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gg/name.h"
#include "gg/status.h"

namespace gg {

/// An object the thunk may see and where it sees it.
struct ThunkInput {
  std::string name;          ///< V.../D... object, or T.../T...#tag thunk output
  std::string path;          ///< relative: under workdir; absolute: in the sandbox
  bool executable = false;   ///< materialized with mode 0555

  bool operator==(const ThunkInput&) const = default;
};

/// A thunk's inputs: a std::vector<ThunkInput> whose storage is shared by
/// copies (copy-on-write). Thunk::Parse hands every thunk read from the
/// same inputs bytes one list, already validated: a build's thunks mostly
/// list the same thousands of headers, and a list of its own per thunk
/// (a string per name, in fresh memory) was most of a large thunk's start.
/// Reads go to the shared list; anything non-const (push_back, a non-const
/// [] or loop) first takes a private copy if the list is shared, so a
/// change is never seen by another thunk. As with any copy-on-write list,
/// a reference got from a non-const access is only valid until the list
/// is next copied.
class ThunkInputs {
 public:
  using value_type = ThunkInput;
  using const_iterator = std::vector<ThunkInput>::const_iterator;
  using iterator = std::vector<ThunkInput>::iterator;

  ThunkInputs() = default;
  ThunkInputs(std::vector<ThunkInput> list)  // NOLINT: a vector is a list of inputs
      : list_(std::make_shared<std::vector<ThunkInput>>(std::move(list))) {}
  ThunkInputs(std::initializer_list<ThunkInput> list) : ThunkInputs(std::vector<ThunkInput>(list)) {}
  /// Shares `list` (Thunk::Parse's cache).
  explicit ThunkInputs(std::shared_ptr<const std::vector<ThunkInput>> list)
      : list_(std::const_pointer_cast<std::vector<ThunkInput>>(std::move(list))) {}

  const std::vector<ThunkInput>& list() const { return list_ ? *list_ : Empty(); }
  operator const std::vector<ThunkInput>&() const { return list(); }  // NOLINT: reads as the vector
  /// The storage, for caches keyed by it (nullptr when empty).
  std::shared_ptr<const std::vector<ThunkInput>> shared() const { return list_; }

  size_t size() const { return list().size(); }
  bool empty() const { return list().empty(); }
  const_iterator begin() const { return list().begin(); }
  const_iterator end() const { return list().end(); }
  const_iterator cbegin() const { return begin(); }
  const_iterator cend() const { return end(); }
  const ThunkInput& operator[](size_t i) const { return list()[i]; }
  const ThunkInput& front() const { return list().front(); }
  const ThunkInput& back() const { return list().back(); }

  /// The list to change, made this thunk's own first.
  std::vector<ThunkInput>& edit();
  iterator begin() { return edit().begin(); }
  iterator end() { return edit().end(); }
  ThunkInput& operator[](size_t i) { return edit()[i]; }
  ThunkInput& back() { return edit().back(); }
  void push_back(ThunkInput in) { edit().push_back(std::move(in)); }
  template <typename... A>
  ThunkInput& emplace_back(A&&... a) {
    return edit().emplace_back(std::forward<A>(a)...);
  }
  /// Inserts [first, last) before `pos` (an iterator of this list).
  template <typename It>
  void insert(const_iterator pos, It first, It last) {
    size_t at = static_cast<size_t>(pos - begin());
    std::vector<ThunkInput>& v = edit();
    v.insert(v.begin() + static_cast<std::ptrdiff_t>(at), first, last);
  }
  void reserve(size_t n) { edit().reserve(n); }
  void clear() { list_.reset(); }

  bool operator==(const ThunkInputs& o) const { return list_ == o.list_ || list() == o.list(); }
  bool operator==(const std::vector<ThunkInput>& o) const { return list() == o; }

 private:
  static const std::vector<ThunkInput>& Empty();
  std::shared_ptr<std::vector<ThunkInput>> list_;
};

/// What one run of a thunk may use; 0 leaves a limit to the force (`gg force
/// --limit-*`, then GG_LIMIT_*, then the default: docs/sandbox.md, "Limits").
struct ThunkLimits {
  uint64_t memory_bytes = 0;   ///< address space
  uint64_t processes = 0;      ///< processes at once
  uint64_t tmp_bytes = 0;      ///< size of /tmp and of /dev/shm, each
  uint64_t file_bytes = 0;     ///< largest file it may write
  uint64_t workdir_bytes = 0;  ///< total size of what it writes in its working directory

  bool any() const { return memory_bytes || processes || tmp_bytes || file_bytes || workdir_bytes; }
  bool operator==(const ThunkLimits&) const = default;
};

/// The smallest memory limit a thunk may ask for.
inline constexpr uint64_t kMinMemoryLimit = 16ull << 20;
/// Sizes up to 1 PiB, a memory limit of at least 16 MiB, processes up to
/// 2^22 (the kernel's pid maximum); 0 (no limit of its own) is always valid.
Status ValidateLimits(const ThunkLimits& limits);

inline constexpr std::string_view kDefaultWorkdir = "/work";
inline constexpr uint32_t kThunkFormatVersion = 1;
/// The longest timeout a thunk may have: 30 days.
inline constexpr uint64_t kMaxTimeoutMs = 30ull * 24 * 3600 * 1000;

/// A timeout given in seconds as milliseconds: 0 (no limit), or a finite
/// number from 0.001 (1 ms) to 30 days; anything else is an error.
Result<uint64_t> TimeoutMsFromSeconds(double seconds);

struct Thunk {
  std::string function;            ///< name of the executable; also in `inputs`
  std::vector<std::string> args;   ///< argv, argv[0] included
  std::vector<std::string> env;    ///< NAME=VALUE; the whole environment
  ThunkInputs inputs;
  std::vector<std::string> outputs;  ///< tags, files left in workdir; first is the main one
  uint64_t timeout_ms = 0;           ///< 0: no limit; at most kMaxTimeoutMs
  std::string workdir;               ///< absolute; empty means /work
  ThunkLimits limits;                ///< none set: not serialized (the name stays as without)

  // Building (each returns *this, so calls chain). One call covers every kind
  // of input, since the name says what it is: a value (V...), a tree (D...),
  // or a thunk's output (T... for the first, T...#tag for another).

  /// Makes `exe` (a value) the program to run, seen at `path`.
  Thunk& SetFunction(const Name& exe, std::string path) {
    function = exe.str();
    return AddInput(exe, std::move(path), /*executable=*/true);
  }
  /// Lets the thunk see `object` at `path` (relative: under the workdir).
  Thunk& AddInput(const Name& object, std::string path, bool executable = false) {
    inputs.push_back({object.str(), std::move(path), executable});
    return *this;
  }
  /// "@{GG:NAME}": in args and env, replaced by where input NAME is seen.
  static std::string Placeholder(const Name& input) { return "@{GG:" + input.str() + "}"; }

  /// The magic header followed by the protobuf message.
  std::string Serialize() const;
  /// Parses and validates; errors say what is malformed.
  static Result<Thunk> Parse(std::string_view bytes);
  /// The thunk's name: the hash of Serialize().
  Name name() const;

  /// Checks the invariants Parse relies on (names parse, paths are sane,
  /// the function is an executable input, outputs are unique).
  Status Validate() const;

  std::string effective_workdir() const {
    return workdir.empty() ? std::string(kDefaultWorkdir) : workdir;
  }
  /// Where an input is seen inside the sandbox, as an absolute path.
  std::string SandboxPath(const ThunkInput& input) const;
  /// Replaces every `@{GG:NAME}` in `text` by the sandbox path of input NAME.
  Result<std::string> ExpandPlaceholders(std::string_view text) const;
  /// The input that holds the function, or nullptr.
  const ThunkInput* FunctionInput() const;
  /// Names of the thunks whose outputs this thunk consumes.
  std::vector<Name> ThunkDependencies() const;

  bool operator==(const Thunk&) const = default;

 private:
  /// Validate, leaving out the checks of each input when `check_inputs` is
  /// false (Parse: a list it validated before under the same work dir).
  Status Check(bool check_inputs) const;
};

}  // namespace gg
