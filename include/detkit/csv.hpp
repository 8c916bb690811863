// detkit/csv.hpp — memory-mapped CSV reader: RFC 4180 records as string_view fields, located errors,
// strict or lenient reading, and a parallel chunked scan with a "filter-first" fast path.
//
// Mirrors RFC 4180 (quoted fields, "" escapes, delimiters and line breaks inside quotes) with the
// usual relaxations: LF or CRLF line ends, an optional header whose columns are found by name, and a
// last line without a line end. Design notes:
// - The file is mmap'd; unquoted fields are views into it, so reading allocates nothing per row
//   (the record's buffers are reused; only fields with "" escapes are copied into a scratch buffer).
// - Each line is scanned 16 bytes at a time (SSE2 on x86-64, a scalar loop elsewhere) for '\n', the
//   delimiter and '"'. Lines without a quote take the fast path: field bounds come from the
//   delimiter positions; every line's field count is still checked.
// - Filter-first: a prefilter looks at one field (e.g. LabelName) before the rest of the row is
//   split, so the ~99% of Open Images rows that a class filter rejects cost one line scan.
// - try_scan_parallel splits the body at '\n' into N chunks, one thread each, with one user state
//   per chunk, merged by the caller in file order. Line breaks inside quoted fields are then an
//   error (a chunk could start inside one), so such files must be read with one chunk.
//
//     auto file = detkit::csv_file::try_open("train-annotations-bbox.csv");     // result<csv_file>
//     auto layout = detkit::try_read_layout(*file, opts);                      // header, columns
//     std::size_t xmin = *layout->try_find("XMin");
//     auto report = detkit::try_scan(*file, *layout, opts, detkit::no_prefilter{},
//         [&](const detkit::csv_record& r, detkit::row_error& e) { ...; return detkit::row_action::keep; });
#pragma once

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "detkit/callback.hpp"
#include "detkit/detail/mmap.hpp"
#include "detkit/error.hpp"

#if !defined(DETKIT_NO_THREADS)
#include "detkit/detail/run_on_threads.hpp"
#endif
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include "detkit/detail/avx2.hpp"
#if defined(DETKIT_AVX2) && !defined(DETKIT_NO_RUNTIME_DISPATCH)
#define DETKIT_CSV_AVX2_DISPATCH 1
#endif

DETKIT_BEGIN_NAMESPACE

/// Whether the first line names the columns.
enum class header_mode : std::uint8_t { present, absent };
/// What to do with a UTF-8 byte-order mark (EF BB BF) at the start of the file.
enum class bom_policy : std::uint8_t { reject, skip };
/// rfc4180: '"' quotes fields. none: '"' is an ordinary byte (faster; for files known to be unquoted).
enum class quoting : std::uint8_t { rfc4180, none };
/// strict: the first bad row stops the read with its location. lenient: bad rows are skipped and
/// counted by reason in the read_report.
enum class error_mode : std::uint8_t { strict, lenient };
/// keep: mapped pages stay in the process once read. release: a scan of a mapped file drops the
/// pages behind it (madvise MADV_DONTNEED; they stay in the page cache), so a 1 GB scan does not
/// grow the process's RSS by 1 GB. Only for callers that keep no string_view into the file after
/// the row callback returns.
enum class page_release : std::uint8_t { keep, release };

/// Reader options. The defaults are safe for untrusted input.
struct csv_options {
  char delimiter = ',';
  header_mode header = header_mode::present;
  bom_policy bom = bom_policy::reject;
  quoting quotes = quoting::rfc4180;
  error_mode mode = error_mode::strict;
  std::size_t max_record_bytes = std::size_t{1} << 20;  // longest record, line ends included
  std::size_t max_fields = 4096;                        // most fields per record
  unsigned threads = 1;                                 // chunks of try_scan_parallel
  page_release pages = page_release::keep;              // see page_release
  std::size_t max_error_examples = 10;                  // located errors kept in a lenient report
  /// Optional progress hook: called from the scanning threads (so it must be thread-safe) with
  /// the bytes and records consumed since that thread's previous call, every 64Ki records.
  callback<void(std::uint64_t bytes, std::uint64_t records)> progress;
};

/// What a read saw. Every row seen is kept, filtered (rejected on purpose by a filter) or skipped
/// (bad, in lenient mode), so rows_seen == rows_kept + rows_filtered + rows_skipped().
struct read_report {
  std::uint64_t rows_seen = 0;
  std::uint64_t rows_kept = 0;
  std::uint64_t rows_filtered = 0;
  std::map<errc, std::uint64_t> skipped_by_reason;  // lenient mode only
  std::uint64_t blank_lines = 0;                    // empty lines: no data, not rows
  std::vector<error> examples;                      // the first skipped rows' errors, located

  std::uint64_t rows_skipped() const noexcept {
    std::uint64_t n = 0;
    for (const auto& kv : skipped_by_reason) n += kv.second;
    return n;
  }
  bool adds_up() const noexcept { return rows_seen == rows_kept + rows_filtered + rows_skipped(); }
  /// Adds another chunk's or file's counts (examples are appended up to `max_examples`).
  void merge(const read_report& o, std::size_t max_examples) {
    rows_seen += o.rows_seen;
    rows_kept += o.rows_kept;
    rows_filtered += o.rows_filtered;
    blank_lines += o.blank_lines;
    for (const auto& kv : o.skipped_by_reason) skipped_by_reason[kv.first] += kv.second;
    for (const auto& e : o.examples) {
      if (examples.size() < max_examples) examples.push_back(e);
    }
  }
};

/// The bytes of a CSV file (mapped, or borrowed from memory) and the name used in messages.
class csv_file {
 public:
  csv_file() = default;

  /// Maps `path` read-only.
  [[nodiscard]] static result<csv_file> try_open(const std::string& path) {
    auto m = detail::mapped_file::try_open(path, detail::map_advice::sequential);
    if (!m) return std::move(m).error();
    csv_file f;
    f.map_ = std::move(*m);
    f.bytes_ = f.map_.view();
    f.name_ = path;
    return f;
  }
  /// Borrows `bytes` (which must outlive the csv_file); `name` appears in error messages.
  static csv_file from_memory(std::string_view bytes, std::string name) {
    csv_file f;
    f.bytes_ = bytes;
    f.name_ = std::move(name);
    return f;
  }

  std::string_view bytes() const noexcept { return bytes_; }
  const std::string& name() const noexcept { return name_; }
  /// True when the bytes are a read-only mapping of a file (not borrowed memory).
  bool is_mapped() const noexcept { return map_.size() > 0; }

 private:
  detail::mapped_file map_;
  std::string_view bytes_;
  std::string name_;
};

/// The header (or caller-given column names) and where the data rows start.
struct csv_layout {
  std::vector<std::string> columns;  // from the header; for headerless files, names for messages
  std::size_t field_count = 0;       // fields every record must have (0: file has no rows)
  std::size_t body_offset = 0;       // byte offset of the first data row
  std::uint64_t body_line = 1;       // its line number (1-based)
  std::string file;                  // for messages

  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  /// Index of the column called `name`, or npos.
  std::size_t find(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (columns[i] == name) return i;
    }
    return npos;
  }
  /// Index of a required column, or a csv_missing_column error listing the columns there are.
  [[nodiscard]] result<std::size_t> try_find(std::string_view name) const {
    const std::size_t i = find(name);
    if (i != npos) return i;
    std::string have;
    for (const auto& c : columns) {
      if (!have.empty()) have += ',';
      have += c;
    }
    error e = make_error(errc::csv_missing_column, "no column '" + std::string(name) +
                                                       "' in the header (columns: " + have + ")");
    e.file = file;
    e.line = body_line > 1 ? 1 : 0;
    e.column = e.line ? 1 : 0;
    return e;
  }
};

/// One record: string_view fields valid until the next record is read.
class csv_record {
 public:
  std::size_t size() const noexcept { return fields_.size(); }
  std::string_view operator[](std::size_t i) const noexcept { return fields_[i]; }
  /// Line of the record's first byte. Exact in a serial scan; in try_scan_parallel it counts from
  /// the chunk's start (errors are corrected before they reach you).
  std::uint64_t line() const noexcept { return line_; }
  /// {line, byte column} (1-based) of field i's first byte (the opening quote of a quoted field).
  std::pair<std::uint64_t, std::uint64_t> position(std::size_t i) const noexcept {
    if (i >= starts_.size()) return {line_, 1};
    return position_of(starts_[i]);
  }

 private:
  friend class csv_cursor;
  std::pair<std::uint64_t, std::uint64_t> position_of(const char* p) const noexcept {
    std::uint64_t line = line_;
    const char* line_start = begin_;
    for (const char* q = begin_; q < p; ++q) {
      if (*q == '\n') {
        ++line;
        line_start = q + 1;
      }
    }
    return {line, static_cast<std::uint64_t>(p - line_start) + 1};
  }
  void clear() noexcept {
    fields_.clear();
    starts_.clear();
    scratch_.clear();
    scratch_refs_.clear();
  }

  std::vector<std::string_view> fields_;
  std::vector<const char*> starts_;
  std::string scratch_;  // unescaped copies of fields that contained ""
  std::vector<std::pair<std::size_t, std::pair<std::size_t, std::size_t>>> scratch_refs_;
  const char* begin_ = nullptr;
  std::uint64_t line_ = 0;
};

/// What a row callback decided.
enum class row_action : std::uint8_t { keep, filter, fail };

/// Filled by a row callback that returns row_action::fail.
struct row_error {
  errc code = errc::ok;
  std::size_t field = csv_layout::npos;  // column index, or npos for the whole row
  std::string message;
};

/// A prefilter that keeps every row.
struct no_prefilter {
  std::size_t column = csv_layout::npos;
  bool operator()(std::string_view) const noexcept { return true; }
};

/// A prefilter from a column index and a predicate on that column's raw (unquoted) bytes.
template <class Pred>
struct column_prefilter {
  std::size_t column;
  Pred pred;
  bool operator()(std::string_view field) const { return pred(field); }
};
template <class Pred>
column_prefilter<Pred> make_prefilter(std::size_t column, Pred pred) {
  return {column, std::move(pred)};
}

namespace detail {

/// Where the line starting at p ends and what it contains (up to '\n', not included).
struct line_scan {
  std::size_t len = 0;  // bytes before the '\n' (or to the end of the data)
  bool terminated = false;
  bool has_quote = false;
  std::uint32_t delimiters = 0;  // delimiter count in the line
  std::uint32_t recorded = 0;    // delimiter offsets stored in pos
  std::uint32_t pos[16];
};

inline std::uint32_t popcount32(std::uint32_t x) noexcept {
#if defined(__POPCNT__)
  return static_cast<std::uint32_t>(__builtin_popcount(x));
#else
  // Without -mpopcnt the builtin becomes a libgcc call; this SWAR form stays inline.
  x = x - ((x >> 1) & 0x55555555u);
  x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
  return (((x + (x >> 4)) & 0x0F0F0F0Fu) * 0x01010101u) >> 24;
#endif
}
inline std::uint32_t ctz32(std::uint32_t x) noexcept {
  return static_cast<std::uint32_t>(__builtin_ctz(x));
}

// Bit i of each mask: byte i of the 32-byte block is '\n' / the delimiter / '"'.
inline void masks32(const char* p, std::size_t n, char delim, std::uint32_t& nl, std::uint32_t& dl,
                    std::uint32_t& qt) noexcept {
#if defined(__SSE2__)
  if (n == 32) {
    const __m128i vn = _mm_set1_epi8('\n'), vd = _mm_set1_epi8(delim), vq = _mm_set1_epi8('"');
    const __m128i x0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i x1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16));
    auto mm = [](__m128i a, __m128i b, __m128i v) {
      const auto lo = static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(a, v)));
      const auto hi = static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(b, v)));
      return lo | (hi << 16);
    };
    nl = mm(x0, x1, vn);
    dl = mm(x0, x1, vd);
    qt = mm(x0, x1, vq);
    return;
  }
#endif
  nl = dl = qt = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t bit = std::uint32_t{1} << i;
    if (p[i] == '\n') nl |= bit;
    if (p[i] == delim) dl |= bit;
    if (p[i] == '"') qt |= bit;
  }
}

/// First delimiter, '\n' or '"' at or after p (or end): the end of an unquoted field.
inline const char* find_special(const char* p, const char* end, char delim) noexcept {
  while (p < end) {
    const std::size_t n = std::min<std::size_t>(32, static_cast<std::size_t>(end - p));
    std::uint32_t nl, dl, qt;
    masks32(p, n, delim, nl, dl, qt);
    const std::uint32_t any = nl | dl | qt;
    if (any != 0) return p + ctz32(any);
    p += n;
  }
  return end;
}

// One 32-byte step of scan_line / scan_line_avx2 after the compares (shared by both; the
// popcount stays in each, since only the AVX2 one may use the popcnt instruction).
// Drops delimiter and quote bits past the first newline: they belong to the next line.
inline void cut_at_newline(std::uint32_t nl, std::uint32_t& dl, std::uint32_t& qt) noexcept {
  if (nl != 0) {
    const std::uint32_t below = (nl & (~nl + 1)) - 1;
    dl &= below;
    qt &= below;
  }
}
// Records the step's delimiter offsets (up to `want`); true when the line ends in this step.
inline bool record_step(std::size_t off, std::uint32_t nl, std::uint32_t dl, std::uint32_t want,
                        line_scan& out) noexcept {
  while (out.recorded < want && dl != 0) {
    out.pos[out.recorded++] = static_cast<std::uint32_t>(off + ctz32(dl));
    dl &= dl - 1;
  }
  if (nl != 0) {
    out.len = off + ctz32(nl);
    out.terminated = true;
    return true;
  }
  return false;
}

/// Scans one line, recording the offsets of its first `want` (<= 16) delimiters.
inline void scan_line(const char* p, const char* end, char delim, std::uint32_t want,
                      line_scan& out) noexcept {
  out.has_quote = false;
  out.delimiters = 0;
  out.recorded = 0;
  const std::size_t avail = static_cast<std::size_t>(end - p);
  std::size_t off = 0;
  while (off < avail) {
    const std::size_t n = std::min<std::size_t>(32, avail - off);
    std::uint32_t nl, dl, qt;
    masks32(p + off, n, delim, nl, dl, qt);
    cut_at_newline(nl, dl, qt);
    out.has_quote |= qt != 0;
    out.delimiters += popcount32(dl);
    if (record_step(off, nl, dl, want, out)) return;
    off += n;
  }
  out.len = avail;
  out.terminated = false;
}

#if defined(DETKIT_CSV_AVX2_DISPATCH)
// The same loop as scan_line with 32-byte AVX2 compares, compiled for AVX2 only and chosen at run
// time (csv_cpu_has_avx2), so the default build stays portable. Kept a separate copy because
// intrinsics cannot be inlined into a function compiled without their target.
DETKIT_TARGET_AVX2 inline void scan_line_avx2(const char* p, const char* end, char delim,
                                              std::uint32_t want, line_scan& out) noexcept {
  out.has_quote = false;
  out.delimiters = 0;
  out.recorded = 0;
  const std::size_t avail = static_cast<std::size_t>(end - p);
  std::size_t off = 0;
  while (off < avail) {
    std::uint32_t nl, dl, qt;
    std::size_t n = 32;
    if (avail - off >= 32) {
      const auto x = avx2::load<avx2::i8x32>(p + off);
      nl = avx2::eq_mask(x, '\n');
      dl = avx2::eq_mask(x, delim);
      qt = avx2::eq_mask(x, '"');
    } else {
      n = avail - off;
      masks32(p + off, n, delim, nl, dl, qt);
    }
    cut_at_newline(nl, dl, qt);
    out.has_quote |= qt != 0;
    out.delimiters += static_cast<std::uint32_t>(__builtin_popcount(dl));
    if (record_step(off, nl, dl, want, out)) return;
    off += n;
  }
  out.len = avail;
  out.terminated = false;
}
#endif

/// True when the CPU runs the AVX2 line scanner (checked once per process).
inline bool csv_cpu_has_avx2() noexcept {
#if defined(DETKIT_CSV_AVX2_DISPATCH)
  return avx2::cpu_has_avx2();
#else
  return false;
#endif
}

inline std::uint64_t count_newlines(const char* p, const char* end) noexcept {
  std::uint64_t n = 0;
  while (p < end) {
    const void* q = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
    if (!q) break;
    ++n;
    p = static_cast<const char*>(q) + 1;
  }
  return n;
}

}  // namespace detail

/// Reads records one at a time from a byte range that starts at a record boundary. Used by the
/// scan functions below; public for callers that want to drive the loop themselves.
class csv_cursor {
 public:
  enum class step : std::uint8_t { record, filtered, end, error };

  csv_cursor(const char* begin, const char* end, const csv_options& opt, std::size_t field_count,
             std::uint64_t first_line, bool allow_newline_in_quotes = true) noexcept
      : p_(begin),
        end_(end),
        opt_(&opt),
        field_count_(field_count),
        line_(first_line),
        allow_nl_in_quotes_(allow_newline_in_quotes) {}

  /// Reads the next record into `rec`. With a prefilter whose column is not npos, a row the
  /// prefilter rejects returns step::filtered without being split (its field count is checked).
  template <class Prefilter>
  step next(csv_record& rec, const Prefilter& pre) {
    for (;;) {
      if (p_ >= end_) return step::end;
      rec.begin_ = p_;
      rec.line_ = line_;
      // Blank lines hold no data: skip and count them (pandas' skip_blank_lines does the same).
      if (*p_ == '\n' || (*p_ == '\r' && p_ + 1 < end_ && p_[1] == '\n')) {
        p_ += (*p_ == '\n') ? 1 : 2;
        ++line_;
        ++blank_lines_;
        continue;
      }
      break;
    }
    const std::size_t col = pre.column;
    const std::uint32_t want = col == csv_layout::npos
                                   ? 0u
                                   : static_cast<std::uint32_t>(std::min<std::size_t>(col + 1, 16));
#if defined(DETKIT_CSV_AVX2_DISPATCH)
    if (avx2_) {
      detail::scan_line_avx2(p_, end_, opt_->delimiter, want, scan_);
    } else {
      detail::scan_line(p_, end_, opt_->delimiter, want, scan_);
    }
#else
    detail::scan_line(p_, end_, opt_->delimiter, want, scan_);
#endif
    if (scan_.has_quote && opt_->quotes == quoting::rfc4180) return next_quoted(rec, pre);

    const char* const line_begin = p_;
    const char* const line_end = p_ + scan_.len;
    const char* const after = scan_.terminated ? line_end + 1 : line_end;
    const char* content_end = line_end;
    if (content_end > line_begin && content_end[-1] == '\r') --content_end;
    if (static_cast<std::size_t>(after - line_begin) > opt_->max_record_bytes) {
      return fail_line(
          errc::csv_line_too_long, line_begin, csv_layout::npos,
          "record longer than max_record_bytes (" + std::to_string(opt_->max_record_bytes) + ")",
          after);
    }
    const std::size_t fields = std::size_t{scan_.delimiters} + 1;
    if (fields > opt_->max_fields) {
      return fail_line(errc::csv_field_count, line_begin, csv_layout::npos,
                       "more than max_fields (" + std::to_string(opt_->max_fields) + ") fields",
                       after);
    }
    if (field_count_ != 0 && fields != field_count_) {
      return field_count_error(fields, line_begin, content_end, after);
    }
    if (col != csv_layout::npos && col < 16 && col < fields) {
      const char* fb = col == 0 ? line_begin : line_begin + scan_.pos[col - 1] + 1;
      const char* fe = col < scan_.delimiters ? line_begin + scan_.pos[col] : content_end;
      if (!pre(std::string_view(fb, static_cast<std::size_t>(fe - fb)))) {
        p_ = after;
        ++line_;
        return step::filtered;
      }
      split_plain(rec, line_begin, content_end);
    } else {
      split_plain(rec, line_begin, content_end);
      if (col != csv_layout::npos && col < rec.size() && !pre(rec[col])) {
        p_ = after;
        ++line_;
        return step::filtered;
      }
    }
    p_ = after;
    ++line_;
    return step::record;
  }

  /// After step::error in lenient mode: moves past the bad record.
  void skip_bad_record() noexcept {
    line_ += detail::count_newlines(p_, resume_);
    p_ = resume_;
  }

  const error& last_error() const noexcept { return error_; }
  std::uint64_t line() const noexcept { return line_; }  // line of the next record
  std::uint64_t blank_lines() const noexcept { return blank_lines_; }
  const char* position() const noexcept { return p_; }

 private:
  void split_plain(csv_record& rec, const char* b, const char* e) {
    rec.clear();
    const char d = opt_->delimiter;
    const char* f = b;
    for (;;) {
      const void* hit = std::memchr(f, d, static_cast<std::size_t>(e - f));
      const char* fe = hit ? static_cast<const char*>(hit) : e;
      rec.fields_.emplace_back(f, static_cast<std::size_t>(fe - f));
      rec.starts_.push_back(f);
      if (!hit) break;
      f = fe + 1;
    }
  }

  step field_count_error(std::size_t fields, const char* line_begin, const char* content_end,
                         const char* after) {
    const std::string counts =
        "expected " + std::to_string(field_count_) + " fields, got " + std::to_string(fields);
    if (!scan_.terminated && after == end_ && fields < field_count_) {
      return fail_line(errc::csv_truncated, content_end, csv_layout::npos,
                       "file ends in the middle of a record: " + counts + " (truncated file?)",
                       after);
    }
    // Too few: point past the last byte; too many: point at the first extra field.
    const char* at = content_end;
    if (fields > field_count_ && field_count_ - 1 < scan_.recorded) {
      at = line_begin + scan_.pos[field_count_ - 1] + 1;
    } else if (fields > field_count_) {
      // Positions beyond the 16 recorded: count delimiters by hand.
      std::size_t seen = 0;
      for (const char* q = line_begin; q < content_end; ++q) {
        if (*q == opt_->delimiter && ++seen == field_count_) {
          at = q + 1;
          break;
        }
      }
    }
    return fail_line(errc::csv_field_count, at, csv_layout::npos, counts, after);
  }

  step fail_line(errc code, const char* at, std::size_t field, std::string message,
                 const char* resume) {
    error_ = make_error(code, std::move(message));
    error_.line = line_ + detail::count_newlines(p_, at);
    const char* ls = at;
    while (ls > p_ && ls[-1] != '\n') --ls;
    error_.column = static_cast<std::uint64_t>(at - ls) + 1;
    error_field_ = field;
    resume_ = resume;
    return step::error;
  }

  // Resume point after an error at `at`: the byte after the next '\n' (or the end).
  const char* resume_after(const char* at) const noexcept {
    const void* nl =
        at < end_ ? std::memchr(at, '\n', static_cast<std::size_t>(end_ - at)) : nullptr;
    return nl ? static_cast<const char*>(nl) + 1 : end_;
  }

  template <class Prefilter>
  step next_quoted(csv_record& rec, const Prefilter& pre) {
    rec.clear();
    const char d = opt_->delimiter;
    const char* q = p_;
    const char* const limit_end = static_cast<std::size_t>(end_ - p_) > opt_->max_record_bytes
                                      ? p_ + opt_->max_record_bytes
                                      : end_;
    for (;;) {
      if (rec.fields_.size() >= opt_->max_fields) {
        return fail_line(errc::csv_field_count, q, csv_layout::npos,
                         "more than max_fields (" + std::to_string(opt_->max_fields) + ") fields",
                         resume_after(q));
      }
      const char* const fstart = q;
      rec.starts_.push_back(fstart);
      if (q < end_ && *q == '"') {
        ++q;
        const char* seg = q;
        bool copied = false;
        std::size_t scratch_off = rec.scratch_.size();
        for (;;) {
          const void* hit = std::memchr(q, '"', static_cast<std::size_t>(end_ - q));
          if (!hit) {
            return fail_line(errc::csv_unterminated_quote, fstart, csv_layout::npos,
                             "quoted field is not closed before the end of the file", end_);
          }
          const char* qq = static_cast<const char*>(hit);
          if (qq >= limit_end) {
            return fail_line(errc::csv_line_too_long, p_, csv_layout::npos,
                             "record longer than max_record_bytes (" +
                                 std::to_string(opt_->max_record_bytes) + ")",
                             resume_after(limit_end));
          }
          if (!allow_nl_in_quotes_ && std::memchr(q, '\n', static_cast<std::size_t>(qq - q))) {
            return fail_line(errc::csv_bad_quote, fstart, csv_layout::npos,
                             "line break inside a quoted field; a parallel scan cannot split such "
                             "a file, read it with threads = 1",
                             resume_after(fstart));
          }
          if (qq + 1 < end_ && qq[1] == '"') {  // "" is one quote
            rec.scratch_.append(seg, static_cast<std::size_t>(qq + 1 - seg));
            copied = true;
            q = qq + 2;
            seg = q;
            continue;
          }
          if (copied) {
            rec.scratch_.append(seg, static_cast<std::size_t>(qq - seg));
            rec.scratch_refs_.push_back(
                {rec.fields_.size(), {scratch_off, rec.scratch_.size() - scratch_off}});
            rec.fields_.emplace_back();
          } else {
            rec.fields_.emplace_back(seg, static_cast<std::size_t>(qq - seg));
          }
          q = qq + 1;
          break;
        }
        // After the closing quote: a delimiter, a line end, or the end of the data.
        if (q < end_ && *q != d && *q != '\n' && !(*q == '\r' && q + 1 < end_ && q[1] == '\n') &&
            !(*q == '\r' && q + 1 == end_)) {
          return fail_line(errc::csv_bad_quote, q, csv_layout::npos,
                           std::string("unexpected '") + *q + "' after the closing quote",
                           resume_after(q));
        }
        if (q < end_ && *q == '\r') ++q;
      } else {
        const char* f = detail::find_special(q, end_, d);
        if (f < end_ && *f == '"') {
          return fail_line(errc::csv_bad_quote, f, csv_layout::npos,
                           "quote inside an unquoted field (quote the whole field and double "
                           "the quote)",
                           resume_after(f));
        }
        if (static_cast<std::size_t>(f - p_) > opt_->max_record_bytes) {
          return fail_line(errc::csv_line_too_long, p_, csv_layout::npos,
                           "record longer than max_record_bytes (" +
                               std::to_string(opt_->max_record_bytes) + ")",
                           resume_after(f));
        }
        const char* fe = f;
        if ((f == end_ || *f == '\n') && fe > q && fe[-1] == '\r') --fe;
        rec.fields_.emplace_back(q, static_cast<std::size_t>(fe - q));
        q = f;
      }
      if (q < end_ && *q == d) {
        ++q;
        continue;
      }
      break;  // '\n' or end
    }
    const bool terminated = q < end_;  // q is at '\n'
    const char* const after = terminated ? q + 1 : end_;
    for (const auto& ref : rec.scratch_refs_) {
      rec.fields_[ref.first] =
          std::string_view(rec.scratch_.data() + ref.second.first, ref.second.second);
    }
    const std::size_t fields = rec.fields_.size();
    if (field_count_ != 0 && fields != field_count_) {
      const std::string counts =
          "expected " + std::to_string(field_count_) + " fields, got " + std::to_string(fields);
      if (!terminated && fields < field_count_) {
        return fail_line(errc::csv_truncated, q, csv_layout::npos,
                         "file ends in the middle of a record: " + counts + " (truncated file?)",
                         after);
      }
      const char* at = fields > field_count_ ? rec.starts_[field_count_] : q;
      if (at == q && q > p_ && q[-1] == '\r') at = q - 1;
      return fail_line(errc::csv_field_count, at, csv_layout::npos, counts, after);
    }
    const std::uint64_t newlines = detail::count_newlines(p_, after);
    const std::size_t col = pre.column;
    p_ = after;
    line_ += newlines;
    if (col != csv_layout::npos && col < rec.size() && !pre(rec[col])) return step::filtered;
    return step::record;
  }

  const char* p_;
  const char* end_;
  const csv_options* opt_;
  std::size_t field_count_;
  std::uint64_t line_;
  bool allow_nl_in_quotes_;
#if defined(DETKIT_CSV_AVX2_DISPATCH)
  bool avx2_ = detail::csv_cpu_has_avx2();
#endif
  std::uint64_t blank_lines_ = 0;
  detail::line_scan scan_{};
  error error_;
  std::size_t error_field_ = csv_layout::npos;
  const char* resume_ = nullptr;
};

namespace detail {
inline error csv_error_at(const csv_file& f, errc code, std::uint64_t line, std::uint64_t column,
                          std::string message) {
  error e = make_error(code, std::move(message));
  e.file = f.name();
  e.line = line;
  e.column = column;
  return e;
}
}  // namespace detail

/// Reads the header (or, for headerless files, the first record's field count), handling a BOM.
/// For headerless files, `names` gives the columns names used in messages.
[[nodiscard]] inline result<csv_layout> try_read_layout(const csv_file& file,
                                                        const csv_options& opt,
                                                        std::vector<std::string> names = {}) {
  csv_layout layout;
  layout.file = file.name();
  std::string_view bytes = file.bytes();
  std::size_t start = 0;
  if (bytes.size() >= 3 && static_cast<unsigned char>(bytes[0]) == 0xEF &&
      static_cast<unsigned char>(bytes[1]) == 0xBB &&
      static_cast<unsigned char>(bytes[2]) == 0xBF) {
    if (opt.bom == bom_policy::reject) {
      return detail::csv_error_at(file, errc::csv_bom, 1, 1,
                                  "file starts with a UTF-8 byte-order mark (EF BB BF); re-save "
                                  "it without one or read with bom_policy::skip");
    }
    start = 3;
  }
  const char* const b = bytes.data() + start;
  const char* const e = bytes.data() + bytes.size();
  csv_cursor cur(b, e, opt, 0, 1);
  csv_record rec;
  const auto st = cur.next(rec, no_prefilter{});
  if (st == csv_cursor::step::error) {
    error err = cur.last_error();
    err.file = file.name();
    return err;
  }
  if (opt.header == header_mode::present) {
    if (st == csv_cursor::step::end) {
      return detail::csv_error_at(file, errc::csv_empty, 0, 0,
                                  "empty file, expected a header line");
    }
    if (rec.line() != 1) {
      return detail::csv_error_at(file, errc::csv_empty, 1, 1,
                                  "the first line is empty, expected a header line");
    }
    for (std::size_t i = 0; i < rec.size(); ++i) {
      for (std::size_t j = 0; j < i; ++j) {
        if (rec[j] == rec[i]) {
          const auto pos = rec.position(i);
          return detail::csv_error_at(file, errc::csv_duplicate_column, pos.first, pos.second,
                                      "column '" + std::string(rec[i]) +
                                          "' appears twice (columns " + std::to_string(j + 1) +
                                          " and " + std::to_string(i + 1) + ")");
        }
      }
      layout.columns.emplace_back(rec[i]);
    }
    layout.field_count = rec.size();
    layout.body_offset = static_cast<std::size_t>(cur.position() - bytes.data());
    layout.body_line = cur.line();
    return layout;
  }
  layout.columns = std::move(names);
  layout.body_offset = start;
  layout.body_line = 1;
  if (st == csv_cursor::step::end) return layout;  // no rows at all
  layout.field_count = rec.size();
  if (!layout.columns.empty() && layout.columns.size() != rec.size()) {
    const auto pos = rec.position(rec.size() - 1);
    return detail::csv_error_at(file, errc::csv_field_count, pos.first, pos.second,
                                "expected " + std::to_string(layout.columns.size()) +
                                    " fields, got " + std::to_string(rec.size()));
  }
  return layout;
}

namespace detail {

struct chunk_outcome {
  read_report report;
  std::uint64_t lines = 0;  // lines consumed (relative)
  bool failed = false;
  error first_error;  // strict mode: the error that stopped this chunk (relative line)
};

template <class State, class Prefilter, class RowFn>
void scan_chunk(const csv_file& file, const csv_layout& layout, const csv_options& opt,
                const Prefilter& pre, const char* b, const char* e, bool allow_nl, State& state,
                RowFn& fn, chunk_outcome& out) {
  csv_cursor cur(b, e, opt, layout.field_count, 0, allow_nl);
  csv_record rec;
  row_error rerr;
  auto located = [&](error err) {
    err.file = file.name();
    return err;
  };
  const char* reported = b;
  std::uint64_t reported_rows = 0;
  // Dropping pages of borrowed memory would zero it: only mapped files qualify.
  const bool release = opt.pages == page_release::release && file.is_mapped();
  const std::uintptr_t page = 4096;
  std::uintptr_t released = (reinterpret_cast<std::uintptr_t>(b) + page - 1) & ~(page - 1);
  // Drops whole pages in [released, upto - slack); a dropped page that is read again (a record
  // of the next chunk on a shared page) is simply faulted in again from the file.
  auto release_to = [&](const char* upto, std::uintptr_t slack, std::uintptr_t min_bytes) {
    const std::uintptr_t to = (reinterpret_cast<std::uintptr_t>(upto) & ~(page - 1));
    if (to < released + slack + min_bytes) return;
    const std::uintptr_t end_at = to - slack;
    ::madvise(reinterpret_cast<void*>(released), end_at - released, MADV_DONTNEED);
    released = end_at;
  };
  std::uint32_t until_progress = 1u << 16;
  for (;;) {
    const auto st = cur.next(rec, pre);
    if (st == csv_cursor::step::end) break;
    ++out.report.rows_seen;
    if (DETKIT_UNLIKELY(--until_progress == 0)) {
      until_progress = 1u << 16;
      if (opt.progress) {
        opt.progress(static_cast<std::uint64_t>(cur.position() - reported),
                     out.report.rows_seen - reported_rows);
        reported = cur.position();
        reported_rows = out.report.rows_seen;
      }
      // One page of slack behind the cursor (the current record may start there); every 4 MiB.
      if (release) release_to(cur.position(), page, std::uintptr_t{4} << 20);
    }
    if (st == csv_cursor::step::filtered) {
      ++out.report.rows_filtered;
      continue;
    }
    error err;
    if (st == csv_cursor::step::error) {
      err = located(cur.last_error());
    } else {
      const row_action a = fn(state, rec, rerr);
      if (a == row_action::keep) {
        ++out.report.rows_kept;
        continue;
      }
      if (a == row_action::filter) {
        ++out.report.rows_filtered;
        continue;
      }
      err = make_error(rerr.code, std::move(rerr.message));
      err.file = file.name();
      const auto pos = rec.position(rerr.field);
      err.line = pos.first;
      err.column = pos.second;
      if (rerr.field != csv_layout::npos && rerr.field < layout.columns.size()) {
        err.field = layout.columns[rerr.field];
      }
      rerr = row_error{};
    }
    if (opt.mode == error_mode::strict) {
      out.failed = true;
      out.first_error = std::move(err);
      break;
    }
    ++out.report.skipped_by_reason[err.code];
    if (out.report.examples.size() < opt.max_error_examples) {
      out.report.examples.push_back(std::move(err));
    }
    if (st == csv_cursor::step::error) cur.skip_bad_record();
  }
  out.lines = cur.line();
  out.report.blank_lines = cur.blank_lines();
  if (release) release_to(e, 0, 0);  // the chunk is done: drop its tail too
  if (opt.progress && cur.position() > reported) {
    opt.progress(static_cast<std::uint64_t>(cur.position() - reported),
                 out.report.rows_seen - reported_rows);
  }
}

}  // namespace detail

/// Number of chunks try_scan_parallel will use for this layout: opt.threads, but at most one per
/// MiB of body, and at least 1.
inline std::size_t csv_chunk_count(const csv_file& file, const csv_layout& layout,
                                   const csv_options& opt) noexcept {
  const std::size_t body = file.bytes().size() - std::min(layout.body_offset, file.bytes().size());
  const std::size_t by_size = body / (std::size_t{1} << 20) + 1;
  const std::size_t threads = opt.threads ? opt.threads : 1;
  // Four chunks per thread, taken from a shared counter: a thread slowed down by other work on a
  // shared machine (or a slower core) then costs a quarter chunk, not half the file.
  const std::size_t want = threads == 1 ? 1 : threads * 4;
  return std::max<std::size_t>(1, std::min<std::size_t>(want, by_size));
}

/// Scans the body in states.size() chunks split at '\n' with min(opt.threads, chunks) threads
/// that take chunks in turn; chunk k calls fn(states[k], record, row_error&) -> row_action on its
/// records in file order (fn runs concurrently for different chunks). Merge the states in order
/// afterwards. Strict mode returns the first error in file order (chunks after a failed one are
/// not scanned); lenient mode returns the merged counts. With more than one chunk, a line break
/// inside a quoted field is an error.
template <class State, class Prefilter, class RowFn>
[[nodiscard]] result<read_report> try_scan_parallel(const csv_file& file, const csv_layout& layout,
                                                    const csv_options& opt, const Prefilter& pre,
                                                    std::vector<State>& states, RowFn fn) {
  const std::size_t n = std::max<std::size_t>(1, states.size());
  if (states.empty()) return make_error(errc::other, "try_scan_parallel: no chunk states given");
  const std::string_view bytes = file.bytes();
  const char* const base = bytes.data();
  const char* const body = base + std::min(layout.body_offset, bytes.size());
  const char* const end = base + bytes.size();
  std::vector<const char*> cuts(n + 1, end);
  cuts[0] = body;
  const std::size_t body_size = static_cast<std::size_t>(end - body);
  for (std::size_t k = 1; k < n; ++k) {
    const char* guess = body + body_size / n * k;
    if (guess < cuts[k - 1]) guess = cuts[k - 1];
    const void* nl =
        guess < end ? std::memchr(guess, '\n', static_cast<std::size_t>(end - guess)) : nullptr;
    cuts[k] = nl ? static_cast<const char*>(nl) + 1 : end;
  }
  std::vector<detail::chunk_outcome> outs(n);
  const bool allow_nl = n == 1;
  std::atomic<std::size_t> next_chunk{0};
  std::atomic<std::size_t> first_failed{n};
  auto work = [&] {
    for (;;) {
      const std::size_t k = next_chunk.fetch_add(1);
      if (k >= n) return;
      // In strict mode nothing after the first failed chunk is ever reported.
      if (k > first_failed.load()) continue;
      detail::scan_chunk(file, layout, opt, pre, cuts[k], cuts[k + 1], allow_nl, states[k], fn,
                         outs[k]);
      if (outs[k].failed) {
        std::size_t cur = first_failed.load();
        while (k < cur && !first_failed.compare_exchange_weak(cur, k)) {
        }
      }
    }
  };
#if !defined(DETKIT_NO_THREADS)
  const std::size_t workers = std::min<std::size_t>(n, opt.threads ? opt.threads : 1);
  auto worker = [&work](std::size_t) { work(); };
  detail::run_on_threads(workers, worker);
#else
  work();
#endif
  read_report total;
  std::uint64_t line_base = layout.body_line;
  for (std::size_t k = 0; k < n; ++k) {
    auto& o = outs[k];
    if (o.failed) {
      error e = std::move(o.first_error);
      e.line += line_base;  // chunk lines count from 0
      return e;
    }
    for (auto& ex : o.report.examples) ex.line += line_base;
    total.merge(o.report, opt.max_error_examples);
    line_base += o.lines;
  }
  return total;
}

/// Serial scan: fn(record, row_error&) -> row_action on every record in file order.
template <class Prefilter, class RowFn>
[[nodiscard]] result<read_report> try_scan(const csv_file& file, const csv_layout& layout,
                                           const csv_options& opt, const Prefilter& pre, RowFn fn) {
  struct none {};
  std::vector<none> one(1);
  return try_scan_parallel(file, layout, opt, pre, one,
                           [&fn](none&, const csv_record& r, row_error& e) { return fn(r, e); });
}

DETKIT_END_NAMESPACE
