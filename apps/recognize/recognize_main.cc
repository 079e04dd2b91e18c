// recognize: the front end of the recognition pipeline, written with gg's
// C++ SDK. It builds the graph (decode chunks, recognize groups of frames,
// the dynamic scan stage, merge), forces it and writes the JSON lines.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "gg/gg.h"
#include "spec.h"

namespace rec {
namespace {

constexpr char kUsage[] =
    "usage: recognize VIDEO -o RESULTS.jsonl [--model ocr|faces|people] [--model-file F]\n"
    "                 [--frames-per-thunk N] [--frames-per-decode M] [--find TEXT]\n"
    "                 [-j N] [--engine E]... [--secret-file F] [--storage URI] [--trace FILE]\n"
    "                 [--sequential]\n\n"
    "Decodes VIDEO (anything ffmpeg reads) in chunks of M frames (default 32), recognizes\n"
    "every group of N frames (default 1) in its own thunk, and with --find looks closer\n"
    "(cropped, scaled up) at the frames that match: OCR text containing TEXT, or any\n"
    "detection for faces/people. Writes one JSON line per frame, sorted. --sequential\n"
    "runs the same programs one after another without gg, for comparison.\n"
    "Models: ocr (default; --model-file defaults to Tesseract's eng.traineddata), faces\n"
    "(OpenCV's haarcascade_frontalface_default.xml), people (OpenCV's HOG, no file).\n"
    "-j N, --engine, --secret-file, --storage and --trace are gg force's (docs/engines.md).\n"
    "Progress goes to stderr when it is a terminal. See apps/recognize/README.md.\n"
    "The store is $GG_DIR, else the nearest .gg, else ./.gg (created).\n";

int Fail(const std::string& msg) {
  std::fprintf(stderr, "recognize: %s\n", msg.c_str());
  return 1;
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

/// Runs a shell command; its stdout, or nullopt (stderr is the user's).
std::optional<std::string> Capture(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(command.c_str(), "r"), pclose);
  if (!p) return std::nullopt;
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p.get())) > 0) out.append(buf, n);
  if (pclose(p.release()) != 0) return std::nullopt;
  return out;
}

std::string Here() {
  std::error_code ec;
  return std::filesystem::read_symlink("/proc/self/exe", ec).parent_path().string();
}

std::string Which(const std::string& program) {
  auto out = Capture("command -v " + Quote(program));
  if (!out || out->empty()) return "";
  return out->substr(0, out->find('\n'));
}

/// A program and the shared libraries it loads (by ldd), each stored and
/// seen at its own path: what a thunk needs to run it. The program first.
gg::Result<std::vector<gg::ThunkInput>> ProgramInputs(gg::Store& store, const std::string& program,
                                                      const std::string& where) {
  std::vector<gg::ThunkInput> inputs;
  auto self = store.Collect(std::filesystem::canonical(program).string());
  if (!self.ok()) return self.status();
  inputs.push_back({self->str(), where, true});
  auto ldd = Capture("ldd " + Quote(program));
  if (!ldd) return gg::Status::Invalid("ldd " + program + " failed: is it a dynamically linked program?");
  std::istringstream lines(*ldd);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream f(line);
    std::vector<std::string> w;
    for (std::string x; f >> x;) w.push_back(x);
    std::string path = w.size() >= 3 && w[1] == "=>" ? w[2] : !w.empty() ? w[0] : "";
    if (path.empty() || path[0] != '/') continue;
    auto lib = store.Collect(std::filesystem::canonical(path).string());
    if (!lib.ok()) return lib.status();
    inputs.push_back({lib->str(), path, path.find("ld-linux") != std::string::npos});
  }
  return inputs;
}

struct Video {
  long frames = 0;
  std::string fps = "30/1";
};

gg::Result<Video> Probe(const std::string& path) {
  auto out = Capture("ffprobe -v error -count_frames -select_streams v:0 -show_entries "
                     "stream=nb_read_frames,r_frame_rate -of default=nw=1 " + Quote(path));
  if (!out) return gg::Status::Invalid(path + ": ffprobe cannot read it (not a video ffmpeg knows?)");
  Video v;
  std::istringstream lines(*out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("nb_read_frames=", 0) == 0) v.frames = std::atol(line.c_str() + 15);
    if (line.rfind("r_frame_rate=", 0) == 0) v.fps = line.substr(13);
  }
  if (v.frames <= 0) return gg::Status::Invalid(path + ": has no video frames");
  return v;
}

std::string FrameFile(long n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "frame%06ld.png", n);
  return buf;
}

struct Args {
  std::string video, out, model = "ocr", model_file, find, trace, storage, secret_file;
  long per_thunk = 1, per_decode = 32;
  int jobs = 0;
  bool sequential = false;
  std::vector<std::string> engines;
};

/// The arguments; "" or what is wrong with them.
std::string Parse(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    auto count = [&](long* n) {
      const char* v = next();
      char* end = nullptr;
      *n = v ? std::strtol(v, &end, 10) : 0;
      return v && *end == '\0' && *n > 0;
    };
    const char* v = nullptr;
    long n = 0;
    bool ok = true;
    if (s == "-o") ok = (v = next()) && (a->out = v, true);
    else if (s == "--model") ok = (v = next()) && (a->model = v, true);
    else if (s == "--model-file") ok = (v = next()) && (a->model_file = v, true);
    else if (s == "--find") ok = (v = next()) && (a->find = v, true);
    else if (s == "--trace") ok = (v = next()) && (a->trace = v, true);
    else if (s == "--storage") ok = (v = next()) && (a->storage = v, true);
    else if (s == "--secret-file") ok = (v = next()) && (a->secret_file = v, true);
    else if (s == "--engine") ok = (v = next()) && (a->engines.push_back(v), true);
    else if (s == "--frames-per-thunk") ok = count(&a->per_thunk);
    else if (s == "--frames-per-decode") ok = count(&a->per_decode);
    else if (s == "-j") ok = count(&n) && (a->jobs = static_cast<int>(n), true);
    else if (s == "--sequential") a->sequential = true;
    else if (s.rfind("-", 0) != 0 && a->video.empty()) a->video = s;
    else return s.rfind("-", 0) == 0 ? "unknown option " + s : "more than one VIDEO: " + s;
    if (!ok) return s + " needs " + (s.rfind("--frames", 0) == 0 || s == "-j" ? "a positive number" : "a value");
  }
  if (a->video.empty()) return "no VIDEO given";
  if (a->out.empty()) return "no -o RESULTS.jsonl given";
  if (a->model != "ocr" && a->model != "faces" && a->model != "people") {
    return "unknown model '" + a->model + "' (ocr, faces or people)";
  }
  if (a->find.find_first_of("\t\n") != std::string::npos) return "--find TEXT may not hold a tab or a newline";
  if (a->model_file.empty()) {
    if (a->model == "ocr") a->model_file = "/usr/share/tesseract-ocr/5/tessdata/eng.traineddata";
    else if (a->model == "faces") a->model_file = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml";
  }
  if (!a->model_file.empty() && !std::filesystem::is_regular_file(a->model_file)) {
    return "the model file " + a->model_file + " does not exist (" +
           (a->model == "ocr" ? "apt-get install tesseract-ocr-eng" : "apt-get install opencv-data") + ", or give --model-file)";
  }
  return "";
}

/// The same programs, one after another, without gg: the reference result.
int Sequential(const Args& a, const Video& v, const std::string& program) {
  char dir_template[] = "/tmp/recognize-seq.XXXXXX";
  if (!mkdtemp(dir_template)) return Fail("cannot make a temporary directory");
  std::string dir = dir_template;
  std::string model_args = " --model " + a.model + (a.model_file.empty() ? "" : " --model-file " + Quote(a.model_file)) +
                           " --fps " + v.fps;
  std::string frames;
  for (long n = 0; n < v.frames; ++n) frames += " " + Quote(dir + "/" + FrameFile(n));
  std::string cmd = "ffmpeg -nostdin -v error -threads 1 -i " + Quote(a.video) +
                    " -fps_mode passthrough -start_number 0 -f image2 " + Quote(dir + "/frame%06d.png") +
                    " && OMP_THREAD_LIMIT=1 " + Quote(program) + " recognize -o " + Quote(dir + "/base") + model_args + frames;
  std::string followups;
  if (!a.find.empty()) {
    cmd += " && OMP_THREAD_LIMIT=1 " + Quote(program) + " followup -o " + Quote(dir + "/followups") + model_args +
           " --find " + Quote(a.find) + frames;
    followups = " --followups " + Quote(dir + "/followups");
  }
  cmd += " && " + Quote(program) + " merge -o " + Quote(a.out) + followups + " " + Quote(dir + "/base");
  int rc = std::system(cmd.c_str());
  std::filesystem::remove_all(dir);
  if (rc != 0) return Fail("the sequential run failed");
  std::printf("%s: %ld frames recognized sequentially\n", a.out.c_str(), v.frames);
  return 0;
}

int Main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::printf("%s", kUsage);
      return 0;
    }
  }
  if (std::string error = Parse(argc, argv, &a); !error.empty()) {
    std::fprintf(stderr, "recognize: %s\n%s", error.c_str(), kUsage);
    return 2;
  }
  std::string program = std::getenv("GG_RECOGNIZE") ? std::getenv("GG_RECOGNIZE") : Here() + "/gg-recognize";
  std::string ffmpeg = Which("ffmpeg");
  if (ffmpeg.empty()) return Fail("ffmpeg is not installed (apt-get install ffmpeg)");
  if (!std::filesystem::exists(program)) return Fail(program + " is missing: build apps/recognize");
  auto video = Probe(a.video);
  if (!video.ok()) return Fail(video.status().ToString());
  if (a.sequential) return Sequential(a, *video, program);

  auto store = gg::Store::Open();
  if (!store.ok()) {
    // None yet: $GG_DIR or ./.gg, made absolute (the sandbox wants clean absolute paths).
    const char* dir = std::getenv("GG_DIR");
    store = gg::Store::Init(std::filesystem::absolute(dir && *dir ? dir : ".gg").lexically_normal().string());
  }
  if (!store.ok()) return Fail(store.status().ToString());

  // The programs and the model, stored once and shared by every thunk.
  auto ff = ProgramInputs(*store, ffmpeg, "/usr/bin/ffmpeg");
  auto rp = ProgramInputs(*store, program, "/usr/bin/gg-recognize");
  if (!ff.ok()) return Fail(ff.status().ToString());
  if (!rp.ok()) return Fail(rp.status().ToString());
  std::string model_path;
  if (!a.model_file.empty()) {
    auto model = store->Collect(a.model_file);
    if (!model.ok()) return Fail("the model " + a.model_file + ": " + model.status().ToString());
    model_path = "/models/" + std::filesystem::path(a.model_file).filename().string();
    rp->push_back({model->str(), model_path, false});
  }
  auto input = store->Collect(a.video);
  if (!input.ok()) return Fail(input.status().ToString());
  std::string video_file = "in" + std::filesystem::path(a.video).extension().string();

  // Decode: chunks of frames, each frame a named output.
  std::map<long, gg::Name> frame_names;
  for (long start = 0; start < video->frames; start += a.per_decode) {
    long end = std::min(video->frames, start + a.per_decode) - 1;
    gg::Thunk t;
    t.function = ff->front().name;
    t.inputs = *ff;
    t.AddInput(*input, video_file);
    t.args = {"ffmpeg", "-nostdin", "-v", "error", "-threads", "1", "-i", video_file, "-vf",
              "select=between(n\\," + std::to_string(start) + "\\," + std::to_string(end) + ")",
              "-fps_mode", "passthrough", "-start_number", std::to_string(start), "-f", "image2", "frame%06d.png"};
    for (long n = start; n <= end; ++n) t.outputs.push_back(FrameFile(n));
    auto name = store->PutThunk(t);
    if (!name.ok()) return Fail(name.status().ToString());
    for (long n = start; n <= end; ++n) frame_names.emplace(n, name->WithTag(FrameFile(n)));
  }

  // Recognize: a group of frames per thunk.
  Spec spec;
  spec.find = a.find;
  spec.model = a.model;
  spec.model_file = model_path;
  spec.fps = video->fps;
  spec.program = rp->front().name;
  spec.closure = *rp;
  std::vector<gg::Name> results;
  for (long start = 0; start < video->frames; start += a.per_thunk) {
    gg::Thunk t;
    t.function = rp->front().name;
    t.inputs = *rp;
    t.env = {"OMP_THREAD_LIMIT=1", "LANG=C.UTF-8"};
    t.args = {"gg-recognize", "recognize", "-o", "out", "--model", a.model, "--fps", video->fps};
    if (!model_path.empty()) t.args.insert(t.args.end(), {"--model-file", model_path});
    Group group;
    for (long n = start; n < std::min(video->frames, start + a.per_thunk); ++n) {
      t.AddInput(frame_names.at(n), FrameFile(n));
      t.args.push_back(FrameFile(n));
      group.frames[n] = frame_names.at(n).str();
    }
    t.outputs = {"out"};
    auto name = store->PutThunk(t);
    if (!name.ok()) return Fail(name.status().ToString());
    results.push_back(*name);
    group.results = name->str();
    spec.groups.push_back(std::move(group));
  }

  // Merge, after the dynamic stage when there is a query.
  gg::Thunk merge;
  merge.function = rp->front().name;
  merge.inputs = *rp;
  merge.args = {"gg-recognize", "merge", "-o", "out"};
  merge.outputs = {"out"};
  {
    if (!a.find.empty()) {
      auto spec_name = store->Put(WriteSpec(spec));
      if (!spec_name.ok()) return Fail(spec_name.status().ToString());
      gg::Thunk scan;
      scan.function = rp->front().name;
      scan.inputs = *rp;
      scan.env = {"OMP_THREAD_LIMIT=1", "LANG=C.UTF-8"};
      scan.AddInput(*spec_name, "spec").AddInput(results.front(), "results.jsonl");
      scan.args = {"gg-recognize", "scan", "spec", "0", "results.jsonl"};
      scan.outputs = {"out", "followup", "next"};
      auto scan_name = store->PutThunk(scan);
      if (!scan_name.ok()) return Fail(scan_name.status().ToString());
      merge.AddInput(*scan_name, "followups.jsonl");
      merge.args.insert(merge.args.end(), {"--followups", "followups.jsonl"});
    }
  }
  for (size_t i = 0; i < results.size(); ++i) {
    char file[32];
    std::snprintf(file, sizeof file, "r%06zu.jsonl", i);
    merge.AddInput(results[i], file);
    merge.args.push_back(file);
  }
  auto merge_name = store->PutThunk(merge);
  if (!merge_name.ok()) return Fail(merge_name.status().ToString());

  gg::ForceSettings settings;
  settings.engines = a.engines;
  settings.secret_file = a.secret_file;
  if (a.jobs > 0) settings.jobs = a.jobs;
  if (!a.storage.empty()) settings.storage = a.storage;
  settings.trace_path = a.trace;
  bool tty = isatty(2);
  if (tty) {
    settings.on_progress = [](const gg::ForceProgress& p) {
      std::fprintf(stderr, "\r%zu/%zu thunks done, %zu memoized, %zu running   ", p.done, p.total, p.memoized,
                   p.running);
    };
  }
  auto text = store->ForceAndGet(*merge_name, settings);
  if (tty) std::fprintf(stderr, "\n");
  if (!text.ok()) return Fail(text.status().ToString());
  std::ofstream out(a.out, std::ios::binary | std::ios::trunc);
  out << *text;
  if (!out.flush()) return Fail(a.out + ": cannot write");
  std::printf("%s: %ld frames, %zu recognize thunks\n", a.out.c_str(), video->frames, results.size());
  return 0;
}

}  // namespace
}  // namespace rec

int main(int argc, char** argv) { return rec::Main(argc, argv); }
