// Tests of detkit/csv.hpp and detkit/detail/parse_number.hpp: RFC 4180 cases, line ends, BOM,
// header lookup, located errors with their exact text, limits, lenient counts, the filter-first
// prefilter, and the parallel scan against the serial one.
#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "detkit/csv.hpp"
#include "detkit/detail/parse_number.hpp"

using detkit::csv_file;
using detkit::csv_options;
using detkit::row_action;

namespace {

struct parsed {
  std::vector<std::vector<std::string>> rows;
  detkit::result<detkit::read_report> report = detkit::read_report{};
  std::vector<std::string> columns;
};

parsed parse(const std::string& text, csv_options opt = {}) {
  parsed out;
  auto f = csv_file::from_memory(text, "t.csv");
  auto layout = detkit::try_read_layout(f, opt);
  if (!layout) {
    out.report = layout.error();
    return out;
  }
  out.columns = layout->columns;
  out.report = detkit::try_scan(f, *layout, opt, detkit::no_prefilter{},
                                [&](const detkit::csv_record& r, detkit::row_error&) {
                                  std::vector<std::string> row;
                                  for (std::size_t i = 0; i < r.size(); ++i) row.emplace_back(r[i]);
                                  out.rows.push_back(row);
                                  return row_action::keep;
                                });
  return out;
}

std::string message_of(const parsed& p) {
  REQUIRE_FALSE(p.report.has_value());
  return p.report.error().to_string();
}

using rows_t = std::vector<std::vector<std::string>>;

}  // namespace

TEST_CASE("parse_number: accepts every number format of the Open Images files", "[csv]") {
  using detkit::errc;
  double d = -1;
  for (const char* s : {"0", "1", "0.182", "0.9985229", "0.0020833334", "0.012500", "1.000000",
                        "4.4e-05", "0.6979920000000001", "+0.5", ".5", "1E2", "-0.25"}) {
    INFO(s);
    CHECK(detkit::detail::parse_double(s, d) == errc::ok);
  }
  REQUIRE(detkit::detail::parse_double("4.4e-05", d) == errc::ok);
  CHECK(d == 4.4e-05);
  REQUIRE(detkit::detail::parse_double("0.6979920000000001", d) == errc::ok);
  CHECK(d == 0.6979920000000001);
  float f = 0;
  REQUIRE(detkit::detail::parse_float("0.9985229", f) == errc::ok);
  CHECK(f == static_cast<float>(0.9985229));  // one rounding double -> float, as numpy does
}

TEST_CASE("parse_number: rejects NaN, inf, blanks and trailing junk", "[csv]") {
  using detkit::errc;
  double d = 7;
  for (const char* s : {"", "nan", "NaN", "inf", "-inf", "infinity", " 1", "1 ", "1x", "0x10", "1e",
                        "-", "+", "+-1", "1,5", "0.5.5"}) {
    INFO("'" << s << "'");
    CHECK(detkit::detail::parse_double(s, d) == errc::csv_bad_number);
  }
  CHECK(d == 7);  // untouched on failure
  CHECK(detkit::detail::parse_double("1e999", d) == errc::csv_out_of_range);
  float f;
  CHECK(detkit::detail::parse_float("1e39", f) == errc::csv_out_of_range);
  int i = 0;
  CHECK(detkit::detail::parse_int("-1", i) == errc::ok);
  CHECK(i == -1);
  CHECK(detkit::detail::parse_int("1.0", i) == errc::csv_bad_number);
  CHECK(detkit::detail::parse_int("99999999999", i) == errc::csv_out_of_range);
  std::uint64_t id = 0;
  CHECK(detkit::detail::parse_hex16("000026e7ee790996", id));
  CHECK(id == 0x000026e7ee790996ULL);
  CHECK_FALSE(detkit::detail::parse_hex16("000026e7ee79099", id));
  CHECK_FALSE(detkit::detail::parse_hex16("000026e7ee79099g", id));
}

TEST_CASE("csv: RFC 4180 quoting, escapes, embedded delimiters and line breaks", "[csv]") {
  const auto p = parse(
      "a,b,c\n"
      "1,\"two, with comma\",3\n"
      "\"Fiat 500 \"\"topolino\"\"\",\"\",x\n"
      "\"multi\nline\",\"crlf\r\ninside\",y\n"
      "plain,\"\"\"\",z\n");
  REQUIRE(p.report.has_value());
  CHECK(p.columns == std::vector<std::string>{"a", "b", "c"});
  CHECK(p.rows == rows_t{{"1", "two, with comma", "3"},
                         {"Fiat 500 \"topolino\"", "", "x"},
                         {"multi\nline", "crlf\r\ninside", "y"},
                         {"plain", "\"", "z"}});
  CHECK(p.report->rows_seen == 4);
  CHECK(p.report->rows_kept == 4);
}

TEST_CASE("csv: CRLF and LF line ends, missing final line end, blank lines", "[csv]") {
  const rows_t want{{"1", "2"}, {"3", "4"}};
  CHECK(parse("x,y\r\n1,2\r\n3,4\r\n").rows == want);
  CHECK(parse("x,y\n1,2\n3,4\n").rows == want);
  CHECK(parse("x,y\n1,2\n3,4").rows == want);
  CHECK(parse("x,y\r\n1,2\r\n3,4").rows == want);
  const auto blank = parse("x,y\n1,2\n\n3,4\n\r\n");
  CHECK(blank.rows == want);
  CHECK(blank.report->blank_lines == 2);
  CHECK(blank.report->rows_seen == 2);
  // Empty fields are fields: a trailing delimiter means one more (empty) field.
  CHECK(parse("x,y\n,\n").rows == rows_t{{"", ""}});
}

TEST_CASE("csv: headerless files take the field count from the first row", "[csv]") {
  csv_options opt;
  opt.header = detkit::header_mode::absent;
  const auto p = parse("/m/011k07,Tortoise\n/m/011q46kg,Container\n", opt);
  CHECK(p.rows == rows_t{{"/m/011k07", "Tortoise"}, {"/m/011q46kg", "Container"}});
  CHECK(message_of(parse("a,b\nc,d,e\n", opt)) ==
        "t.csv:2:5: error: expected 2 fields, got 3 [detkit.csv.field_count]");
}

TEST_CASE("csv: located errors with their exact text", "[csv]") {
  SECTION("empty file") {
    CHECK(message_of(parse("")) ==
          "t.csv: error: empty file, expected a header line [detkit.csv.empty]");
  }
  SECTION("byte-order mark rejected by default, skipped on request") {
    CHECK(message_of(parse("\xEF\xBB\xBFx,y\n1,2\n")) ==
          "t.csv:1:1: error: file starts with a UTF-8 byte-order mark (EF BB BF); re-save it "
          "without one or read with bom_policy::skip [detkit.csv.bom]");
    csv_options opt;
    opt.bom = detkit::bom_policy::skip;
    const auto p = parse("\xEF\xBB\xBFx,y\n1,2\n", opt);
    CHECK(p.columns == std::vector<std::string>{"x", "y"});
    CHECK(p.rows == rows_t{{"1", "2"}});
  }
  SECTION("too few and too many fields") {
    CHECK(message_of(parse("a,b,c\n1,2,3\n1,2\n")) ==
          "t.csv:3:4: error: expected 3 fields, got 2 [detkit.csv.field_count]");
    CHECK(message_of(parse("a,b,c\n1,2,3,4,5\n")) ==
          "t.csv:2:7: error: expected 3 fields, got 5 [detkit.csv.field_count]");
    CHECK(message_of(parse("a,b,c\n\"q\",2,3,\"4\"\n")) ==
          "t.csv:2:9: error: expected 3 fields, got 4 [detkit.csv.field_count]");
  }
  SECTION("truncated last line") {
    CHECK(message_of(parse("a,b,c\n1,2,3\n4,5")) ==
          "t.csv:3:4: error: file ends in the middle of a record: expected 3 fields, got 2 "
          "(truncated file?) [detkit.csv.truncated]");
  }
  SECTION("quotes") {
    CHECK(message_of(parse("a,b\n1,\"open\n2,3\n")) ==
          "t.csv:2:3: error: quoted field is not closed before the end of the file "
          "[detkit.csv.unterminated_quote]");
    CHECK(message_of(parse("a,b\n1,ab\"c\n")) ==
          "t.csv:2:5: error: quote inside an unquoted field (quote the whole field and double the "
          "quote) [detkit.csv.bad_quote]");
    CHECK(message_of(parse("a,b\n1,\"ab\"c\n")) ==
          "t.csv:2:7: error: unexpected 'c' after the closing quote [detkit.csv.bad_quote]");
  }
  SECTION("header") {
    CHECK(message_of(parse("a,b,a\n1,2,3\n")) ==
          "t.csv:1:5: error: column 'a' appears twice (columns 1 and 3) "
          "[detkit.csv.duplicate_column]");
    auto f = csv_file::from_memory("ImageID,XMax\n", "boxes.csv");
    auto layout = detkit::try_read_layout(f, {});
    REQUIRE(layout);
    CHECK(layout->find("XMax") == 1);
    auto miss = layout->try_find("XMin");
    REQUIRE_FALSE(miss);
    CHECK(miss.error().to_string() ==
          "boxes.csv:1:1: error: no column 'XMin' in the header (columns: ImageID,XMax) "
          "[detkit.csv.missing_column]");
  }
  SECTION("limits are runtime options") {
    csv_options opt;
    opt.max_record_bytes = 8;
    CHECK(message_of(parse("a,b\n1,2\n123456,789\n", opt)) ==
          "t.csv:3:1: error: record longer than max_record_bytes (8) [detkit.csv.line_too_long]");
    csv_options few;
    few.max_fields = 2;
    few.header = detkit::header_mode::absent;
    CHECK(message_of(parse("1,2,3\n", few)) ==
          "t.csv:1:1: error: more than max_fields (2) fields [detkit.csv.field_count]");
  }
}

TEST_CASE("csv: lenient mode counts every skipped row by reason, and the counts add up", "[csv]") {
  csv_options opt;
  opt.mode = detkit::error_mode::lenient;
  const std::string text =
      "id,v\n"
      "1,0.5\n"
      "2\n"      // field count
      "3,abc\n"  // the callback rejects: bad number
      "4,0.25\n"
      "5,\"x\"y\n"  // bad quote
      "6,0.75,9\n"  // field count
      "7,skip\n";   // filtered by the callback
  auto f = csv_file::from_memory(text, "t.csv");
  auto layout = detkit::try_read_layout(f, opt);
  REQUIRE(layout);
  std::vector<std::string> kept;
  auto rep = detkit::try_scan(f, *layout, opt, detkit::no_prefilter{},
                              [&](const detkit::csv_record& r, detkit::row_error& e) {
                                if (r[1] == "skip") return row_action::filter;
                                double d;
                                if (detkit::detail::parse_double(r[1], d) != detkit::errc::ok) {
                                  e.code = detkit::errc::csv_bad_number;
                                  e.field = 1;
                                  e.message = "expected a number, got '" + std::string(r[1]) + "'";
                                  return row_action::fail;
                                }
                                kept.emplace_back(r[0]);
                                return row_action::keep;
                              });
  REQUIRE(rep);
  CHECK(kept == std::vector<std::string>{"1", "4"});
  CHECK(rep->rows_seen == 7);
  CHECK(rep->rows_kept == 2);
  CHECK(rep->rows_filtered == 1);
  CHECK(rep->skipped_by_reason.at(detkit::errc::csv_field_count) == 2);
  CHECK(rep->skipped_by_reason.at(detkit::errc::csv_bad_number) == 1);
  CHECK(rep->skipped_by_reason.at(detkit::errc::csv_bad_quote) == 1);
  CHECK(rep->rows_skipped() == 4);
  CHECK(rep->adds_up());
  REQUIRE(rep->examples.size() == 4);
  CHECK(rep->examples[0].to_string() ==
        "t.csv:3:2: error: expected 2 fields, got 1 [detkit.csv.field_count]");
  CHECK(rep->examples[1].to_string() ==
        "t.csv:4:3: error: field 'v': expected a number, got 'abc' [detkit.csv.bad_number]");
}

TEST_CASE("csv: the prefilter rejects rows on one field, still checking their field count",
          "[csv]") {
  const std::string text =
      "ImageID,Source,LabelName,X\n"
      "a,xclick,/m/01dws,1\n"
      "b,xclick,/m/01dwsz,2\n"
      "c,xclick,/m/01dws,3\n"
      "d,\"quoted, src\",/m/01dws,4\n";
  auto f = csv_file::from_memory(text, "t.csv");
  csv_options opt;
  auto layout = detkit::try_read_layout(f, opt);
  REQUIRE(layout);
  std::vector<std::string> seen;
  auto pre = detkit::make_prefilter(2, [](std::string_view mid) { return mid == "/m/01dws"; });
  auto rep =
      detkit::try_scan(f, *layout, opt, pre, [&](const detkit::csv_record& r, detkit::row_error&) {
        seen.emplace_back(r[0]);
        return row_action::keep;
      });
  REQUIRE(rep);
  CHECK(seen == std::vector<std::string>{"a", "c", "d"});
  CHECK(rep->rows_filtered == 1);
  CHECK(rep->adds_up());

  auto bad = csv_file::from_memory("ImageID,Source,LabelName,X\nb,xclick,/m/01dwsz\n", "t.csv");
  auto bl = detkit::try_read_layout(bad, opt);
  REQUIRE(bl);
  auto r2 = detkit::try_scan(bad, *bl, opt, pre, [](const detkit::csv_record&, detkit::row_error&) {
    return row_action::keep;
  });
  REQUIRE_FALSE(r2);
  CHECK(r2.error().to_string() ==
        "t.csv:2:19: error: expected 4 fields, got 3 [detkit.csv.field_count]");
}

TEST_CASE("csv: the parallel scan equals the serial scan and locates errors exactly", "[csv]") {
  // ~5 MB so that 4 chunks of >= 1 MiB are used.
  std::string text = "ImageID,LabelName,XMin\n";
  const int rows = 120000;
  for (int i = 0; i < rows; ++i) {
    char line[96];
    std::snprintf(line, sizeof line, "%016x,/m/%s,0.%06d%s\n", i * 7919, (i % 3) ? "0abc" : "keep",
                  i, std::string(static_cast<std::size_t>(i % 11), '0').c_str());
    text += line;
  }
  auto f = csv_file::from_memory(text, "big.csv");
  csv_options opt;
  opt.quotes = detkit::quoting::none;
  auto layout = detkit::try_read_layout(f, opt);
  REQUIRE(layout);
  auto pre = detkit::make_prefilter(1, [](std::string_view m) { return m == "/m/keep"; });
  opt.threads = 4;
  const std::size_t chunks = detkit::csv_chunk_count(f, *layout, opt);
  REQUIRE(chunks == 5);  // 4 threads x 4 chunks, but at least 1 MiB each
  std::vector<std::vector<std::string>> parts(chunks);
  auto fn = [](std::vector<std::string>& out, const detkit::csv_record& r, detkit::row_error&) {
    out.emplace_back(r[0]);
    return row_action::keep;
  };
  auto rp = detkit::try_scan_parallel(f, *layout, opt, pre, parts, fn);
  REQUIRE(rp);
  std::vector<std::vector<std::string>> one(1);
  csv_options serial = opt;
  serial.threads = 1;
  auto rs = detkit::try_scan_parallel(f, *layout, serial, pre, one, fn);
  REQUIRE(rs);
  std::vector<std::string> merged;
  for (auto& p : parts) merged.insert(merged.end(), p.begin(), p.end());
  CHECK(merged == one[0]);
  CHECK(merged.size() == static_cast<std::size_t>((rows + 2) / 3));
  CHECK(rp->rows_seen == static_cast<std::uint64_t>(rows));
  CHECK(rp->rows_kept == rs->rows_kept);
  CHECK(rp->adds_up());

  // A bad row deep in the last chunk: the line number must count the earlier chunks' lines.
  const int bad_row = rows - 10;  // data row index; line = bad_row + 2
  std::string broken = text;
  std::size_t pos = 0;
  for (int line = 0; line < bad_row + 1; ++line) pos = broken.find('\n', pos) + 1;
  broken.insert(broken.find('\n', pos), ",extra");
  auto fb = csv_file::from_memory(broken, "big.csv");
  std::vector<std::vector<std::string>> parts2(chunks);
  auto re = detkit::try_scan_parallel(fb, *layout, opt, pre, parts2, fn);
  REQUIRE_FALSE(re);
  CHECK(re.error().line == static_cast<std::uint64_t>(bad_row + 2));
  CHECK(re.error().code == detkit::errc::csv_field_count);
}

TEST_CASE("csv: a parallel scan refuses line breaks inside quotes", "[csv]") {
  std::string text = "a,b\n";
  for (int i = 0; i < 60000; ++i) text += "1234567890,abcdefghijklmnopqrstuvwxyz0123456789\n";
  text += "\"multi\nline\",x\n";
  auto f = csv_file::from_memory(text, "q.csv");
  csv_options opt;
  opt.threads = 2;
  auto layout = detkit::try_read_layout(f, opt);
  REQUIRE(layout);
  std::vector<int> st(2);
  auto r = detkit::try_scan_parallel(
      f, *layout, opt, detkit::no_prefilter{}, st,
      [](int&, const detkit::csv_record&, detkit::row_error&) { return row_action::keep; });
  REQUIRE_FALSE(r);
  CHECK(r.error().to_string() ==
        "q.csv:60002:1: error: line break inside a quoted field; a parallel scan cannot split "
        "such a file, read it with threads = 1 [detkit.csv.bad_quote]");
}

TEST_CASE("csv: the portable and the AVX2 line scanners agree on every line and tail", "[csv]") {
  // The AVX2 scanner is picked at run time when the CPU has it, so the portable one would go
  // untested on such machines: compare both on lines of every length up to 100 and every
  // position of '\n', delimiters and quotes, at every distance from the end of the buffer.
  std::uint32_t seed = 12345;
  auto next = [&] {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 16) & 0x7fffu;
  };
  const char alphabet[] = {'a', ',', ',', '"', '\n', 'x', '0', '\r'};
  int compared = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string buf(static_cast<std::size_t>(next() % 100), 'a');
    for (char& c : buf) c = alphabet[next() % sizeof alphabet];
    for (std::uint32_t want : {0u, 3u, 16u}) {
      detkit::detail::line_scan a, b;
      detkit::detail::scan_line(buf.data(), buf.data() + buf.size(), ',', want, a);
#if defined(DETKIT_CSV_AVX2_DISPATCH)
      if (!detkit::detail::csv_cpu_has_avx2()) continue;
      detkit::detail::scan_line_avx2(buf.data(), buf.data() + buf.size(), ',', want, b);
#else
      b = a;
#endif
      REQUIRE(a.len == b.len);
      REQUIRE(a.terminated == b.terminated);
      REQUIRE(a.has_quote == b.has_quote);
      REQUIRE(a.delimiters == b.delimiters);
      REQUIRE(a.recorded == b.recorded);
      for (std::uint32_t i = 0; i < a.recorded; ++i) REQUIRE(a.pos[i] == b.pos[i]);
      // And both against a byte loop.
      const std::size_t nl = buf.find('\n');
      const std::size_t len = nl == std::string::npos ? buf.size() : nl;
      REQUIRE(a.len == len);
      REQUIRE(a.delimiters ==
              static_cast<std::uint32_t>(
                  std::count(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(len), ',')));
      REQUIRE(a.has_quote == (buf.substr(0, len).find('"') != std::string::npos));
      ++compared;
    }
  }
  CHECK(compared == 9000);
}
