// detkit._detkit — the native half of the Python package (nanobind): readers that turn COCO JSON
// files, Python lists of dicts and N×7 arrays into the library's structs without building Python
// objects, the evaluation (GIL released), and pycocotools' arrays and records as numpy.
//
// The Python half (python/detkit/*.py) is the pycocotools-shaped API; everything that costs time
// per detection or per image happens here.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <numeric>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "detkit/coco_eval.hpp"
#include "detkit/coco_eval_images.hpp"
#include "detkit/coco_eval_reports.hpp"
#include "detkit/coco_eval_state.hpp"
#include "detkit/coco_json.hpp"
#include "detkit/label_cache.hpp"
#include "detkit/open_images_eval.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace {

using detkit::coco_annotation;
using detkit::coco_detection;
using detkit::coco_eval_params;
using detkit::coco_ground_truth;
using detkit::coco_matches;
using detkit::errc;

// ---- numpy out ------------------------------------------------------------------------------

// A numpy array that owns `v` (no copy).
template <class T, class Out = T>
nb::object to_numpy(std::vector<T>&& v, std::initializer_list<std::size_t> shape) {
  auto* heap = new std::vector<T>(std::move(v));
  if (heap->empty()) heap->reserve(1);  // a non-null data pointer for empty arrays
  nb::capsule owner(heap, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  return nb::cast(nb::ndarray<nb::numpy, Out>(reinterpret_cast<Out*>(heap->data()), shape, owner));
}

// ---- Python values in, with located errors --------------------------------------------------

[[noreturn]] void input_error(const std::string& where, const char* field, std::string message,
                              errc code = errc::json_schema) {
  detkit::error e = detkit::make_error(code, std::move(message), field ? field : "");
  e.file = where;
  throw detkit::parse_error(std::move(e));
}

// "list[index]", built only when an error is raised (readers visit millions of rows).
struct where_of {
  const char* list;
  std::size_t index;
  operator std::string() const { return std::string(list) + "[" + std::to_string(index) + "]"; }
};

std::string short_repr(nb::handle h) {
  PyObject* r = PyObject_Repr(h.ptr());
  if (!r) {
    PyErr_Clear();
    return "?";
  }
  Py_ssize_t n = 0;
  const char* s = PyUnicode_AsUTF8AndSize(r, &n);
  std::string out = s ? std::string(s, static_cast<std::size_t>(std::min<Py_ssize_t>(n, 60))) : "?";
  if (!s) PyErr_Clear();
  Py_DECREF(r);
  return out;
}

// An integer id: Python int, numpy integer, or a float with an integral value (pycocotools keys
// dicts by value, so 3.0 and 3 are the same image).
std::int64_t as_id(nb::handle h, const where_of& where, const char* field) {
  if (PyBool_Check(h.ptr()))
    input_error(where, field, "expected an integer id, got " + short_repr(h));
  if (PyLong_Check(h.ptr()) || PyIndex_Check(h.ptr())) {
    PyObject* idx = PyNumber_Index(h.ptr());
    if (idx) {
      int overflow = 0;
      const long long v = PyLong_AsLongLongAndOverflow(idx, &overflow);
      Py_DECREF(idx);
      if (!overflow && !(v == -1 && PyErr_Occurred())) return v;
    }
    PyErr_Clear();
    input_error(where, field, "integer id out of range: " + short_repr(h));
  }
  if (PyFloat_Check(h.ptr())) {
    const double d = PyFloat_AS_DOUBLE(h.ptr());
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.2e18)
      return static_cast<std::int64_t>(d);
  }
  input_error(where, field, "expected an integer id, got " + short_repr(h));
}

double as_number(nb::handle h, const where_of& where, const char* field) {
  if (PyFloat_Check(h.ptr())) {
    const double d = PyFloat_AS_DOUBLE(h.ptr());
    if (!std::isfinite(d))
      input_error(where, field, "number is not finite: " + short_repr(h), errc::eval_bad_value);
    return d;
  }
  if (PyUnicode_Check(h.ptr()) || PyBytes_Check(h.ptr()) || h.is_none())
    input_error(where, field, "expected a number, got " + short_repr(h));
  const double d = PyFloat_AsDouble(h.ptr());
  if (d == -1.0 && PyErr_Occurred()) {
    PyErr_Clear();
    input_error(where, field, "expected a number, got " + short_repr(h));
  }
  if (!std::isfinite(d))
    input_error(where, field, "number is not finite: " + short_repr(h), errc::eval_bad_value);
  return d;
}

detkit::coco_bbox as_bbox(nb::handle h, const where_of& where) {
  PyObject* seq = PySequence_Fast(h.ptr(), "");
  if (!seq) {
    PyErr_Clear();
    input_error(where, "bbox", "expected [x, y, w, h], got " + short_repr(h));
  }
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
  if (n != 4) {
    Py_DECREF(seq);
    input_error(where, "bbox", "expected 4 numbers, got " + std::to_string(n));
  }
  double v[4];
  try {
    for (Py_ssize_t i = 0; i < 4; ++i)
      v[i] = as_number(PySequence_Fast_GET_ITEM(seq, i), where, "bbox");
  } catch (...) {
    Py_DECREF(seq);
    throw;
  }
  Py_DECREF(seq);
  return {v[0], v[1], v[2], v[3]};
}

// d[key] (borrowed) or nullptr. The keys are interned once: PyDict_GetItemString would make a
// new string object per lookup.
PyObject* item(nb::handle d, const char* key) {
  static std::vector<std::pair<const char*, PyObject*>> keys;  // never freed: live to exit
  PyObject* k = nullptr;
  for (const auto& e : keys)
    if (e.first == key || std::strcmp(e.first, key) == 0) {
      k = e.second;
      break;
    }
  if (!k) {
    k = PyUnicode_InternFromString(key);
    if (!k) throw nb::python_error();
    keys.emplace_back(key, k);
  }
  PyObject* v = PyDict_GetItemWithError(d.ptr(), k);
  if (!v && PyErr_Occurred()) throw nb::python_error();
  return v;
}

nb::handle need(nb::handle d, const char* key, const where_of& where) {
  PyObject* v = item(d, key);
  if (!v) input_error(where, key, "missing");
  return v;
}

void need_dict(nb::handle h, const where_of& where) {
  if (!PyDict_Check(h.ptr())) input_error(where, nullptr, "expected a dict, got " + short_repr(h));
}

// Iterates a list (or tuple): fn(i, element).
template <class Fn>
void for_each(nb::handle seq_h, const char* name, Fn&& fn) {
  if (!PyList_Check(seq_h.ptr()) && !PyTuple_Check(seq_h.ptr()))
    input_error(name, nullptr, "expected a list, got " + short_repr(seq_h));
  PyObject* seq = seq_h.ptr();
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
  for (Py_ssize_t i = 0; i < n; ++i)
    fn(static_cast<std::size_t>(i), PySequence_Fast_GET_ITEM(seq, i));
}

// summarize's means follow the numpy the caller's pycocotools would use (numpy 1.x reduces in
// 8192-element buffers, 2.x in one pairwise sum); set once at import from numpy.__version__.
detkit::numpy_summation g_summation = detkit::numpy_summation::numpy_2;

// ---- Native inputs --------------------------------------------------------------------------

struct ground_truth {
  coco_ground_truth gt;
};

struct detections {
  std::vector<coco_detection> dets;
  std::vector<std::int64_t> ids;  // empty: id = position + 1 (loadRes numbering)
  std::int64_t id_of(std::size_t i) const {
    return ids.empty() ? static_cast<std::int64_t>(i) + 1 : ids[i];
  }
};

ground_truth gt_from_file(const std::string& path) {
  ground_truth g;
  {
    nb::gil_scoped_release nogil;
    g.gt = detkit::try_read_coco_ground_truth(path).value();
  }
  return g;
}

// pycocotools' createIndex over dataset['images' | 'categories' | 'annotations'] (each optional).
ground_truth gt_from_dataset(nb::handle dataset) {
  if (!PyDict_Check(dataset.ptr()))
    input_error("dataset", nullptr, "expected a dict, got " + short_repr(dataset));
  ground_truth g;
  if (PyObject* imgs = item(dataset, "images")) {
    for_each(imgs, "images", [&](std::size_t i, nb::handle o) {
      const where_of w{"images", i};
      need_dict(o, w);
      detkit::coco_image im;
      im.id = as_id(need(o, "id", w), w, "id");
      g.gt.images.push_back(std::move(im));
    });
  }
  if (PyObject* cats = item(dataset, "categories")) {
    for_each(cats, "categories", [&](std::size_t i, nb::handle o) {
      const where_of w{"categories", i};
      need_dict(o, w);
      detkit::coco_category c;
      c.id = as_id(need(o, "id", w), w, "id");
      g.gt.categories.push_back(std::move(c));
    });
  }
  if (PyObject* anns = item(dataset, "annotations")) {
    g.gt.annotations.reserve(
        static_cast<std::size_t>(PySequence_Size(anns) > 0 ? PySequence_Size(anns) : 0));
    PyErr_Clear();
    for_each(anns, "annotations", [&](std::size_t i, nb::handle o) {
      const where_of w{"annotations", i};
      need_dict(o, w);
      coco_annotation a;
      a.id = as_id(need(o, "id", w), w, "id");
      a.image_id = as_id(need(o, "image_id", w), w, "image_id");
      a.category_id = as_id(need(o, "category_id", w), w, "category_id");
      a.bbox = as_bbox(need(o, "bbox", w), w);
      a.area = as_number(need(o, "area", w), w, "area");
      // COCOeval._prepare: ignore := 'iscrowd' in gt and gt['iscrowd'] (truthiness).
      if (PyObject* c = item(o, "iscrowd")) {
        const int t = PyObject_IsTrue(c);
        if (t < 0) {
          PyErr_Clear();
          input_error(w, "iscrowd", "not a truth value: " + short_repr(c));
        }
        a.iscrowd = t != 0;
      }
      g.gt.annotations.push_back(a);
    });
  }
  return g;
}

detections dt_from_file(const std::string& path) {
  detections d;
  {
    nb::gil_scoped_release nogil;
    d.dets = detkit::try_read_coco_results(path).value();
  }
  return d;
}

// A list of result dicts (loadRes numbers them from 1; an `id` already there is overwritten).
detections dt_from_list(nb::handle list) {
  detections d;
  if (!PyList_Check(list.ptr()) && !PyTuple_Check(list.ptr()))
    input_error("results", nullptr, "expected a list of dicts, got " + short_repr(list));
  d.dets.reserve(static_cast<std::size_t>(PySequence_Fast_GET_SIZE(list.ptr())));
  for_each(list, "results", [&](std::size_t i, nb::handle o) {
    const where_of w{"results", i};
    if (!PyDict_Check(o.ptr())) input_error(w, nullptr, "expected a dict, got " + short_repr(o));
    coco_detection x;
    PyObject* v;
    if (!(v = item(o, "image_id"))) input_error(w, "image_id", "missing");
    x.image_id = as_id(v, w, "image_id");
    if (!(v = item(o, "category_id"))) input_error(w, "category_id", "missing");
    x.category_id = as_id(v, w, "category_id");
    if (!(v = item(o, "bbox")))
      input_error(w, "bbox", "missing (detkit evaluates bbox results only)");
    x.bbox = as_bbox(v, w);
    if (!(v = item(o, "score"))) input_error(w, "score", "missing");
    x.score = as_number(v, w, "score");
    d.dets.push_back(x);
  });
  return d;
}

// pycocotools loadNumpyAnnotations: rows [image_id, x, y, w, h, score, category_id].
detections dt_from_array(nb::ndarray<const double, nb::ndim<2>, nb::device::cpu> a) {
  if (a.shape(1) != 7)
    input_error("results", nullptr,
                "expected an N×7 array [image_id, x, y, w, h, score, category_id], got N×" +
                    std::to_string(a.shape(1)));
  detections d;
  const std::size_t n = a.shape(0);
  d.dets.resize(n);
  auto v = a.view();
  for (std::size_t i = 0; i < n; ++i) {
    double row[7];
    for (std::size_t j = 0; j < 7; ++j) {
      row[j] = v(i, j);
      if (!std::isfinite(row[j]))
        input_error(where_of{"results", i}, nullptr, "not finite: column " + std::to_string(j),
                    errc::eval_bad_value);
    }
    coco_detection& x = d.dets[i];
    // int(data[i, 0]) truncates toward zero.
    if (std::fabs(row[0]) >= 9.2e18 || std::fabs(row[6]) >= 9.2e18)
      input_error(where_of{"results", i}, nullptr, "id out of range", errc::eval_bad_value);
    x.image_id = static_cast<std::int64_t>(row[0]);
    x.bbox = {row[1], row[2], row[3], row[4]};
    x.score = row[5];
    x.category_id = static_cast<std::int64_t>(row[6]);
  }
  return d;
}

std::vector<std::int64_t> unique_image_ids(const detections& d) {
  std::vector<std::int64_t> v;
  v.reserve(d.dets.size());
  for (const auto& x : d.dets) v.push_back(x.image_id);
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// ---- The evaluation --------------------------------------------------------------------------

// What COCOeval.evaluate() saw: pycocotools' imgIds × catIds selection of both inputs, the
// matching, and (built on demand) the per-(category, image) lists behind evalImgs and ious.
struct evaluation {
  coco_ground_truth gt;  // images = params.imgIds, categories = params.catIds
  // The selected detections, input order: the caller's own vector when every detection is
  // selected (no copy of a large result set), else a filtered copy.
  nb::object dt_owner;  // keeps the Detections that `dt` may point into alive
  const detections* dt_source = nullptr;
  const std::vector<coco_detection>* dt = nullptr;
  std::vector<coco_detection> dt_copy;
  std::vector<std::int64_t> dt_copy_ids;
  std::int64_t dt_id(std::size_t j) const {
    return dt == &dt_copy ? dt_copy_ids[j] : dt_source->id_of(j);
  }
  coco_matches mt;
  bool use_cats = true;
  std::vector<std::int64_t> cat_order;  // params.catIds as given (class-agnostic concatenation)

  // Lazily: per (bucket, image) the GT and detection positions (evalImgs / ious order).
  bool grouped = false;
  std::size_t K = 0, I = 0;
  std::vector<std::size_t> g_begin, d_begin;  // [(k * I + i)] .. +1
  std::vector<std::uint32_t> g_pos, d_pos;

  void group() {
    if (grouped) return;
    const auto& p = mt.params;
    I = mt.image_ids.size();
    K = use_cats ? cat_order.size() : 1;
    const detkit::detail::id_index img_index(mt.image_ids);
    std::vector<std::int64_t> sorted_cats = cat_order;
    std::sort(sorted_cats.begin(), sorted_cats.end());
    const detkit::detail::id_index cat_index(sorted_cats);
    // position of each category in params.catIds (the order pycocotools concatenates in)
    std::vector<std::uint32_t> cat_rank(sorted_cats.size());
    for (std::size_t r = 0; r < cat_order.size(); ++r)
      cat_rank[cat_index.find(cat_order[r])] = static_cast<std::uint32_t>(r);
    struct key {
      std::uint64_t cell;
      std::uint32_t cat_rank, pos;
      double score;
    };
    auto bucket_of = [&](std::int64_t image_id, std::int64_t cat_id, std::uint32_t& rank) {
      const std::uint32_t im = img_index.find(image_id);
      const std::uint32_t ca = cat_index.find(cat_id);
      if (im == detkit::detail::id_index::npos || ca == detkit::detail::id_index::npos)
        return std::numeric_limits<std::uint64_t>::max();
      rank = cat_rank[ca];
      return static_cast<std::uint64_t>(use_cats ? rank : 0) * I + im;
    };
    std::vector<key> gk, dk;
    for (std::size_t j = 0; j < gt.annotations.size(); ++j) {
      std::uint32_t r = 0;
      const auto c = bucket_of(gt.annotations[j].image_id, gt.annotations[j].category_id, r);
      if (c != std::numeric_limits<std::uint64_t>::max())
        gk.push_back({c, r, static_cast<std::uint32_t>(j), 0});
    }
    for (std::size_t j = 0; j < dt->size(); ++j) {
      const coco_detection& x = (*dt)[j];
      std::uint32_t r = 0;
      const auto c = bucket_of(x.image_id, x.category_id, r);
      if (c != std::numeric_limits<std::uint64_t>::max())
        dk.push_back({c, r, static_cast<std::uint32_t>(j), x.score});
    }
    // GT: per cell, concatenated in catIds order, file order inside. Detections: the same, then a
    // stable sort on descending score (evaluateImg's argsort(kind='mergesort')).
    std::sort(gk.begin(), gk.end(), [](const key& a, const key& b) {
      if (a.cell != b.cell) return a.cell < b.cell;
      if (a.cat_rank != b.cat_rank) return a.cat_rank < b.cat_rank;
      return a.pos < b.pos;
    });
    std::sort(dk.begin(), dk.end(), [](const key& a, const key& b) {
      if (a.cell != b.cell) return a.cell < b.cell;
      if (a.score != b.score) return a.score > b.score;
      if (a.cat_rank != b.cat_rank) return a.cat_rank < b.cat_rank;
      return a.pos < b.pos;
    });
    const std::size_t cells = K * I;
    g_begin.assign(cells + 1, 0);
    d_begin.assign(cells + 1, 0);
    g_pos.clear();
    d_pos.clear();
    const std::uint32_t max_det = p.max_dets.back();
    std::size_t gi = 0, di = 0;
    for (std::size_t c = 0; c < cells; ++c) {
      g_begin[c] = g_pos.size();
      for (; gi < gk.size() && gk[gi].cell == c; ++gi) g_pos.push_back(gk[gi].pos);
      d_begin[c] = d_pos.size();
      std::uint32_t n = 0;
      for (; di < dk.size() && dk[di].cell == c; ++di)
        if (n++ < max_det) d_pos.push_back(dk[di].pos);
    }
    g_begin[cells] = g_pos.size();
    d_begin[cells] = d_pos.size();
    grouped = true;
  }
};

std::shared_ptr<evaluation> evaluate(const ground_truth& g, nb::object dt_obj,
                                     std::vector<std::int64_t> img_ids,
                                     std::vector<std::int64_t> cat_ids, bool use_cats,
                                     std::vector<double> iou_thrs, std::vector<double> rec_thrs,
                                     std::vector<std::int64_t> max_dets,
                                     std::vector<std::pair<double, double>> area_rng,
                                     std::vector<std::string> area_lbl, unsigned threads) {
  const detections& d = nb::cast<const detections&>(dt_obj);
  auto ev = std::make_shared<evaluation>();
  ev->dt_owner = dt_obj;
  ev->dt_source = &d;
  coco_eval_params& p = ev->mt.params;
  p.iou_thresholds = std::move(iou_thrs);
  p.recall_thresholds = std::move(rec_thrs);
  p.max_dets.clear();
  for (auto m : max_dets) {
    if (m <= 0 || m > 0xffffffffll)
      input_error("params", "maxDets", "entries must be in [1, 2^32), got " + std::to_string(m),
                  errc::eval_bad_params);
    p.max_dets.push_back(static_cast<std::uint32_t>(m));
  }
  if (area_lbl.size() < area_rng.size()) area_lbl.resize(area_rng.size());
  p.area_ranges.clear();
  for (std::size_t a = 0; a < area_rng.size(); ++a)
    p.area_ranges.push_back({area_lbl[a], area_rng[a].first, area_rng[a].second});
  p.categories =
      use_cats ? detkit::category_mode::per_category : detkit::category_mode::class_agnostic;
  p.threads = threads;
  p.summation = g_summation;
  ev->use_cats = use_cats;
  ev->cat_order = cat_ids;
  {
    nb::gil_scoped_release nogil;
    // pycocotools evaluates exactly params.imgIds × params.catIds: GTs and detections outside
    // them take no part (detections of other GT images are not an error there).
    std::sort(img_ids.begin(), img_ids.end());
    img_ids.erase(std::unique(img_ids.begin(), img_ids.end()), img_ids.end());
    std::vector<std::int64_t> cats = cat_ids;
    std::sort(cats.begin(), cats.end());
    cats.erase(std::unique(cats.begin(), cats.end()), cats.end());
    ev->gt.images.resize(img_ids.size());
    for (std::size_t i = 0; i < img_ids.size(); ++i) ev->gt.images[i].id = img_ids[i];
    ev->gt.categories.resize(cats.size());
    for (std::size_t i = 0; i < cats.size(); ++i) ev->gt.categories[i].id = cats[i];
    const detkit::detail::id_index img_index(img_ids), cat_index(cats);
    const auto npos = detkit::detail::id_index::npos;
    ev->gt.annotations.reserve(g.gt.annotations.size());
    for (const auto& a : g.gt.annotations)
      if (img_index.find(a.image_id) != npos && cat_index.find(a.category_id) != npos)
        ev->gt.annotations.push_back(a);
    auto selected = [&](const coco_detection& x) {
      return img_index.find(x.image_id) != npos && cat_index.find(x.category_id) != npos;
    };
    ev->dt = &d.dets;
    if (!std::all_of(d.dets.begin(), d.dets.end(), selected)) {
      for (std::size_t i = 0; i < d.dets.size(); ++i)
        if (selected(d.dets[i])) {
          ev->dt_copy.push_back(d.dets[i]);
          ev->dt_copy_ids.push_back(d.id_of(i));
        }
      ev->dt = &ev->dt_copy;
    }
    auto mt = detkit::try_evaluate_images(ev->gt, *ev->dt, p);
    if (!mt) throw detkit::parse_error(std::move(mt).error());
    ev->mt = std::move(*mt);
  }
  return ev;
}

// precision, recall and scores (pycocotools' eval arrays, their shapes and dtypes).
nb::object accumulation_arrays(detkit::coco_accumulation&& acc) {
  const std::size_t T = acc.num_iou, R = acc.num_recall, K = acc.num_categories, A = acc.num_areas,
                    M = acc.num_max_dets;
  nb::object pr = to_numpy(std::move(acc.precision), {T, R, K, A, M});
  nb::object rc = to_numpy(std::move(acc.recall), {T, K, A, M});
  nb::object sc = to_numpy(std::move(acc.scores), {T, R, K, A, M});
  return nb::make_tuple(pr, rc, sc);
}

nb::object accumulate(evaluation& ev, double cutoff) {
  detkit::coco_accumulation acc;
  {
    nb::gil_scoped_release nogil;
    acc = detkit::accumulate(ev.mt, cutoff);
  }
  return accumulation_arrays(std::move(acc));
}

// Reads a (K', A', M') slice of user-supplied evalImgs records (pycocotools' accumulate over
// k_list × a_list × m_list, images i_list; index = k0 * A0 * I0 + a0 * I0 + i) into a matching,
// then accumulates it with the library. Records of one image and category must list the same
// detections in every area range (they do: evaluateImg's detections do not depend on it).
nb::object accumulate_records(nb::handle records, std::vector<std::int64_t> k_list,
                              std::vector<std::int64_t> a_list, std::vector<std::int64_t> m_vals,
                              std::vector<std::int64_t> i_list, std::int64_t I0, std::int64_t A0,
                              std::vector<double> iou_thrs, std::vector<double> rec_thrs) {
  if (!PyList_Check(records.ptr()) && !PyTuple_Check(records.ptr()))
    input_error("evalImgs", nullptr, "expected a list, got " + short_repr(records));
  const Py_ssize_t total = PySequence_Fast_GET_SIZE(records.ptr());
  coco_matches mt;
  coco_eval_params& p = mt.params;
  p.iou_thresholds = std::move(iou_thrs);
  p.recall_thresholds = std::move(rec_thrs);
  p.max_dets.clear();
  for (auto m : m_vals)
    p.max_dets.push_back(static_cast<std::uint32_t>(std::max<std::int64_t>(m, 0)));
  p.area_ranges.assign(a_list.size(), {});
  const std::size_t T = p.iou_thresholds.size(), A = a_list.size();
  if (T == 0 || T > 32)
    input_error("params", "iouThrs", "needs 1 to 32 thresholds", errc::eval_bad_params);
  for (std::size_t i = 0; i < i_list.size(); ++i)
    mt.image_ids.push_back(static_cast<std::int64_t>(i));
  mt.categories.resize(k_list.size());
  std::vector<std::uint32_t> rank_cap(1, 0);
  for (std::size_t kk = 0; kk < k_list.size(); ++kk) {
    auto& c = mt.categories[kk];
    c.category_id = static_cast<std::int64_t>(kk);
    c.num_gt.assign(A, 0);
    std::vector<double> score;
    std::vector<std::uint32_t> image, rank, tpm, igm;
    for (std::size_t ii = 0; ii < i_list.size(); ++ii) {
      std::ptrdiff_t D = -1;
      std::size_t base = score.size();
      for (std::size_t aa = 0; aa < A; ++aa) {
        const std::int64_t at = k_list[kk] * A0 * I0 + a_list[aa] * I0 + i_list[ii];
        const where_of w{"evalImgs", static_cast<std::size_t>(at)};
        if (at < 0 || at >= total) input_error(w, nullptr, "index out of range");
        nb::handle e = PySequence_Fast_GET_ITEM(records.ptr(), at);
        if (e.is_none()) continue;
        need_dict(e, w);
        nb::handle scores_h = need(e, "dtScores", w);
        PyObject* seq = PySequence_Fast(scores_h.ptr(), "");
        if (!seq) {
          PyErr_Clear();
          input_error(w, "dtScores", "expected a list of numbers");
        }
        const std::size_t n = static_cast<std::size_t>(PySequence_Fast_GET_SIZE(seq));
        if (D < 0) {
          D = static_cast<std::ptrdiff_t>(n);
          try {
            for (std::size_t d = 0; d < n; ++d) {
              score.push_back(as_number(PySequence_Fast_GET_ITEM(seq, d), w, "dtScores"));
              image.push_back(static_cast<std::uint32_t>(ii));
              rank.push_back(static_cast<std::uint32_t>(d));
            }
          } catch (...) {
            Py_DECREF(seq);
            throw;
          }
          tpm.resize((base + n) * A, 0);
          igm.resize((base + n) * A, 0);
        }
        Py_DECREF(seq);
        if (static_cast<std::size_t>(D) != n)
          input_error(w, "dtScores",
                      "lists " + std::to_string(n) +
                          " detections, another area range of the "
                          "same image and category " +
                          std::to_string(D));
        nb::ndarray<const double, nb::ndim<2>, nb::c_contig, nb::device::cpu> dtm, dtig;
        if (!nb::try_cast(need(e, "dtMatches", w), dtm) || dtm.shape(0) != T || dtm.shape(1) != n)
          input_error(w, "dtMatches", "expected a T×D array of numbers");
        nb::ndarray<const bool, nb::ndim<2>, nb::c_contig, nb::device::cpu> dtig_b;
        const bool ig_bool = nb::try_cast(need(e, "dtIgnore", w), dtig_b, false) &&
                             dtig_b.shape(0) == T && dtig_b.shape(1) == n;
        if (!ig_bool && (!nb::try_cast(need(e, "dtIgnore", w), dtig) || dtig.shape(0) != T ||
                         dtig.shape(1) != n))
          input_error(w, "dtIgnore", "expected a T×D array");
        for (std::size_t t = 0; t < T; ++t)
          for (std::size_t d = 0; d < n; ++d) {
            const bool ig = ig_bool ? dtig_b.data()[t * n + d] : dtig.data()[t * n + d] != 0;
            const bool matched = dtm.data()[t * n + d] != 0;
            const std::size_t slot = (base + d) * A + aa;
            if (ig)
              igm[slot] |= 1u << t;
            else if (matched)
              tpm[slot] |= 1u << t;
          }
        PyObject* gig = PySequence_Fast(need(e, "gtIgnore", w).ptr(), "");
        if (!gig) {
          PyErr_Clear();
          input_error(w, "gtIgnore", "expected a sequence");
        }
        std::uint32_t npig = 0;
        const Py_ssize_t G = PySequence_Fast_GET_SIZE(gig);
        for (Py_ssize_t j = 0; j < G; ++j) {
          const int tr = PyObject_IsTrue(PySequence_Fast_GET_ITEM(gig, j));
          if (tr < 0) {
            PyErr_Clear();
            Py_DECREF(gig);
            input_error(w, "gtIgnore", "not a truth value");
          }
          npig += tr == 0;
        }
        Py_DECREF(gig);
        c.num_gt[aa] += npig;
      }
    }
    std::vector<std::uint32_t> perm(score.size());
    std::iota(perm.begin(), perm.end(), 0u);
    std::stable_sort(perm.begin(), perm.end(),
                     [&](std::uint32_t x, std::uint32_t y) { return score[x] > score[y]; });
    detkit::detail::resize_ranked(c, perm.size(), A);
    for (std::size_t i = 0; i < perm.size(); ++i) {
      const std::uint32_t s = perm[i];
      c.score[i] = score[s];
      c.image_index[i] = image[s];
      c.detection_index[i] = s;
      c.rank[i] = rank[s];
      c.gt_index[i] = detkit::no_match;
      for (std::size_t a = 0; a < A; ++a) {
        c.tp_mask[i * A + a] = tpm[s * A + a];
        c.ignore_mask[i * A + a] = igm[s * A + a];
      }
    }
    detkit::detail::build_events(c, p);
  }
  detkit::coco_accumulation acc;
  {
    nb::gil_scoped_release nogil;
    acc = detkit::accumulate(mt);
  }
  return accumulation_arrays(std::move(acc));
}

// pycocotools summarize(): the 12 stats and the printed text, from eval['precision'/'recall'].
nb::object summarize(
    nb::ndarray<const double, nb::ndim<5>, nb::c_contig, nb::device::cpu> precision,
    nb::ndarray<const double, nb::ndim<4>, nb::c_contig, nb::device::cpu> recall,
    std::vector<double> iou_thrs, std::vector<std::int64_t> max_dets,
    std::vector<std::string> area_lbl) {
  detkit::coco_accumulation acc;
  acc.num_iou = precision.shape(0);
  acc.num_recall = precision.shape(1);
  acc.num_categories = precision.shape(2);
  acc.num_areas = precision.shape(3);
  acc.num_max_dets = precision.shape(4);
  if (recall.shape(0) != acc.num_iou || recall.shape(1) != acc.num_categories ||
      recall.shape(2) != acc.num_areas || recall.shape(3) != acc.num_max_dets)
    input_error("eval", "recall", "shape does not match precision", errc::eval_bad_params);
  if (iou_thrs.size() != acc.num_iou || max_dets.size() != acc.num_max_dets ||
      area_lbl.size() != acc.num_areas)
    input_error("params", nullptr,
                "iouThrs / maxDets / areaRngLbl do not match eval['precision']'s shape",
                errc::eval_bad_params);
  if (max_dets.empty()) input_error("params", "maxDets", "is empty", errc::eval_bad_params);
  acc.precision.assign(precision.data(), precision.data() + precision.size());
  acc.recall.assign(recall.data(), recall.data() + recall.size());
  coco_eval_params p;
  p.summation = g_summation;
  p.iou_thresholds = std::move(iou_thrs);
  p.max_dets.clear();
  for (auto m : max_dets)
    p.max_dets.push_back(static_cast<std::uint32_t>(std::max<std::int64_t>(m, 0)));
  p.area_ranges.clear();
  for (auto& l : area_lbl) p.area_ranges.push_back({l, 0, 0});
  std::vector<std::int64_t> cats(acc.num_categories, -1);
  const detkit::coco_summary s = detkit::summarize(acc, p, cats);
  std::vector<double> stats(s.stats.begin(), s.stats.end());
  return nb::make_tuple(to_numpy(std::move(stats), {12}), detkit::format_summary(s, p));
}

// evalImgs: pycocotools' list over (category, area range, image), None where the image has
// neither GT nor detections of the category.
nb::list eval_imgs(evaluation& ev, nb::handle area_rng_objs) {
  if (!ev.dt)
    input_error("evaluation", nullptr,
                "evalImgs / ious need the inputs; an evaluation read from state files has only "
                "the matching",
                errc::eval_bad_params);
  ev.group();
  const auto& p = ev.mt.params;
  const std::size_t T = p.iou_thresholds.size(), A = p.area_ranges.size();
  nb::list out;
  detkit::coco_image_eval rec;
  std::vector<double> iou;
  std::vector<const coco_annotation*> gp;
  std::vector<const coco_detection*> dp;
  std::vector<std::int64_t> ids;
  // evaluateImg per (k, a, i); the matching of (k, i) is shared by the A records, so compute the
  // records cell by cell and place them.
  const std::size_t K = ev.K, I = ev.I;
  std::vector<nb::object> cells(K * A * I);
  nb::object none = nb::none();
  for (std::size_t k = 0; k < K; ++k) {
    nb::object cat_id = nb::int_(ev.use_cats ? ev.cat_order[k] : -1);
    for (std::size_t i = 0; i < I; ++i) {
      const std::size_t cell = k * I + i;
      gp.clear();
      dp.clear();
      ids.clear();
      for (std::size_t j = ev.g_begin[cell]; j < ev.g_begin[cell + 1]; ++j)
        gp.push_back(&ev.gt.annotations[ev.g_pos[j]]);
      for (std::size_t j = ev.d_begin[cell]; j < ev.d_begin[cell + 1]; ++j) {
        dp.push_back(&(*ev.dt)[ev.d_pos[j]]);
        ids.push_back(ev.dt_id(ev.d_pos[j]));
      }
      const std::size_t G = gp.size(), D = dp.size();
      if (G == 0 && D == 0) {
        for (std::size_t a = 0; a < A; ++a) cells[(k * A + a) * I + i] = none;
        continue;
      }
      detkit::coco_iou_matrix(gp.data(), G, dp.data(), D, iou);
      nb::object img_id = nb::int_(ev.mt.image_ids[i]);
      nb::list dt_ids, dt_scores;
      for (std::size_t d = 0; d < D; ++d) {
        dt_ids.append(ids[d]);
        dt_scores.append(dp[d]->score);
      }
      for (std::size_t a = 0; a < A; ++a) {
        detkit::evaluate_image_record(gp.data(), G, dp.data(), ids.data(), D, iou, p, a, rec);
        nb::list gt_ids;
        for (std::size_t j = 0; j < G; ++j) gt_ids.append(gp[rec.gt_order[j]]->id);
        nb::object gt_ignore;
        if (G == 0) {
          gt_ignore = to_numpy(std::vector<double>{}, {0});  // np.array([]) is float64
        } else {
          std::vector<std::int64_t> gi(rec.gt_ignore.begin(), rec.gt_ignore.end());
          gt_ignore = to_numpy(std::move(gi), {G});
        }
        nb::dict e;
        e["image_id"] = img_id;
        e["category_id"] = cat_id;
        e["aRng"] = area_rng_objs[a];
        e["maxDet"] = p.max_dets.back();
        e["dtIds"] = dt_ids;
        e["gtIds"] = gt_ids;
        e["dtMatches"] = to_numpy(std::move(rec.dt_matches), {T, D});
        e["gtMatches"] = to_numpy(std::move(rec.gt_matches), {T, G});
        e["dtScores"] = dt_scores;
        e["gtIgnore"] = gt_ignore;
        e["dtIgnore"] = to_numpy<std::uint8_t, bool>(std::move(rec.dt_ignore), {T, D});
        cells[(k * A + a) * I + i] = std::move(e);
      }
    }
  }
  for (auto& c : cells) out.append(c);
  return out;
}

// ious: {(imgId, catId): D×G array, or [] when either list is empty}.
nb::dict ious(evaluation& ev) {
  if (!ev.dt)
    input_error("evaluation", nullptr,
                "evalImgs / ious need the inputs; an evaluation read from state files has only "
                "the matching",
                errc::eval_bad_params);
  ev.group();
  nb::dict out;
  std::vector<double> iou;
  std::vector<const coco_annotation*> gp;
  std::vector<const coco_detection*> dp;
  for (std::size_t i = 0; i < ev.I; ++i) {
    for (std::size_t k = 0; k < ev.K; ++k) {
      const std::size_t cell = k * ev.I + i;
      gp.clear();
      dp.clear();
      // computeIoU uses the GTs in their stored order (not sorted by ignore).
      for (std::size_t j = ev.g_begin[cell]; j < ev.g_begin[cell + 1]; ++j)
        gp.push_back(&ev.gt.annotations[ev.g_pos[j]]);
      for (std::size_t j = ev.d_begin[cell]; j < ev.d_begin[cell + 1]; ++j)
        dp.push_back(&(*ev.dt)[ev.d_pos[j]]);
      nb::object key = nb::make_tuple(ev.mt.image_ids[i], ev.use_cats ? ev.cat_order[k] : -1);
      if (gp.empty() || dp.empty()) {
        out[key] = nb::list();
        continue;
      }
      detkit::coco_iou_matrix(gp.data(), gp.size(), dp.data(), dp.size(), iou);
      std::vector<double> copy(iou);
      out[key] = to_numpy(std::move(copy), {dp.size(), gp.size()});
    }
  }
  return out;
}

// ---- Beyond pycocotools: reports, states, Open Images, the label cache ----------------------

void need_inputs(const evaluation& ev, const char* what) {
  if (!ev.dt)
    input_error("evaluation", nullptr,
                std::string(what) +
                    " needs the inputs; an evaluation read from state files "
                    "has only the matching",
                errc::eval_bad_params);
}

detkit::coco_report_point report_point(const evaluation& ev, double iou, std::int64_t max_dets,
                                       std::int64_t area) {
  const auto& p = ev.mt.params;
  detkit::coco_report_point pt;
  pt.iou_threshold = iou;
  pt.max_dets = max_dets <= 0 ? p.max_dets.back() : static_cast<std::uint32_t>(max_dets);
  if (area < 0 || static_cast<std::size_t>(area) >= p.area_ranges.size())
    input_error("params", "areaRng", "area range index out of range", errc::eval_bad_params);
  pt.area_range = static_cast<std::size_t>(area);
  return pt;
}

template <class T>
nb::object column(std::vector<T>&& v) {
  const std::size_t n = v.size();
  return to_numpy(std::move(v), {n});
}

nb::dict counts_columns(const std::vector<detkit::coco_counts>& rows) {
  std::vector<std::int64_t> cat;
  std::vector<double> conf, pr, rc, f1;
  std::vector<std::uint64_t> tp, fp, fn;
  for (const auto& r : rows) {
    cat.push_back(r.category_id);
    conf.push_back(r.confidence);
    tp.push_back(r.tp);
    fp.push_back(r.fp);
    fn.push_back(r.fn);
    pr.push_back(r.precision);
    rc.push_back(r.recall);
    f1.push_back(r.f1);
  }
  nb::dict d;
  d["category_id"] = column(std::move(cat));
  d["confidence"] = column(std::move(conf));
  d["tp"] = column(std::move(tp));
  d["fp"] = column(std::move(fp));
  d["fn"] = column(std::move(fn));
  d["precision"] = column(std::move(pr));
  d["recall"] = column(std::move(rc));
  d["f1"] = column(std::move(f1));
  return d;
}

nb::object sweep(evaluation& ev, std::vector<double> cutoffs) {
  std::vector<detkit::coco_summary> s;
  {
    nb::gil_scoped_release nogil;
    s = detkit::sweep_score_cutoffs(ev.mt, cutoffs);
  }
  std::vector<double> out;
  for (const auto& x : s) out.insert(out.end(), x.stats.begin(), x.stats.end());
  return to_numpy(std::move(out), {s.size(), 12});
}

nb::object per_category(evaluation& ev, double cutoff) {
  std::vector<std::array<double, 12>> rows;
  {
    nb::gil_scoped_release nogil;
    rows = detkit::per_category_stats(detkit::accumulate(ev.mt, cutoff), ev.mt);
  }
  std::vector<double> flat;
  for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  return nb::make_tuple(column(detkit::category_ids(ev.mt)),
                        to_numpy(std::move(flat), {rows.size(), 12}));
}

nb::dict counts(evaluation& ev, double iou, std::int64_t max_dets, std::int64_t area,
                double confidence) {
  return counts_columns(
      detkit::try_counts_at(ev.mt, report_point(ev, iou, max_dets, area), confidence).value());
}

nb::dict f1_optimal(evaluation& ev, double iou, std::int64_t max_dets, std::int64_t area) {
  return counts_columns(
      detkit::try_f1_optimal(ev.mt, report_point(ev, iou, max_dets, area)).value());
}

detkit::coco_match_log make_log(evaluation& ev, double iou, std::int64_t max_dets,
                                std::int64_t area, double cutoff) {
  need_inputs(ev, "the match log");
  auto pt = report_point(ev, iou, max_dets, area);
  detkit::coco_match_log log;
  {
    nb::gil_scoped_release nogil;
    log = detkit::try_match_log(ev.mt, ev.gt, *ev.dt, pt).value();
    if (cutoff > -std::numeric_limits<double>::infinity())
      log = detkit::match_log_at_cutoff(log, cutoff);
  }
  return log;
}

nb::object match_log(evaluation& ev, double iou, std::int64_t max_dets, std::int64_t area,
                     double cutoff) {
  const detkit::coco_match_log log = make_log(ev, iou, max_dets, area, cutoff);
  std::vector<std::int64_t> id, img, cat, rank, gt_id, gt_cat;
  std::vector<double> score, iou_v;
  std::vector<std::uint8_t> status, reason, has_gt;
  for (const auto& m : log.detections) {
    id.push_back(ev.dt_id(m.detection_index));
    img.push_back(m.image_id);
    cat.push_back(m.category_id);
    score.push_back(m.score);
    rank.push_back(m.has_rank ? static_cast<std::int64_t>(m.rank) : -1);
    status.push_back(static_cast<std::uint8_t>(m.status));
    reason.push_back(static_cast<std::uint8_t>(m.reason));
    has_gt.push_back(m.has_gt);
    gt_id.push_back(m.gt_id);
    gt_cat.push_back(m.gt_category_id);
    iou_v.push_back(m.iou);
  }
  nb::dict d;
  d["id"] = column(std::move(id));
  d["image_id"] = column(std::move(img));
  d["category_id"] = column(std::move(cat));
  d["score"] = column(std::move(score));
  d["rank"] = column(std::move(rank));
  d["status"] = column(std::move(status));
  d["reason"] = column(std::move(reason));
  const std::size_t n = has_gt.size();
  d["has_gt"] = to_numpy<std::uint8_t, bool>(std::move(has_gt), {n});
  d["gt_id"] = column(std::move(gt_id));
  d["gt_category_id"] = column(std::move(gt_cat));
  d["iou"] = column(std::move(iou_v));
  std::vector<std::int64_t> g_id, g_img, g_cat, g_det;
  std::vector<std::uint8_t> g_status, g_reason, g_has;
  std::vector<double> g_score;
  for (const auto& g : log.gt) {
    g_id.push_back(g.id);
    g_img.push_back(g.image_id);
    g_cat.push_back(g.category_id);
    g_status.push_back(static_cast<std::uint8_t>(g.status));
    g_reason.push_back(static_cast<std::uint8_t>(g.reason));
    g_has.push_back(g.has_detection);
    g_det.push_back(g.has_detection ? ev.dt_id(g.detection_index) : 0);
    g_score.push_back(g.has_detection ? g.score : 0.0);
  }
  nb::dict gd;
  gd["id"] = column(std::move(g_id));
  gd["image_id"] = column(std::move(g_img));
  gd["category_id"] = column(std::move(g_cat));
  gd["status"] = column(std::move(g_status));
  gd["reason"] = column(std::move(g_reason));
  const std::size_t gn = g_has.size();
  gd["has_detection"] = to_numpy<std::uint8_t, bool>(std::move(g_has), {gn});
  gd["detection_id"] = column(std::move(g_det));
  gd["score"] = column(std::move(g_score));
  return nb::make_tuple(d, gd);
}

nb::object confusion(evaluation& ev, double iou, std::int64_t max_dets, std::int64_t area,
                     double confidence) {
  const detkit::coco_match_log log =
      make_log(ev, iou, max_dets, area, -std::numeric_limits<double>::infinity());
  detkit::coco_confusion_matrix cm;
  {
    nb::gil_scoped_release nogil;
    cm = detkit::confusion_matrix(ev.gt, *ev.dt, log, confidence);
  }
  const std::size_t n = cm.category_ids.size() + 1;
  return nb::make_tuple(column(std::move(cm.category_ids)), to_numpy(std::move(cm.cells), {n, n}));
}

void save_state(const evaluation& ev, const std::string& path) {
  nb::gil_scoped_release nogil;
  detkit::try_write_eval_state(path, ev.mt).value();
}

std::shared_ptr<evaluation> from_matches(coco_matches&& mt) {
  auto ev = std::make_shared<evaluation>();
  ev->mt = std::move(mt);
  ev->use_cats = ev->mt.params.categories == detkit::category_mode::per_category;
  ev->cat_order = detkit::category_ids(ev->mt);
  return ev;
}

std::shared_ptr<evaluation> merge_states(std::vector<std::string> paths) {
  coco_matches merged;
  {
    nb::gil_scoped_release nogil;
    std::vector<coco_matches> shards;
    for (const auto& p : paths) shards.push_back(detkit::try_read_eval_state(p).value());
    merged = detkit::try_merge_eval_states(shards, paths).value();
  }
  return from_matches(std::move(merged));
}

nb::dict params_of(const evaluation& ev) {
  const auto& p = ev.mt.params;
  nb::dict d;
  d["imgIds"] = column(std::vector<std::int64_t>(ev.mt.image_ids));
  d["catIds"] = column(detkit::category_ids(ev.mt));
  d["iouThrs"] = column(std::vector<double>(p.iou_thresholds));
  d["recThrs"] = column(std::vector<double>(p.recall_thresholds));
  nb::list md, rng, lbl;
  for (auto m : p.max_dets) md.append(m);
  for (const auto& a : p.area_ranges) {
    nb::list r;
    r.append(a.lo);
    r.append(a.hi);
    rng.append(r);
    lbl.append(a.label);
  }
  d["maxDets"] = md;
  d["areaRng"] = rng;
  d["areaRngLbl"] = lbl;
  d["useCats"] = ev.use_cats ? 1 : 0;
  return d;
}

// Open Images: columns in, {map, per-class columns, counts} out.
template <class T, int N = 1>
using in_array = nb::ndarray<const T, nb::ndim<N>, nb::c_contig, nb::device::cpu>;

nb::dict evaluate_open_images(in_array<std::uint64_t> gt_image, in_array<std::uint32_t> gt_class,
                              in_array<float, 2> gt_box, in_array<bool> gt_group_of,
                              in_array<std::uint64_t> label_image,
                              in_array<std::uint32_t> label_class, in_array<bool> label_present,
                              in_array<std::uint64_t> det_image, in_array<std::uint32_t> det_class,
                              in_array<double> det_score, in_array<float, 2> det_box,
                              std::size_t num_classes,
                              std::vector<std::vector<std::uint32_t>> parents, bool expand,
                              double iou_threshold, double group_of_weight) {
  const std::size_t G = gt_image.shape(0), L = label_image.shape(0), D = det_image.shape(0);
  if (gt_class.shape(0) != G || gt_box.shape(0) != G || gt_box.shape(1) != 4 ||
      gt_group_of.shape(0) != G)
    input_error("gt", nullptr, "gt arrays must have one row each (boxes N×4 x1,y1,x2,y2)");
  if (label_class.shape(0) != L || label_present.shape(0) != L)
    input_error("labels", nullptr, "label arrays must have one row each");
  if (det_class.shape(0) != D || det_score.shape(0) != D || det_box.shape(0) != D ||
      det_box.shape(1) != 4)
    input_error("detections", nullptr, "detection arrays must have one row each (boxes N×4)");
  std::vector<detkit::oi_gt_box> boxes(G);
  for (std::size_t i = 0; i < G; ++i) {
    const float* b = gt_box.data() + 4 * i;
    boxes[i] = {
        gt_image.data()[i], gt_class.data()[i], {b[0], b[1], b[2], b[3]}, gt_group_of.data()[i]};
  }
  std::vector<detkit::oi_image_label> labels(L);
  for (std::size_t i = 0; i < L; ++i)
    labels[i] = {label_image.data()[i], label_class.data()[i], label_present.data()[i]};
  std::vector<detkit::oi_detection> dets(D);
  for (std::size_t i = 0; i < D; ++i) {
    const float* b = det_box.data() + 4 * i;
    dets[i] = {
        det_image.data()[i], det_class.data()[i], det_score.data()[i], {b[0], b[1], b[2], b[3]}};
  }
  detkit::oi_eval_options opt;
  opt.iou_threshold = iou_threshold;
  opt.group_of_weight = group_of_weight;
  opt.expansion = expand ? detkit::hierarchy_expansion::expand : detkit::hierarchy_expansion::none;
  detkit::oi_eval_result r;
  {
    nb::gil_scoped_release nogil;
    detkit::oi_class_relations rel;
    if (expand) {
      parents.resize(num_classes);
      rel = detkit::make_class_relations(parents);
    }
    r = detkit::try_evaluate_open_images(std::move(boxes), std::move(labels), dets, num_classes,
                                         expand ? &rel : nullptr, opt)
            .value();
  }
  std::vector<std::uint32_t> ci;
  std::vector<double> ap, ngt;
  std::vector<std::uint64_t> tp, fp;
  for (const auto& c : r.per_class) {
    ci.push_back(c.class_index);
    ap.push_back(c.ap);
    ngt.push_back(c.num_gt);
    tp.push_back(c.true_positives);
    fp.push_back(c.false_positives);
  }
  nb::dict pc;
  pc["class_index"] = column(std::move(ci));
  pc["ap"] = column(std::move(ap));
  pc["num_gt"] = column(std::move(ngt));
  pc["true_positives"] = column(std::move(tp));
  pc["false_positives"] = column(std::move(fp));
  nb::dict d;
  d["map"] = r.map;
  d["per_class"] = pc;
  d["detections_read"] = r.detections_read;
  d["detections_not_evaluatable"] = r.detections_not_evaluatable;
  d["detections_image_without_gt"] = r.detections_image_without_gt;
  d["detections_invalid_box"] = r.detections_invalid_box;
  d["detections_group_of"] = r.detections_group_of;
  return d;
}

// The label cache, opened (and verified) once; views are numpy arrays over the mapping.
struct label_cache_handle {
  detkit::label_cache cache;
};

std::shared_ptr<label_cache_handle> open_label_cache(const std::string& path, bool verify) {
  detkit::cache_open_options o;
  o.verify = verify ? detkit::cache_verify::full : detkit::cache_verify::structure;
  nb::gil_scoped_release nogil;
  return std::make_shared<label_cache_handle>(
      label_cache_handle{detkit::label_cache::try_open(path, o).value()});
}

// Raw bytes of a view, owned by the handle's Python object (np.frombuffer-style, zero copy).
template <class T>
nb::object raw_bytes(nb::handle self, const T* data, std::size_t n) {
  static const std::uint8_t empty = 0;
  const std::uint8_t* p = n ? reinterpret_cast<const std::uint8_t*>(data) : &empty;
  return nb::cast(nb::ndarray<nb::numpy, const std::uint8_t>(p, {n * sizeof(T)}, self),
                  nb::rv_policy::reference);
}
}  // namespace

NB_MODULE(_detkit, m) {
  m.doc() = "detkit's native evaluator (use the pycocotools-shaped API in `detkit`).";
  nb::exception<detkit::parse_error>(m, "ParseError", PyExc_ValueError);

  nb::class_<ground_truth>(m, "GroundTruth")
      .def_static("from_file", &gt_from_file, "path"_a)
      .def_static("from_dataset", &gt_from_dataset, "dataset"_a)
      .def_prop_ro("num_images", [](const ground_truth& g) { return g.gt.images.size(); })
      .def_prop_ro("num_annotations", [](const ground_truth& g) { return g.gt.annotations.size(); })
      .def("image_ids",
           [](const ground_truth& g) {
             std::vector<std::int64_t> v;
             for (const auto& i : g.gt.images) v.push_back(i.id);
             return to_numpy(std::move(v), {g.gt.images.size()});
           })
      .def("category_ids", [](const ground_truth& g) {
        std::vector<std::int64_t> v;
        for (const auto& c : g.gt.categories) v.push_back(c.id);
        return to_numpy(std::move(v), {g.gt.categories.size()});
      });

  nb::class_<detections>(m, "Detections")
      .def_static("from_file", &dt_from_file, "path"_a)
      .def_static("from_list", &dt_from_list, "results"_a)
      .def_static("from_array", &dt_from_array, "array"_a)
      .def("__len__", [](const detections& d) { return d.dets.size(); })
      .def("set_ids",
           [](detections& d, nb::ndarray<const std::int64_t, nb::ndim<1>, nb::device::cpu> ids) {
             if (ids.shape(0) != d.dets.size())
               input_error("results", "id", "one id per detection needed");
             d.ids.assign(ids.data(), ids.data() + ids.shape(0));
           })
      .def("filter_min_score",
           [](detections& d, double min_score) {
             // Keeps score >= min_score; returns the kept positions. Ids follow the kept list.
             std::vector<std::int64_t> keep;
             std::size_t n = 0;
             for (std::size_t i = 0; i < d.dets.size(); ++i)
               if (d.dets[i].score >= min_score) {
                 keep.push_back(static_cast<std::int64_t>(i));
                 d.dets[n] = d.dets[i];
                 if (!d.ids.empty()) d.ids[n] = d.ids[i];
                 ++n;
               }
             d.dets.resize(n);
             if (!d.ids.empty()) d.ids.resize(n);
             const std::size_t k = keep.size();
             return to_numpy(std::move(keep), {k});
           })
      .def("foreign_images",
           [](const detections& d, const ground_truth& g) {
             // loadRes' check: (count of results on images outside the GT, the first such id).
             std::vector<std::int64_t> ids;
             for (const auto& im : g.gt.images) ids.push_back(im.id);
             std::sort(ids.begin(), ids.end());
             ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
             const detkit::detail::id_index index(ids);
             std::size_t n = 0;
             std::int64_t first = 0;
             for (const auto& x : d.dets)
               if (index.find(x.image_id) == detkit::detail::id_index::npos && n++ == 0)
                 first = x.image_id;
             return std::make_pair(n, first);
           })
      .def("image_ids", [](const detections& d) {
        auto v = unique_image_ids(d);
        const std::size_t n = v.size();
        return to_numpy(std::move(v), {n});
      });

  nb::class_<evaluation>(m, "Evaluation")
      .def("accumulate", &accumulate, "score_cutoff"_a)
      .def("eval_imgs", &eval_imgs, "area_rng"_a)
      .def("ious", &ious)
      .def("sweep", &sweep)
      .def("per_category", &per_category)
      .def("counts", &counts)
      .def("f1_optimal", &f1_optimal)
      .def("match_log", &match_log)
      .def("confusion_matrix", &confusion)
      .def("save_state", &save_state)
      .def("params", &params_of)
      .def_prop_ro("detections_read",
                   [](const evaluation& e) { return e.mt.report.detections_read; });

  m.def("evaluate", &evaluate, "gt"_a, "dt"_a, "img_ids"_a, "cat_ids"_a, "use_cats"_a, "iou_thrs"_a,
        "rec_thrs"_a, "max_dets"_a, "area_rng"_a, "area_lbl"_a, "threads"_a);
  m.def("accumulate_records", &accumulate_records);
  m.def(
      "set_numpy_major",
      [](int major) {
        g_summation =
            major < 2 ? detkit::numpy_summation::numpy_1 : detkit::numpy_summation::numpy_2;
      },
      "major"_a);
  m.def("summarize", &summarize);
  nb::class_<label_cache_handle>(m, "LabelCacheHandle")
      .def("classes",
           [](const label_cache_handle& h) {
             nb::list out;
             for (const auto& c : h.cache.classes())
               out.append(nb::make_tuple(std::string(h.cache.class_mid(c)),
                                         std::string(h.cache.class_name(c))));
             return out;
           })
      .def("image_ids",
           [](const label_cache_handle& h) {
             nb::list out;
             for (const auto& im : h.cache.images()) out.append(std::string(h.cache.image_id(im)));
             return out;
           })
      .def("file_names",
           [](const label_cache_handle& h) {
             nb::list out;
             for (const auto& im : h.cache.images()) out.append(std::string(h.cache.file_name(im)));
             return out;
           })
      .def("images_bytes",
           [](nb::handle self) {
             const auto& h = nb::cast<const label_cache_handle&>(self);
             return raw_bytes(self, h.cache.images().data(), h.cache.images().size());
           })
      .def("boxes_bytes",
           [](nb::handle self) {
             const auto& h = nb::cast<const label_cache_handle&>(self);
             return raw_bytes(self, h.cache.boxes().data(), h.cache.boxes().size());
           })
      .def_prop_ro("settings",
                   [](const label_cache_handle& h) { return std::string(h.cache.settings()); })
      .def_prop_ro("path", [](const label_cache_handle& h) { return h.cache.path(); });
  m.def("open_label_cache", &open_label_cache, "path"_a, "verify"_a = true);
  m.def("merge_states", &merge_states, "paths"_a);
  m.def("evaluate_open_images", &evaluate_open_images);
  m.attr("image_entry_bytes") = sizeof(detkit::cached_image);
  m.attr("box_entry_bytes") = sizeof(detkit::cached_box);
}
