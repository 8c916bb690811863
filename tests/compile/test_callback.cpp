// callback.hpp replaces std::function in csv_options::progress (issue 19: no <functional> in
// csv.hpp); these check that it behaves as the std::function it replaced did for its users.
#include <catch2/catch.hpp>
#include <cstdint>
#include <functional>
#include <memory>

#include "detkit/callback.hpp"
#include "detkit/csv.hpp"

TEST_CASE("callback: empty by default, from nullptr, from a null function pointer", "[callback]") {
  detkit::csv_options opt;
  CHECK_FALSE(opt.progress);
  void (*none)(std::uint64_t, std::uint64_t) = nullptr;
  opt.progress = none;
  CHECK_FALSE(opt.progress);
  opt.progress = [](std::uint64_t, std::uint64_t) {};
  CHECK(opt.progress);
  opt.progress = nullptr;
  CHECK_FALSE(opt.progress);
  opt.progress = std::function<void(std::uint64_t, std::uint64_t)>{};
  CHECK_FALSE(opt.progress);
}

TEST_CASE("callback: copies hold their own copy of the callable", "[callback]") {
  int calls = 0;
  std::uint64_t sum = 0;
  detkit::csv_options a;
  a.progress = [&calls, &sum, own = 0](std::uint64_t bytes, std::uint64_t rows) mutable {
    ++calls;
    sum += bytes + rows;
    own += 1;
    CHECK(own == 1);  // each copy starts from the state it was copied with
  };
  const detkit::csv_options b = a;  // copied before either is called
  a.progress(1, 2);
  b.progress(3, 4);
  CHECK(calls == 2);
  CHECK(sum == 10);
  detkit::csv_options c = std::move(a);
  CHECK(c.progress);
}

TEST_CASE("callback: returns the callable's result; keeps move-only state alive", "[callback]") {
  detkit::callback<int(int)> square = [](int x) { return x * x; };
  CHECK(square(7) == 49);
  auto shared = std::make_shared<int>(5);
  detkit::callback<int(int)> add = [shared](int x) { return x + *shared; };
  shared.reset();
  CHECK(add(1) == 6);
}

TEST_CASE("callback: csv progress is called with the bytes and records scanned", "[callback]") {
  std::string text = "a,b\n";
  for (int i = 0; i < 70000; ++i) text += "1,2\n";
  auto file = detkit::csv_file::from_memory(text, "progress.csv");
  detkit::csv_options opt;
  std::uint64_t bytes = 0, records = 0;
  opt.progress = [&](std::uint64_t b, std::uint64_t r) {
    bytes += b;
    records += r;
  };
  auto layout = detkit::try_read_layout(file, opt);
  REQUIRE(layout);
  auto report = detkit::try_scan(
      file, *layout, opt, detkit::no_prefilter{},
      [](const detkit::csv_record&, detkit::row_error&) { return detkit::row_action::keep; });
  REQUIRE(report);
  CHECK(report->rows_kept == 70000);
  CHECK(records == 70000);
  CHECK(bytes == text.size() - 4);  // the body: everything after the header line
}
