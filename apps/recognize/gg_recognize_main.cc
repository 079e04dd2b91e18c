// gg-recognize: the program the recognition pipeline's thunks run.
//   gg-recognize recognize -o OUT --model M --model-file F --fps N/D FRAME...
//       one JSON line per frame (frame numbers from the file names)
//   gg-recognize followup -o OUT --model M --model-file F --find TEXT --fps N/D FRAME...
//       a closer look (cropped, scaled up) at what matched in each frame
//   gg-recognize scan SPEC I RESULTS
//       the dynamic stage: looks at group I's results and outputs thunks
//   gg-recognize join -o OUT A B     gg-recognize merge -o OUT [--followups F] RESULTS...
// Written with gg's C++ SDK (the scan stage builds thunks).
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "gg/gg.h"
#include "jsonl.h"
#include "recognizer.h"
#include "spec.h"

namespace rec {
namespace {

constexpr char kUsage[] =
    "usage: gg-recognize recognize -o OUT --model ocr|faces|people --model-file F --fps N/D FRAME...\n"
    "       gg-recognize followup -o OUT --model M --model-file F --find TEXT --fps N/D FRAME...\n"
    "       gg-recognize scan SPEC GROUP RESULTS\n"
    "       gg-recognize join -o OUT A B\n"
    "       gg-recognize merge -o OUT [--followups FILE] RESULTS...\n\n"
    "The programs of apps/recognize's thunks (see its README.md).\n";

int Fail(const std::string& msg) {
  std::fprintf(stderr, "gg-recognize: %s\n", msg.c_str());
  return 1;
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::ostringstream s;
  s << f.rdbuf();
  *out = s.str();
  return true;
}

bool WriteFile(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << data;
  return static_cast<bool>(f.flush());
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream s(text);
  for (std::string line; std::getline(s, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

/// The frame number in a file name such as "frame000123.png".
long FrameNumber(const std::string& path) {
  std::string base = path.substr(path.find_last_of('/') + 1);
  size_t i = base.find_first_of("0123456789");
  return i == std::string::npos ? -1 : std::strtol(base.c_str() + i, nullptr, 10);
}

struct Options {
  std::string out, model_name = "ocr", model_file, find, followups;
  long fps_num = 30, fps_den = 1;
  std::vector<std::string> rest;
};

bool ParseOptions(int argc, char** argv, Options* o, std::string* error) {
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string* v) {
      if (i + 1 >= argc) return false;
      *v = argv[++i];
      return true;
    };
    std::string fps;
    bool ok = true;
    if (a == "-o") ok = value(&o->out);
    else if (a == "--model") ok = value(&o->model_name);
    else if (a == "--model-file") ok = value(&o->model_file);
    else if (a == "--find") ok = value(&o->find);
    else if (a == "--followups") ok = value(&o->followups);
    else if (a == "--fps") {
      ok = value(&fps) && std::sscanf(fps.c_str(), "%ld/%ld", &o->fps_num, &o->fps_den) == 2 && o->fps_num > 0 &&
           o->fps_den > 0;
    } else if (a.rfind("-", 0) == 0) {
      *error = "unknown option " + a;
      return false;
    } else {
      o->rest.push_back(a);
    }
    if (!ok) {
      *error = "bad or missing value for " + a;
      return false;
    }
  }
  if (o->out.empty()) {
    *error = "-o OUT is required";
    return false;
  }
  return true;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool Matches(Model model, const FrameResult& r, const std::string& find) {
  if (model != Model::kOcr) return !r.boxes.empty();
  return !find.empty() && Lower(r.text).find(Lower(find)) != std::string::npos;
}

/// The boxes of the words that make up each match of `find` in the OCR'd
/// text: the shortest runs of consecutive words whose joined text contains
/// it. (Taking every word that shares a letter with the query would stretch
/// the crop over the whole frame.)
std::vector<bool> QueryWords(const std::vector<Box>& boxes, const std::string& find) {
  std::vector<bool> used(boxes.size(), false);
  const std::string query = Lower(find);
  auto joined = [&](size_t i, size_t j) {
    std::string s;
    for (size_t k = i; k <= j; ++k) s += (k > i ? " " : "") + Lower(boxes[k].label);
    return s;
  };
  for (size_t i = 0; i < boxes.size(); ++i) {
    for (size_t j = i; j < boxes.size(); ++j) {
      if (joined(i, j).find(query) == std::string::npos) continue;
      // Shortest: dropping the first word loses the match.
      if (j == i || joined(i + 1, j).find(query) == std::string::npos) {
        for (size_t k = i; k <= j; ++k) used[k] = true;
      }
      break;
    }
  }
  return used;
}

/// recognize and followup: one line per frame.
int RecognizeFrames(int argc, char** argv, bool followup) {
  Options o;
  std::string error;
  Model model;
  if (!ParseOptions(argc, argv, &o, &error)) return Fail(error + "\n" + kUsage);
  if (!ParseModel(o.model_name, &model)) return Fail("unknown model '" + o.model_name + "' (ocr, faces, people)");
  auto recognizer = Recognizer::Create(model, o.model_file, &error);
  if (!recognizer) {
    std::string frames;
    for (const auto& frame : o.rest) frames += (frames.empty() ? "" : ",") + std::to_string(FrameNumber(frame));
    return Fail((o.rest.size() == 1 ? "frame " : "frames ") + frames + " not recognized: the model failed to load: " + error);
  }
  std::string out;
  for (const auto& frame : o.rest) {
    FrameResult r;
    r.frame = FrameNumber(frame);
    r.time = static_cast<double>(r.frame) * o.fps_den / o.fps_num;
    if (!recognizer->Run(frame, View{}, &r, &error)) return Fail("frame " + std::to_string(r.frame) + ": " + error);
    if (followup) {
      // A closer look: the matching boxes' surroundings, scaled up.
      int x0 = 1 << 30, y0 = 1 << 30, x1 = -1, y1 = -1, height = 0;
      if (!Matches(model, r, o.find)) continue;  // nothing to look closer at in this frame
      std::vector<bool> words = model == Model::kOcr ? QueryWords(r.boxes, o.find) : std::vector<bool>(r.boxes.size(), true);
      for (size_t i = 0; i < r.boxes.size(); ++i) {
        if (!words[i]) continue;
        const Box& b = r.boxes[i];
        x0 = std::min(x0, b.x), y0 = std::min(y0, b.y);
        x1 = std::max(x1, b.x + b.w), y1 = std::max(y1, b.y + b.h);
        height = std::max(height, b.h);
      }
      if (x1 < 0) continue;  // no box to look at
      // OCR: small text scaled up to ~48 px high (Tesseract reads that best;
      // larger text is only cropped); detectors: 2x.
      constexpr int kMargin = 12;
      double scale = model == Model::kOcr ? std::clamp(48.0 / std::max(height, 1), 1.0, 4.0) : 2.0;
      View v{std::max(0, x0 - kMargin), std::max(0, y0 - kMargin), x1 - x0 + 2 * kMargin, y1 - y0 + 2 * kMargin,
             scale};
      FrameResult closer;
      closer.frame = r.frame;
      closer.time = r.time;
      if (!recognizer->Run(frame, v, &closer, &error)) return Fail("frame " + std::to_string(r.frame) + ": " + error);
      r = closer;
    }
    out += r.ToJson(model) + "\n";
  }
  if (!WriteFile(o.out, out)) return Fail(o.out + ": cannot write");
  return 0;
}

gg::Thunk BaseThunk(const Spec& spec) {
  gg::Thunk t;
  t.function = spec.program;
  for (const auto& in : spec.closure) t.inputs.push_back(in);
  t.env = {"OMP_THREAD_LIMIT=1", "LANG=C.UTF-8"};
  return t;
}

/// The dynamic stage, one group at a time (as the paper's `ormap`): if any
/// frame of group I matches, a follow-up thunk for those frames, joined with
/// the rest of the walk; else the walk goes on (a tail call).
int Scan(int argc, char** argv) {
  if (argc != 3) return Fail(std::string("scan: bad arguments\n") + kUsage);
  std::string spec_text, results;
  if (!ReadFile(argv[0], &spec_text)) return Fail(std::string(argv[0]) + ": cannot read the spec");
  Spec spec;
  std::string error;
  if (!ParseSpec(spec_text, &spec, &error)) return Fail(error);
  size_t group = std::strtoul(argv[1], nullptr, 10);
  if (group >= spec.groups.size()) return Fail("scan: no group " + std::string(argv[1]));
  if (!ReadFile(argv[2], &results)) return Fail(std::string(argv[2]) + ": cannot read");
  Model model;
  ParseModel(spec.model, &model);

  std::vector<long> matching;
  for (const auto& line : Lines(results)) {
    FrameResult r;
    r.text = TextOf(line);
    if (line.find("\"boxes\":[{") != std::string::npos) r.boxes.emplace_back();
    if (Matches(model, r, spec.find)) matching.push_back(FrameOf(line));
  }

  std::string next_bytes, followup_bytes, out_bytes;
  std::optional<gg::Name> next;
  if (group + 1 < spec.groups.size()) {
    gg::Thunk t = BaseThunk(spec);
    t.AddInput(gg::Name::ForContent(spec_text), "spec");
    auto results_name = gg::Name::Parse(spec.groups[group + 1].results);
    if (!results_name.ok()) return Fail("spec: " + results_name.status().ToString());
    t.AddInput(*results_name, "results.jsonl");
    t.args = {"gg-recognize", "scan", "spec", std::to_string(group + 1), "results.jsonl"};
    t.outputs = {"out", "followup", "next"};
    next_bytes = t.Serialize();
    next = t.name();
  }
  if (!matching.empty()) {
    gg::Thunk f = BaseThunk(spec);
    f.args = {"gg-recognize", "followup", "-o", "out", "--model", spec.model, "--model-file", spec.model_file,
              "--find", spec.find, "--fps", spec.fps};
    for (long frame : matching) {
      auto it = spec.groups[group].frames.find(frame);
      if (it == spec.groups[group].frames.end()) return Fail("spec: frame " + std::to_string(frame) + " is not listed");
      auto frame_name = gg::Name::Parse(it->second);
      if (!frame_name.ok()) return Fail("spec: " + frame_name.status().ToString());
      char file[32];
      std::snprintf(file, sizeof file, "frame%06ld.png", frame);
      f.AddInput(*frame_name, file);
      f.args.push_back(file);
    }
    f.outputs = {"out"};
    followup_bytes = f.Serialize();
    if (next) {
      gg::Thunk j = BaseThunk(spec);
      j.AddInput(f.name(), "a.jsonl").AddInput(*next, "b.jsonl");
      j.args = {"gg-recognize", "join", "-o", "out", "a.jsonl", "b.jsonl"};
      j.outputs = {"out"};
      out_bytes = j.Serialize();
    } else {
      out_bytes = followup_bytes;
    }
  } else {
    out_bytes = next_bytes;  // nothing here: go on (empty at the end)
  }
  if (!WriteFile("out", out_bytes) || !WriteFile("followup", followup_bytes) || !WriteFile("next", next_bytes)) {
    return Fail("cannot write the outputs");
  }
  return 0;
}

int Join(int argc, char** argv) {
  Options o;
  std::string error;
  if (!ParseOptions(argc, argv, &o, &error) || o.rest.size() != 2) return Fail("join: " + error + "\n" + kUsage);
  std::string a, b;
  if (!ReadFile(o.rest[0], &a) || !ReadFile(o.rest[1], &b)) return Fail("join: cannot read the inputs");
  return WriteFile(o.out, a + b) ? 0 : Fail(o.out + ": cannot write");
}

/// Sorted by frame; a frame's follow-up result is attached as "followup".
int Merge(int argc, char** argv) {
  Options o;
  std::string error;
  if (!ParseOptions(argc, argv, &o, &error)) return Fail("merge: " + error + "\n" + kUsage);
  std::map<long, std::string> lines, followups;
  if (!o.followups.empty()) {
    std::string text;
    if (!ReadFile(o.followups, &text)) return Fail(o.followups + ": cannot read");
    for (const auto& line : Lines(text)) followups[FrameOf(line)] = line;
  }
  for (const auto& path : o.rest) {
    std::string text;
    if (!ReadFile(path, &text)) return Fail(path + ": cannot read");
    for (const auto& line : Lines(text)) {
      long frame = FrameOf(line);
      if (frame < 0) return Fail(path + ": not a result line: " + line.substr(0, 80));
      lines[frame] = line;
    }
  }
  std::string out;
  for (auto& [frame, line] : lines) {
    auto f = followups.find(frame);
    if (f != followups.end()) line = line.substr(0, line.size() - 1) + ",\"followup\":" + f->second + "}";
    out += line + "\n";
  }
  return WriteFile(o.out, out) ? 0 : Fail(o.out + ": cannot write");
}

}  // namespace
}  // namespace rec

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::printf("%s", rec::kUsage);
    return argc < 2 ? 2 : 0;
  }
  std::string cmd = argv[1];
  if (cmd == "recognize") return rec::RecognizeFrames(argc - 2, argv + 2, false);
  if (cmd == "followup") return rec::RecognizeFrames(argc - 2, argv + 2, true);
  if (cmd == "scan") return rec::Scan(argc - 2, argv + 2);
  if (cmd == "join") return rec::Join(argc - 2, argv + 2);
  if (cmd == "merge") return rec::Merge(argc - 2, argv + 2);
  return rec::Fail("unknown command " + cmd + "\n" + rec::kUsage);
}
