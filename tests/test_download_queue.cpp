// tests/test_download_queue.cpp — the pure logic of detkit-download: retry_policy.hpp (outcome
// classification, seeded backoff), part_file.hpp (.part + rename, resume, disk full) and
// download_queue.hpp (states, attempts, skip-if-complete, resume offsets, counters, progress).
// The network side is tested against a real loopback server in tests/download/.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cmath>
#include <string>
#include <vector>

#include "detkit/download_queue.hpp"
#include "detkit/part_file.hpp"
#include "detkit/retry_policy.hpp"
#include "test_support.hpp"

using detkit::transfer_outcome;
using detkit::transfer_status;

namespace {

detkit::transfer_result res(transfer_status s, int code = 0) {
  detkit::transfer_result r;
  r.status = s;
  r.http_code = code;
  return r;
}

std::string jpeg_fixture() {
  return detkit_test::read_text(detkit_test::fixture("openimages/images/105433f9d808d18e.jpg"));
}

std::vector<detkit::download_job> make_jobs(const std::string& dir, int n) {
  std::vector<detkit::download_job> jobs;
  for (int i = 0; i < n; ++i) {
    const std::string key = "img" + std::to_string(i);
    jobs.push_back({"http://127.0.0.1:9/" + key + ".jpg", dir + "/" + key + ".jpg", key});
  }
  return jobs;
}

detkit::download_queue_options jpeg_opts() {
  detkit::download_queue_options o;
  o.is_complete = detkit::is_complete_jpeg_file;
  o.retry.max_attempts = 3;
  return o;
}

}  // namespace

TEST_CASE("retry_policy: outcomes of each kind of failure", "[download]") {
  CHECK(detkit::classify(res(transfer_status::ok, 200)) == transfer_outcome::done);
  for (int code : {403, 404, 410})
    CHECK(detkit::classify(res(transfer_status::http_error, code)) == transfer_outcome::missing);
  for (int code : {408, 429, 500, 502, 503, 504, 416})
    CHECK(detkit::classify(res(transfer_status::http_error, code)) == transfer_outcome::retry);
  for (int code : {400, 401, 405, 301})
    CHECK(detkit::classify(res(transfer_status::http_error, code)) == transfer_outcome::failed);
  for (auto s : {transfer_status::timeout, transfer_status::connection, transfer_status::stall,
                 transfer_status::short_body, transfer_status::corrupt})
    CHECK(detkit::classify(res(s)) == transfer_outcome::retry);
  CHECK(detkit::classify(res(transfer_status::write_error)) == transfer_outcome::fatal);
  CHECK(detkit::classify(res(transfer_status::bad_request)) == transfer_outcome::failed);
  CHECK(detkit::classify(res(transfer_status::cancelled)) == transfer_outcome::requeue);
  CHECK(detkit::is_disk_full_errno(ENOSPC));
  CHECK_FALSE(detkit::is_disk_full_errno(EACCES));
}

TEST_CASE("retry_policy: backoff grows, is capped, jittered, and reproducible from the seed",
          "[download]") {
  detkit::retry_policy p;
  p.base_delay_s = 1.0;
  p.multiplier = 2.0;
  p.max_delay_s = 10.0;
  p.jitter = 0.5;
  std::uint64_t a = 7, b = 7, c = 8;
  std::vector<double> da, db, dc;
  for (int f = 1; f <= 6; ++f) {
    da.push_back(detkit::backoff_delay_s(p, f, a));
    db.push_back(detkit::backoff_delay_s(p, f, b));
    dc.push_back(detkit::backoff_delay_s(p, f, c));
  }
  CHECK(da == db);  // same seed, same schedule
  CHECK(da != dc);  // another seed, another schedule
  const double nominal[] = {1, 2, 4, 8, 10, 10};
  for (std::size_t i = 0; i < da.size(); ++i) {
    INFO("failure " << i + 1 << " delay " << da[i]);
    CHECK(da[i] >= nominal[i] * 0.5);
    CHECK(da[i] <= nominal[i]);
  }
  p.jitter = 0;
  std::uint64_t s = 1;
  CHECK(detkit::backoff_delay_s(p, 3, s) == 4.0);
  // Retry-After wins when longer, but never beyond the cap.
  CHECK(detkit::backoff_delay_s(p, 1, s, 5.0) == 5.0);
  CHECK(detkit::backoff_delay_s(p, 1, s, 500.0) == 10.0);
}

TEST_CASE("part_file: writes .part, resumes at the offset, renames only on commit", "[download]") {
  const std::string dir = detkit_test::work_dir("part_file");
  const std::string path = dir + "/a.jpg";
  detkit::part_file p(path);
  p.begin(0);
  CHECK_FALSE(detkit_test::file_exists(path + ".part"));  // created on the first byte only
  REQUIRE(p.write("hello ", 6));
  p.close();
  CHECK(detkit_test::read_text(path + ".part") == "hello ");
  CHECK_FALSE(detkit_test::file_exists(path));

  // A crashed writer left junk past the offset we trust: it is cut.
  detkit_test::write_text(path + ".part", "hello JUNK");
  p.begin(6);
  REQUIRE(p.write("world", 5));
  CHECK(p.size() == 11);
  REQUIRE(p.commit());
  CHECK(detkit_test::read_text(path) == "hello world");
  CHECK_FALSE(detkit_test::file_exists(path + ".part"));

  // The server ignored Range: restart() rewrites from byte 0.
  detkit_test::write_text(path + ".part", "old bytes");
  detkit::part_file q(path);
  q.begin(9);
  q.restart();
  REQUIRE(q.write("new", 3));
  q.close();
  CHECK(detkit_test::read_text(path + ".part") == "new");
  q.discard();
  CHECK_FALSE(detkit_test::file_exists(path + ".part"));
}

TEST_CASE("part_file: a full disk and a missing folder are reported with errno", "[download]") {
  const std::string dir = detkit_test::work_dir("part_file_full");
  // `<path>.part` -> /dev/full: every write fails with ENOSPC, as on a full disk.
  const std::string path = dir + "/full.jpg";
  REQUIRE(::symlink("/dev/full", (path + ".part").c_str()) == 0);
  detkit::part_file p(path);
  p.begin(0);
  CHECK_FALSE(p.write("x", 1));
  CHECK(p.os_errno() == ENOSPC);
  CHECK(detkit::is_disk_full_errno(p.os_errno()));

  detkit::part_file m(dir + "/no/such/dir/x.jpg");
  m.begin(0);
  CHECK_FALSE(m.write("x", 1));
  CHECK(m.os_errno() == ENOENT);
}

TEST_CASE("download_queue: skip complete files, resume .part files, replace broken ones",
          "[download]") {
  const std::string dir = detkit_test::work_dir("queue_scan");
  const std::string jpg = jpeg_fixture();
  auto jobs = make_jobs(dir, 4);
  detkit_test::write_text(jobs[0].path, jpg);                             // complete
  detkit_test::write_text(jobs[1].path, jpg.substr(0, jpg.size() - 10));  // cut short: refetch
  detkit_test::write_text(jobs[2].path + ".part", jpg.substr(0, 1000));   // resume at 1000
  detkit::download_queue q(jobs, jpeg_opts());
  CHECK(q.scan_existing() == 1);
  q.begin(0);
  CHECK(q.state(0) == detkit::job_state::skipped);
  std::vector<std::pair<std::size_t, std::uint64_t>> started;
  while (auto s = q.next(0)) started.push_back({s->index, s->resume_offset});
  REQUIRE(started.size() == 3);
  CHECK(started[0] == std::make_pair(std::size_t{1}, std::uint64_t{0}));
  CHECK(started[1] == std::make_pair(std::size_t{2}, std::uint64_t{1000}));
  CHECK(started[2] == std::make_pair(std::size_t{3}, std::uint64_t{0}));
  CHECK(q.active() == 3);
}

TEST_CASE("download_queue: retries with backoff, gives up after max_attempts, missing is final",
          "[download]") {
  const std::string dir = detkit_test::work_dir("queue_retry");
  auto opts = jpeg_opts();
  opts.retry.base_delay_s = 1.0;
  opts.retry.jitter = 0;
  detkit::download_queue q(make_jobs(dir, 3), opts);
  q.begin(0);
  auto a = q.next(0), b = q.next(0), c = q.next(0);
  REQUIRE((a && b && c));
  CHECK_FALSE(q.next(0));

  CHECK(q.finish(a->index, res(transfer_status::http_error, 404), 0, 0.0) ==
        transfer_outcome::missing);
  CHECK(q.finish(b->index, res(transfer_status::http_error, 503), 500, 0.0) ==
        transfer_outcome::retry);
  CHECK(q.state(b->index) == detkit::job_state::waiting);
  CHECK(q.next_ready_in(0.0) == Approx(1.0));
  CHECK_FALSE(q.has_ready(0.5));
  CHECK_FALSE(q.next(0.5));  // still in its backoff
  CHECK(q.has_ready(1.0));
  auto b2 = q.next(1.0);
  REQUIRE(b2);
  CHECK(b2->index == b->index);
  CHECK(b2->attempt == 2);
  CHECK(b2->resume_offset == 500);  // what the .part held after the failed attempt
  CHECK(q.finish(b2->index, res(transfer_status::stall), 800, 1.0) == transfer_outcome::retry);
  CHECK(q.next_ready_in(1.0) == Approx(2.0));  // doubled
  auto b3 = q.next(3.0);
  REQUIRE(b3);
  CHECK(q.finish(b3->index, res(transfer_status::connection), 800, 3.0) ==
        transfer_outcome::failed);  // third attempt = max_attempts
  CHECK(q.state(b3->index) == detkit::job_state::failed);

  // A cancelled transfer (Ctrl-C) is not an attempt and goes back to the front.
  CHECK(q.finish(c->index, res(transfer_status::cancelled), 100, 3.0) == transfer_outcome::requeue);
  auto c2 = q.next(3.0);
  REQUIRE(c2);
  CHECK(c2->attempt == 1);
  CHECK(c2->resume_offset == 100);
  auto ok = res(transfer_status::ok, 206);
  ok.resumed_from = 100;
  CHECK(q.finish(c2->index, ok, 0, 4.0) == transfer_outcome::done);
  CHECK(q.settled());

  const auto s = q.summary(4.0);
  CHECK(s.total == 3);
  CHECK(s.downloaded == 1);
  CHECK(s.missing == 1);
  CHECK(s.failed == 1);
  CHECK(s.pending == 0);
  CHECK(s.retries == 2);
  CHECK(s.resumed == 1);
  CHECK(s.bytes_resumed == 100);
  CHECK(s.downloaded + s.skipped + s.missing + s.missing_known + s.failed + s.pending == s.total);
}

TEST_CASE("download_queue: a 416 drops the resume offset; a fatal error stops everything",
          "[download]") {
  const std::string dir = detkit_test::work_dir("queue_fatal");
  detkit::download_queue q(make_jobs(dir, 4), jpeg_opts());
  q.begin(0);
  auto a = q.next(0);
  REQUIRE(a);
  CHECK(q.finish(a->index, res(transfer_status::http_error, 416), 999, 0) ==
        transfer_outcome::retry);
  auto b = q.next(0);
  REQUIRE(b);
  auto w = res(transfer_status::write_error);
  w.os_errno = ENOSPC;
  CHECK(q.finish(b->index, w, 0, 0) == transfer_outcome::fatal);
  CHECK(q.fatal());
  CHECK(q.stopped());
  CHECK_FALSE(q.next(100));  // nothing new starts, not even the waiting retry
  CHECK(q.settled());
  const auto s = q.summary(1);
  CHECK(s.failed == 1);
  CHECK(s.pending == 3);  // left for the next run
  // The 416'd job restarts from 0 in a later run.
  detkit::download_queue again(make_jobs(dir, 1), jpeg_opts());
  again.scan_existing();
  auto r = again.next(0);
  REQUIRE(r);
  CHECK(r->resume_offset == 0);
}

TEST_CASE("download_queue: publish checks length and JPEG trailer before the rename",
          "[download]") {
  const std::string dir = detkit_test::work_dir("queue_publish");
  const std::string jpg = jpeg_fixture();
  const auto n = static_cast<std::int64_t>(jpg.size());
  detkit::download_queue q(make_jobs(dir, 1), jpeg_opts());
  const std::string path = q.job(0).path;
  detkit::transfer_result r;

  detkit_test::write_text(path + ".part", jpg.substr(0, 100));
  detkit::part_file short_part(path);
  CHECK(q.publish(short_part, n, r) == transfer_status::short_body);
  CHECK(detkit_test::file_exists(path + ".part"));  // kept for a Range resume
  CHECK_FALSE(detkit_test::file_exists(path));

  detkit_test::write_text(path + ".part", jpg + "trailing");
  detkit::part_file long_part(path);
  CHECK(q.publish(long_part, n, r) == transfer_status::corrupt);
  CHECK_FALSE(detkit_test::file_exists(path + ".part"));

  detkit_test::write_text(path + ".part", "<html>not an image</html>");
  detkit::part_file html(path);
  CHECK(q.publish(html, -1, r) == transfer_status::corrupt);  // no length known: trailer check
  CHECK_FALSE(detkit_test::file_exists(path + ".part"));

  detkit_test::write_text(path + ".part", jpg);
  detkit::part_file good(path);
  CHECK(q.publish(good, n, r) == transfer_status::ok);
  CHECK(detkit_test::read_text(path) == jpg);
  CHECK_FALSE(detkit_test::file_exists(path + ".part"));
}

TEST_CASE("download_queue: progress snapshot rates and ETA", "[download]") {
  const std::string dir = detkit_test::work_dir("queue_progress");
  auto opts = jpeg_opts();
  opts.rate_window_s = 100;
  detkit::download_queue q(make_jobs(dir, 10), opts);
  q.begin(0);
  auto p0 = q.snapshot(0);
  CHECK(p0.total == 10);
  CHECK(p0.eta_s < 0);  // unknown before anything finished
  for (int i = 0; i < 4; ++i) {
    auto s = q.next(0);
    REQUIRE(s);
    q.note_bytes(1000);
    CHECK(q.finish(s->index, res(transfer_status::ok, 200), 0, 1.0) == transfer_outcome::done);
  }
  auto p = q.snapshot(2.0);
  CHECK(p.finished == 4);
  CHECK(p.bytes == 4000);
  CHECK(p.bytes_per_s == Approx(2000));
  CHECK(p.images_per_s == Approx(2));
  CHECK(p.eta_s == Approx(3));  // 6 left at 2 images/s
}

TEST_CASE("download_queue: jobs listed as missing earlier are not asked again", "[download]") {
  const std::string dir = detkit_test::work_dir("queue_known_missing");
  detkit::download_queue q(make_jobs(dir, 2), jpeg_opts());
  q.mark_known_missing(1);
  q.begin(0);
  auto a = q.next(0);
  REQUIRE(a);
  CHECK(a->index == 0);
  CHECK_FALSE(q.next(0));
  const auto s = q.summary(0);
  CHECK(s.missing_known == 1);
  CHECK(s.pending == 1);  // job 0 is active, not finished
}
