// The S3-compatible store: objects and reductions as S3 objects under
// `<prefix>/blobs/` and `<prefix>/reductions/`, through S3Client. Objects
// larger than kMultipartThreshold go up as multipart uploads.
// See docs/storage.md.
#pragma once

#include <memory>

#include "storage/s3_client.h"
#include "storage/storage.h"
#include "storage/uri.h"

namespace gg {

inline constexpr uint64_t kMultipartThreshold = 64ull << 20;
inline constexpr uint64_t kMinPartSize = 16ull << 20;

/// Builds the configuration for `s3://bucket[/prefix]?region=R&endpoint=URL`
/// or `gs://bucket[/prefix]`, with credentials from the environment.
Result<S3Config> ParseS3Uri(const ParsedUri& uri);

Result<std::unique_ptr<Storage>> OpenS3Storage(const ParsedUri& uri);
std::unique_ptr<Storage> NewS3Storage(S3Config config);

}  // namespace gg
