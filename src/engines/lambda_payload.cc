#include "engines/lambda_payload.h"

#include <google/protobuf/util/json_util.h>

#include "engines/lambda.pb.h"

namespace gg::lambda {
namespace {

namespace pbu = google::protobuf::util;

std::string ToJson(const google::protobuf::Message& m) {
  std::string out;
  pbu::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  (void)pbu::MessageToJsonString(m, &out, options);
  return out;
}

}  // namespace

std::string ResultToJson(const ExecResult& r, bool hermetic) {
  proto::lambda::Result m;
  EncodeResult(r, &m);
  m.set_hermetic(hermetic);
  return ToJson(m);
}

Result<ExecResult> ResultFromJson(const std::string& json) {
  proto::lambda::Result m;
  pbu::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto st = pbu::JsonStringToMessage(json, &m, options);
  if (!st.ok()) return Status::Corrupt("not a gg-lambda result (" + st.ToString() + ")");
  auto r = DecodeResult(m);
  if (!r.ok()) return r.status().Prefix("not a gg-lambda result");
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
