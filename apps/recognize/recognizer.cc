#include "recognizer.h"

#include <leptonica/allheaders.h>
#include <tesseract/baseapi.h>
#include <tesseract/resultiterator.h>

#include <cstdio>
#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include "jsonl.h"

namespace rec {
namespace {

/// The frame as OpenCV reads it, cropped and scaled as `view` says.
bool LoadImage(const std::string& path, const View& view, cv::Mat* out, std::string* error) {
  cv::Mat img = cv::imread(path, cv::IMREAD_COLOR);
  if (img.empty()) {
    *error = path + ": not a readable image (corrupt or missing frame)";
    return false;
  }
  if (view.w > 0) {
    cv::Rect r = cv::Rect(view.x, view.y, view.w, view.h) & cv::Rect(0, 0, img.cols, img.rows);
    if (r.area() == 0) {
      *error = path + ": the crop lies outside the frame";
      return false;
    }
    img = img(r).clone();
  }
  if (view.scale != 1) cv::resize(img, img, cv::Size(), view.scale, view.scale, cv::INTER_CUBIC);
  *out = img;
  return true;
}

class OcrRecognizer : public Recognizer {
 public:
  bool Init(const std::string& model_file, std::string* error) {
    // Tesseract wants the directory and the language; the file's name is
    // the language ("eng.traineddata").
    std::filesystem::path p(model_file);
    if (p.extension() != ".traineddata" || !std::filesystem::exists(p)) {
      *error = model_file + ": not a Tesseract model (LANG.traineddata)";
      return false;
    }
    if (api_.Init(p.parent_path().c_str(), p.stem().c_str(), tesseract::OEM_LSTM_ONLY) != 0) {
      *error = model_file + ": Tesseract cannot load this model";
      return false;
    }
    api_.SetPageSegMode(tesseract::PSM_SPARSE_TEXT);
    api_.SetVariable("debug_file", "/dev/null");
    return true;
  }

  bool Run(const std::string& path, const View& view, FrameResult* out, std::string* error) override {
    cv::Mat img;
    if (!LoadImage(path, view, &img, error)) return false;
    // Text is read as dark ink: a pixel whose brightest channel is dark is
    // ink, anything else paper. Captions and signs over busy colour (a
    // saturated blue is dark in grayscale) then come out clean; light text
    // on dark ground is not read.
    std::vector<cv::Mat> channels;
    cv::split(img, channels);
    cv::Mat brightest = cv::max(cv::max(channels[0], channels[1]), channels[2]);
    cv::Mat gray;
    cv::threshold(brightest, gray, 100, 255, cv::THRESH_BINARY);
    api_.SetImage(gray.data, gray.cols, gray.rows, 1, static_cast<int>(gray.step));
    if (api_.Recognize(nullptr) != 0) {
      *error = path + ": Tesseract failed on this frame";
      return false;
    }
    std::unique_ptr<tesseract::ResultIterator> it(api_.GetIterator());
    double sum = 0;
    std::string text;
    if (it) {
      do {
        std::unique_ptr<char[]> word(it->GetUTF8Text(tesseract::RIL_WORD));
        if (!word) continue;
        Box b;
        int x1, y1, x2, y2;
        it->BoundingBox(tesseract::RIL_WORD, &x1, &y1, &x2, &y2);
        // Back to the frame's coordinates.
        b.x = view.x + static_cast<int>(x1 / view.scale);
        b.y = view.y + static_cast<int>(y1 / view.scale);
        b.w = static_cast<int>((x2 - x1) / view.scale);
        b.h = static_cast<int>((y2 - y1) / view.scale);
        b.label = word.get();
        b.confidence = it->Confidence(tesseract::RIL_WORD);
        sum += b.confidence;
        if (!text.empty()) text += ' ';
        text += b.label;
        out->boxes.push_back(std::move(b));
      } while (it->Next(tesseract::RIL_WORD));
    }
    out->text = text;
    out->confidence = out->boxes.empty() ? 0 : sum / static_cast<double>(out->boxes.size());
    api_.Clear();
    return true;
  }

 private:
  tesseract::TessBaseAPI api_;
};

class FaceRecognizer : public Recognizer {
 public:
  bool Init(const std::string& model_file, std::string* error) {
    if (!cascade_.load(model_file)) {
      *error = model_file + ": OpenCV cannot load this cascade (want e.g. haarcascade_frontalface_default.xml)";
      return false;
    }
    return true;
  }

  bool Run(const std::string& path, const View& view, FrameResult* out, std::string* error) override {
    cv::Mat img, gray;
    if (!LoadImage(path, view, &img, error)) return false;
    cv::cvtColor(img, gray, cv::COLOR_BGR2GRAY);
    cv::equalizeHist(gray, gray);
    std::vector<cv::Rect> found;
    std::vector<int> levels;
    std::vector<double> weights;
    cascade_.detectMultiScale(gray, found, levels, weights, 1.1, 4, 0, cv::Size(24, 24), cv::Size(), true);
    Add(found, weights, "face", view, out);
    return true;
  }

  static void Add(const std::vector<cv::Rect>& found, const std::vector<double>& weights, const char* label,
                  const View& view, FrameResult* out) {
    for (size_t i = 0; i < found.size(); ++i) {
      Box b;
      b.x = view.x + static_cast<int>(found[i].x / view.scale);
      b.y = view.y + static_cast<int>(found[i].y / view.scale);
      b.w = static_cast<int>(found[i].width / view.scale);
      b.h = static_cast<int>(found[i].height / view.scale);
      b.label = label;
      b.confidence = i < weights.size() ? weights[i] : 0;
      out->boxes.push_back(b);
    }
    out->confidence = static_cast<double>(out->boxes.size());
  }

 private:
  cv::CascadeClassifier cascade_;
};

class PeopleRecognizer : public Recognizer {
 public:
  PeopleRecognizer() { hog_.setSVMDetector(cv::HOGDescriptor::getDefaultPeopleDetector()); }

  bool Run(const std::string& path, const View& view, FrameResult* out, std::string* error) override {
    cv::Mat img;
    if (!LoadImage(path, view, &img, error)) return false;
    std::vector<cv::Rect> found;
    std::vector<double> weights;
    hog_.detectMultiScale(img, found, weights, 0, cv::Size(8, 8), cv::Size(), 1.05, 2.0);
    FaceRecognizer::Add(found, weights, "person", view, out);
    return true;
  }

 private:
  cv::HOGDescriptor hog_;
};

}  // namespace

bool ParseModel(const std::string& text, Model* model) {
  if (text == "ocr") *model = Model::kOcr;
  else if (text == "faces") *model = Model::kFaces;
  else if (text == "people") *model = Model::kPeople;
  else return false;
  return true;
}

const char* ModelName(Model model) {
  switch (model) {
    case Model::kOcr: return "ocr";
    case Model::kFaces: return "faces";
    case Model::kPeople: return "people";
  }
  return "?";
}

std::unique_ptr<Recognizer> Recognizer::Create(Model model, const std::string& model_file, std::string* error) {
  cv::setNumThreads(0);  // one thread: deterministic, and one thunk per core
  switch (model) {
    case Model::kOcr: {
      auto r = std::make_unique<OcrRecognizer>();
      return r->Init(model_file, error) ? std::move(r) : nullptr;
    }
    case Model::kFaces: {
      auto r = std::make_unique<FaceRecognizer>();
      return r->Init(model_file, error) ? std::move(r) : nullptr;
    }
    case Model::kPeople:
      return std::make_unique<PeopleRecognizer>();
  }
  return nullptr;
}

std::string FrameResult::ToJson(Model model) const {
  char num[64];
  std::string s = "{\"frame\":" + std::to_string(frame);
  std::snprintf(num, sizeof num, "%.3f", time);
  s += ",\"time\":" + std::string(num) + ",\"model\":\"" + ModelName(model) + "\"";
  if (model == Model::kOcr) s += ",\"text\":" + JsonString(text);
  std::snprintf(num, sizeof num, "%.2f", confidence);
  s += ",\"confidence\":" + std::string(num) + ",\"boxes\":[";
  for (size_t i = 0; i < boxes.size(); ++i) {
    const Box& b = boxes[i];
    std::snprintf(num, sizeof num, "%.2f", b.confidence);
    s += (i ? "," : "") + std::string("{\"x\":") + std::to_string(b.x) + ",\"y\":" + std::to_string(b.y) +
         ",\"w\":" + std::to_string(b.w) + ",\"h\":" + std::to_string(b.h) + ",\"label\":" + JsonString(b.label) +
         ",\"confidence\":" + num + "}";
  }
  return s + "]}";
}

}  // namespace rec
