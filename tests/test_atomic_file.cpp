#include <catch2/catch.hpp>

#include "detkit/atomic_file.hpp"
#include "test_support.hpp"

TEST_CASE("atomic_file: commit publishes, discard leaves nothing", "[atomic_file]") {
  const std::string dir = detkit_test::work_dir("atomic_file");
  const std::string path = dir + "/out.bin";
  {
    detkit::atomic_file f;
    REQUIRE(f.try_open(path));
    f.write("hello");
    CHECK_FALSE(detkit_test::file_exists(path));  // not visible before commit
    REQUIRE(f.commit());
  }
  CHECK(detkit_test::read_text(path) == "hello");
  {
    detkit::atomic_file f;
    REQUIRE(f.try_open(path));
    f.write("half a file");
  }  // destroyed without commit: old content stays, no temp file remains
  CHECK(detkit_test::read_text(path) == "hello");
  const std::string ls = dir + "/out.bin.tmp." + std::to_string(::getpid());
  CHECK_FALSE(detkit_test::file_exists(ls));
}

TEST_CASE("atomic_file: unwritable folder gives a located error", "[atomic_file]") {
  auto r = detkit::try_write_file_atomically("/nonexistent-dir/x.bin", "data");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == detkit::errc::io_write);
  CHECK(r.error().file == "/nonexistent-dir/x.bin");
}
