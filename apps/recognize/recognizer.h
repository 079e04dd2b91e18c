// Recognizing one frame: Tesseract's LSTM OCR, or OpenCV's face (Haar
// cascade) or people (HOG) detector. Single-threaded, so the same bytes come
// out on every run and every machine.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace rec {

enum class Model { kOcr, kFaces, kPeople };

/// "ocr" / "faces" / "people"; false for anything else.
bool ParseModel(const std::string& text, Model* model);
const char* ModelName(Model model);

struct Box {
  int x = 0, y = 0, w = 0, h = 0;
  std::string label;  ///< the word (OCR), or "face" / "person"
  double confidence = 0;
};

struct FrameResult {
  long frame = 0;
  double time = 0;            ///< seconds from the start
  std::string text;           ///< OCR: the whole recognized text, trimmed
  double confidence = 0;      ///< OCR: mean word confidence; detectors: boxes found
  std::vector<Box> boxes;

  /// One JSON object on one line: frame, time, model, text, confidence, boxes.
  std::string ToJson(Model model) const;
};

/// Crop and scale applied before recognizing (the dynamic stage's closer look).
struct View {
  int x = 0, y = 0, w = 0, h = 0;  ///< w == 0: the whole frame
  double scale = 1;
};

class Recognizer {
 public:
  /// Loads the model from `model_file` (Tesseract's eng.traineddata, or an
  /// OpenCV cascade XML; unused for people). Errors name the file.
  static std::unique_ptr<Recognizer> Create(Model model, const std::string& model_file, std::string* error);
  virtual ~Recognizer() = default;

  /// Recognizes the image at `path` (PNG/JPEG/...); errors name the file.
  virtual bool Run(const std::string& path, const View& view, FrameResult* out, std::string* error) = 0;
};

}  // namespace rec
