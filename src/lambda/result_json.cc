#include "lambda/result_json.h"

#include <google/protobuf/util/json_util.h>

#include "lambda/lambda.pb.h"

namespace gg::lambda {
namespace {

namespace pbu = google::protobuf::util;

const std::pair<ExecResult::Kind, const char*> kKinds[] = {
    {ExecResult::Kind::kOk, "ok"},
    {ExecResult::Kind::kNonzeroExit, "nonzero_exit"},
    {ExecResult::Kind::kSignaled, "signaled"},
    {ExecResult::Kind::kMissingOutput, "missing_output"},
    {ExecResult::Kind::kTimedOut, "timed_out"},
    {ExecResult::Kind::kSetupFailed, "setup_failed"},
    {ExecResult::Kind::kCrashed, "crashed"},
    {ExecResult::Kind::kCancelled, "cancelled"},
};

std::string ToJson(const google::protobuf::Message& m) {
  std::string out;
  pbu::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  (void)pbu::MessageToJsonString(m, &out, options);
  return out;
}

}  // namespace

std::string KindToString(ExecResult::Kind kind) {
  for (const auto& [k, s] : kKinds) {
    if (k == kind) return s;
  }
  return "crashed";
}

std::string ResultToJson(const ExecResult& r, bool hermetic) {
  proto::lambda::Result m;
  m.set_kind(KindToString(r.kind));
  m.set_exit_code(r.exit_code);
  m.set_signal(r.signal);
  m.set_message(r.message);
  m.set_stdout_tail(r.stdout_tail);
  m.set_stderr_tail(r.stderr_tail);
  m.set_seconds(r.reduction.seconds);
  m.set_hermetic(hermetic);
  for (const auto& o : r.reduction.outputs) {
    auto* out = m.add_outputs();
    out->set_tag(o.tag);
    out->set_name(o.name.str());
    out->set_executable(o.executable);
  }
  return ToJson(m);
}

Result<ExecResult> ResultFromJson(const std::string& json) {
  proto::lambda::Result m;
  pbu::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto st = pbu::JsonStringToMessage(json, &m, options);
  if (!st.ok()) return Status::Corrupt("not a gg-lambda result (" + st.ToString() + ")");
  ExecResult r;
  bool known = false;
  for (const auto& [k, s] : kKinds) {
    if (m.kind() == s) {
      r.kind = k;
      known = true;
    }
  }
  if (!known) return Status::Corrupt("not a gg-lambda result (kind '" + m.kind() + "')");
  r.exit_code = m.exit_code();
  r.signal = m.signal();
  r.message = m.message();
  r.stdout_tail = m.stdout_tail();
  r.stderr_tail = m.stderr_tail();
  r.reduction.seconds = m.seconds();
  for (const auto& o : m.outputs()) {
    GG_ASSIGN_OR_RETURN(Name name, Name::Parse(o.name()));
    r.reduction.outputs.push_back({o.tag(), name, o.executable()});
  }
  if (r.ok() && r.reduction.outputs.empty()) return Status::Corrupt("a gg-lambda result of kind ok has no outputs");
  return r;
}

std::string EventToJson(const std::string& thunk_bytes, const std::vector<Name>& objects,
                        const std::string& storage_uri) {
  proto::lambda::Event m;
  m.set_version(1);
  m.set_thunk(thunk_bytes);
  for (const Name& n : objects) m.add_objects(n.str());
  m.set_storage(storage_uri);
  return ToJson(m);
}

}  // namespace gg::lambda
