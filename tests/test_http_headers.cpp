// tests/test_http_headers.cpp — http_headers.hpp: Content-Range and Retry-After parsing, the
// headers a Range resume trusts to splice bytes into an existing .part file.
#include <catch2/catch.hpp>
#include <string>

#include "detkit/http_headers.hpp"

TEST_CASE("http_headers: header_value matches the name case-insensitively and trims",
          "[download]") {
  auto v = detkit::header_value("content-RANGE:  bytes 0-9/10\r\n", "Content-Range");
  REQUIRE(v);
  CHECK(*v == "bytes 0-9/10");
  CHECK_FALSE(detkit::header_value("Content-Ranges: bytes 0-9/10\r\n", "Content-Range"));
  CHECK_FALSE(detkit::header_value("Content-Range\r\n", "Content-Range"));
  CHECK_FALSE(detkit::header_value("X: y", "Content-Range"));
}

TEST_CASE("http_headers: Content-Range forms of RFC 9110 §14.4", "[download]") {
  auto r = detkit::parse_content_range("bytes 35038-70075/70076");
  REQUIRE(r);
  CHECK(r->has_range);
  CHECK(r->first == 35038);
  CHECK(r->last == 70075);
  CHECK(r->complete_length == 70076);

  auto star = detkit::parse_content_range("bytes 0-99/*");
  REQUIRE(star);
  CHECK(star->has_range);
  CHECK(star->complete_length == -1);

  auto unsat = detkit::parse_content_range("bytes */70076");  // the 416 form
  REQUIRE(unsat);
  CHECK_FALSE(unsat->has_range);
  CHECK(unsat->complete_length == 70076);
}

TEST_CASE("http_headers: malformed Content-Range is rejected, never guessed", "[download]") {
  for (const char* bad : {"", "bytes", "bytes ", "bytes 1-2", "bytes -2/10", "bytes 1-/10",
                          "bytes 5-4/10", "bytes 0-10/10", "bytes */*", "bytes +1-2/10",
                          "bytes 1-2/-10", "bytes 1 -2/10", "items 1-2/10", "bytes 1-2/10x",
                          "bytes 99999999999999999999-1/5", "bytes 0-1/99999999999999999999"}) {
    INFO("'" << bad << "'");
    CHECK_FALSE(detkit::parse_content_range(bad));
  }
}

TEST_CASE("http_headers: Retry-After delta-seconds, HTTP-date ignored", "[download]") {
  CHECK(detkit::parse_retry_after("120") == 120.0);
  CHECK(detkit::parse_retry_after(" 1\r\n") == 1.0);
  CHECK(detkit::parse_retry_after("999999999") == 86400.0);  // capped
  CHECK_FALSE(detkit::parse_retry_after("Fri, 31 Dec 1999 23:59:59 GMT"));
  CHECK_FALSE(detkit::parse_retry_after("-5"));
  CHECK_FALSE(detkit::parse_retry_after(""));
}
