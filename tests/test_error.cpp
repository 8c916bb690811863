#include <catch2/catch.hpp>
#include <set>

#include "detkit/error.hpp"

using detkit::errc;

TEST_CASE("error: renders GCC-style with field and id", "[error]") {
  detkit::error e =
      detkit::make_error(errc::csv_bad_number, "expected a number in [0,1], got '1.2e'", "XMin");
  e.file = "oidv6-train-annotations-bbox.csv";
  e.line = 1204;
  e.column = 57;
  CHECK(e.to_string() ==
        "oidv6-train-annotations-bbox.csv:1204:57: error: field 'XMin': expected a number in "
        "[0,1], got '1.2e' [detkit.csv.bad_number]");
}

TEST_CASE("error: binary files report a byte offset", "[error]") {
  detkit::error e = detkit::make_error(errc::cache_checksum, "checksum mismatch");
  e.file = "labels.dkc";
  e.byte_offset = 4096;
  e.has_offset = true;
  CHECK(e.to_string() == "labels.dkc: byte 4096: error: checksum mismatch [detkit.cache.checksum]");
}

TEST_CASE("error: every code has a distinct id", "[error]") {
  std::set<std::string_view> ids;
  for (int c = 0; c <= static_cast<int>(errc::other); ++c) {
    auto id = detkit::errc_id(static_cast<errc>(c));
    CHECK(id != "unknown");
    CHECK(ids.insert(id).second);
  }
}

TEST_CASE("result: value or error; value() throws parse_error", "[error]") {
  detkit::result<int> ok = 42;
  REQUIRE(ok);
  CHECK(ok.value() == 42);
  detkit::result<int> bad = detkit::make_error(errc::io_open, "cannot open: No such file");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == errc::io_open);
  CHECK_THROWS_AS(bad.value(), detkit::parse_error);
  try {
    (void)bad.value();
  } catch (const detkit::parse_error& ex) {
    CHECK(ex.code() == errc::io_open);
    CHECK(std::string(ex.what()) == "error: cannot open: No such file [detkit.io.open]");
  }
  detkit::result<void> v;
  CHECK(v);
  detkit::result<void> vbad = detkit::make_error(errc::usage, "x");
  CHECK_THROWS_AS(vbad.value(), detkit::parse_error);
}
