// The model server: one of a few processes `gg infer` starts beside the
// build, each holding the session (config, toolchain, path map) and the
// store open, so that a model call is a request over the session's socket
// (model_protocol.h) rather than a process that loads all of it again.
#pragma once

#include "core/local_store.h"
#include "models/model_protocol.h"
#include "models/session.h"

namespace gg::models {

/// Environment variable: the session's socket, for gg-model.
inline constexpr char kSocketEnv[] = "GG_MODEL_SOCKET";
/// The session file gg-model reads for commands that run for real without
/// asking the server (the real tools' own calls): "OVERLAID\tREAL\tRESOURCE_DIR".
inline constexpr char kRealToolsFile[] = "/real-tools";

/// Models one command as the caller ran it: in its working directory and
/// environment (this process takes both on, so it serves one call at a time).
ModelReply HandleModelRequest(const Session& s, LocalStore* store, const ModelRequest& request);

/// Accepts connections on `listen_fd` and answers each, until the socket is
/// shut down. Returns the process's exit status.
int ServeModels(const std::string& session_dir, int listen_fd);

}  // namespace gg::models
