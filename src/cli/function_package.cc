#include "cli/function_package.h"

#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <cstdio>
#include <cstdlib>

#include "core/path_util.h"
#include "lambda/package.h"

namespace gg::cli {
namespace {

std::string DirOfSelf() {
  char exe[4096] = {};
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  std::string path = n > 0 ? std::string(exe, n) : "";
  return path.substr(0, path.rfind('/'));
}

bool IsExecutable(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

}  // namespace

bool ParsePackageArgs(int argc, char** argv, const char* command, std::string* output, std::string* executor) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if ((a == "--output" || a == "-o") && i + 1 < argc) {
      *output = argv[++i];
    } else if (a.starts_with("--output=")) {
      *output = a.substr(9);
    } else if (a == "--executor" && i + 1 < argc) {
      *executor = argv[++i];
    } else if (a.starts_with("--executor=")) {
      *executor = a.substr(11);
    } else {
      std::fprintf(stderr, "gg: %s: unexpected '%s'\n", command, a.c_str());
      return false;
    }
  }
  return true;
}

Result<std::string> FindExecutor(const std::string& flag) {
  if (!flag.empty()) {
    if (!IsExecutable(flag)) return Status::NotFound("--executor " + flag + " is not an executable file");
    return flag;
  }
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("GG_LAMBDA_EXECUTOR"); env != nullptr && *env != '\0') candidates.push_back(env);
  std::string dir = DirOfSelf();
  candidates.push_back(dir + "/gg-lambda");
  candidates.push_back(dir + "/../lambda/gg-lambda");
  candidates.push_back(dir + "/../libexec/gg/gg-lambda");
  candidates.push_back(lambda::kExecutorBuiltAt);
  for (const auto& c : candidates) {
    if (IsExecutable(c)) return c;
  }
  return Status::NotFound("cannot find gg-lambda (looked beside gg and at " + std::string(lambda::kExecutorBuiltAt) +
                          "): build it (target gg-lambda) or pass --executor PATH");
}

Status WriteZip(const std::string& out, const std::vector<PackageFile>& files) {
  int err = 0;
  zip_t* z = zip_open(out.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  if (z == nullptr) {
    zip_error_t e;
    zip_error_init_with_code(&e, err);
    Status s = Status::Io("cannot create " + out + ": " + zip_error_strerror(&e));
    zip_error_fini(&e);
    return s;
  }
  auto fail = [&](const std::string& what) {
    Status s = Status::Io(what + " in " + out + ": " + zip_strerror(z));
    zip_discard(z);
    unlink(out.c_str());
    return s;
  };
  for (const auto& f : files) {
    zip_source_t* src = f.source.empty() ? zip_source_buffer(z, f.text.data(), f.text.size(), 0)
                                         : zip_source_file(z, f.source.c_str(), 0, -1);
    zip_int64_t i = src == nullptr ? -1 : zip_file_add(z, f.name.c_str(), src, ZIP_FL_OVERWRITE);
    if (i < 0) {
      if (src != nullptr) zip_source_free(src);
      return fail("adding " + (f.source.empty() ? f.name : f.source));
    }
    // Unix modes: Lambda keeps the executable bit from the zip.
    if (zip_file_set_external_attributes(z, i, 0, ZIP_OPSYS_UNIX, (0100000u | f.mode) << 16) < 0) {
      return fail("setting the mode of " + f.name);
    }
  }
  // The buffers above are read here, while `files` is alive.
  if (zip_close(z) < 0) return fail("writing");
  return Status::Ok();
}

Status WriteDirectory(const std::string& out, const std::vector<PackageFile>& files) {
  GG_RETURN_IF_ERROR(MakeDirs(out));
  for (const auto& f : files) {
    std::string content = f.text;
    if (!f.source.empty()) {
      GG_ASSIGN_OR_RETURN(content, ReadFile(f.source));
    }
    GG_RETURN_IF_ERROR(WriteFileAtomic(out + "/" + f.name, content, static_cast<int>(f.mode)));
  }
  return Status::Ok();
}

}  // namespace gg::cli
