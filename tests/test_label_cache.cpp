// tests/test_label_cache.cpp — mirrors include/detkit/label_cache.hpp: round trip of every field,
// and every way a cache file can be wrong (truncated at every byte, a bit flipped in every byte,
// older/newer version, wrong magic, other byte order, other layout, inconsistent entries behind
// valid checksums, stale sources) gives its exact error and never a crash; a failed write leaves
// no file behind.
#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "detkit/label_cache.hpp"
#include "detkit/split.hpp"
#include "test_support.hpp"

using detkit::errc;
using detkit::tri_flag;

namespace {

detkit::label_box make_box(float x1, float y1, float x2, float y2, std::int32_t cat,
                           detkit::image_size s, detkit::box_flags f) {
  detkit::label_box b;
  b.rel = {x1, y1, x2, y2};
  b.abs = detkit::to_xyxy_abs(b.rel, s);
  b.category_id = cat;
  b.flags = f;
  return b;
}

detkit::label_set sample() {
  detkit::label_set ls;
  ls.classes = {{"/m/03ssj5", "Bed"}, {"/m/02crq1", "Couch"}, {"/m/0271qf7", "Wine rack"}};
  detkit::image_record a;
  a.image_id = "000a1249af2bc5f0";
  a.image_id_u64 = 0x000a1249af2bc5f0ULL;
  a.file_name = "000a1249af2bc5f0.jpg";
  a.size = {1024, 768};
  a.boxes.push_back(
      make_box(0.0125f, 0.182f, 0.9985229f, 1.0f, 0, a.size,
               {tri_flag::yes, tri_flag::no, tri_flag::no, tri_flag::yes, tri_flag::no}));
  a.boxes.push_back(make_box(0.0020833334f, 0.5f, 0.25f, 0.75f, 2, a.size, {}));
  detkit::image_record b;
  b.image_id = "00aa2ba3d7ef4c4f";
  b.image_id_u64 = 0x00aa2ba3d7ef4c4fULL;
  detkit::image_record c;
  c.image_id = "0fe39f5c0e31e0d8";
  c.image_id_u64 = 0x0fe39f5c0e31e0d8ULL;
  c.file_name = "dir/\xc3\xbc \"q\".jpg";
  c.size = {640, 480};
  for (int i = 0; i < 3; ++i) {
    const float f = 0.1f * static_cast<float>(i);
    c.boxes.push_back(
        make_box(f, f, f + 0.3f, f + 0.5f, i % 3, c.size,
                 {tri_flag::no, tri_flag::yes, tri_flag::unknown, tri_flag::no, tri_flag::yes}));
  }
  ls.images = {a, b, c};
  return ls;
}

detkit::cache_fingerprint sample_fingerprint(const detkit::label_set& ls) {
  detkit::cache_fingerprint fp;
  fp.sources.push_back({"oidv6-train-annotations-bbox.csv", 2258447590ULL, 1700000000123456789LL,
                        0x1234567890abcdefULL, detkit::fingerprint_mode::quick});
  fp.sources.push_back(
      {"class-descriptions-boxable.csv", 11255, 42, 0x42, detkit::fingerprint_mode::full});
  fp.class_list_hash = detkit::hash_class_list(ls.classes);
  fp.settings = "rounding=none";
  return fp;
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

void check_equal(const detkit::label_set& x, const detkit::label_set& y) {
  REQUIRE(x.classes.size() == y.classes.size());
  for (std::size_t i = 0; i < x.classes.size(); ++i) {
    CHECK(x.classes[i].mid == y.classes[i].mid);
    CHECK(x.classes[i].name == y.classes[i].name);
  }
  REQUIRE(x.images.size() == y.images.size());
  for (std::size_t i = 0; i < x.images.size(); ++i) {
    const auto& a = x.images[i];
    const auto& b = y.images[i];
    CHECK(a.image_id == b.image_id);
    CHECK(a.image_id_u64 == b.image_id_u64);
    CHECK(a.file_name == b.file_name);
    CHECK(a.size.width == b.size.width);
    CHECK(a.size.height == b.size.height);
    REQUIRE(a.boxes.size() == b.boxes.size());
    for (std::size_t k = 0; k < a.boxes.size(); ++k) {
      const auto& p = a.boxes[k];
      const auto& q = b.boxes[k];
      CHECK(same_bits(p.rel.x1, q.rel.x1));
      CHECK(same_bits(p.rel.y1, q.rel.y1));
      CHECK(same_bits(p.rel.x2, q.rel.x2));
      CHECK(same_bits(p.rel.y2, q.rel.y2));
      CHECK(same_bits(p.abs.x1, q.abs.x1));
      CHECK(same_bits(p.abs.y1, q.abs.y1));
      CHECK(same_bits(p.abs.x2, q.abs.x2));
      CHECK(same_bits(p.abs.y2, q.abs.y2));
      CHECK(p.category_id == q.category_id);
      CHECK(p.flags.occluded == q.flags.occluded);
      CHECK(p.flags.truncated == q.flags.truncated);
      CHECK(p.flags.group_of == q.flags.group_of);
      CHECK(p.flags.depiction == q.flags.depiction);
      CHECK(p.flags.inside == q.flags.inside);
    }
  }
}

std::string write_sample(const std::string& dir, const std::string& name = "labels.dkc") {
  const auto ls = sample();
  const std::string path = dir + "/" + name;
  auto r = detkit::try_write_label_cache(path, ls, sample_fingerprint(ls));
  REQUIRE(r.has_value());
  return path;
}

struct parsed {
  detkit::detail::cache_header h;
  detkit::detail::cache_section_entry table[detkit::detail::cache_section_count];
};
parsed parse(const std::string& bytes) {
  parsed p;
  std::memcpy(&p.h, bytes.data(), sizeof p.h);
  std::memcpy(p.table, bytes.data() + sizeof p.h, sizeof p.table);
  return p;
}
const detkit::detail::cache_section_entry& section(const parsed& p, std::uint32_t type) {
  for (const auto& s : p.table) {
    if (s.type == type) return s;
  }
  throw std::runtime_error("no section");
}

// Recomputes every checksum, so a deliberately inconsistent entry reaches the entry checks.
void reseal(std::string& bytes) {
  parsed p = parse(bytes);
  const std::uint64_t block = p.h.hash_block_bytes;
  for (auto& s : p.table) {
    if (s.offset > bytes.size() || s.bytes > bytes.size() - s.offset) continue;  // out of file
    std::vector<std::uint64_t> hashes;
    for (std::uint64_t lo = 0, k = 0; lo < s.bytes; lo += block, ++k) {
      const std::uint64_t n = std::min(block, s.bytes - lo);
      hashes.push_back(detkit::detail::cache_block_hash(bytes.data() + s.offset + lo,
                                                        static_cast<std::size_t>(n), k));
    }
    s.checksum = detkit::detail::cache_section_checksum(hashes, s.type);
  }
  p.h.payload_checksum =
      detkit::detail::cache_payload_checksum(p.table, detkit::detail::cache_section_count);
  std::memcpy(&bytes[0], &p.h, sizeof p.h);
  std::memcpy(&bytes[sizeof p.h], p.table, sizeof p.table);
  const std::uint64_t hc =
      detkit::detail::cache_header_checksum(reinterpret_cast<const unsigned char*>(bytes.data()));
  std::memcpy(&bytes[offsetof(detkit::detail::cache_header, header_checksum)], &hc, 8);
}

detkit::error open_error(const std::string& path,
                         detkit::cache_verify verify = detkit::cache_verify::full) {
  detkit::cache_open_options opt;
  opt.verify = verify;
  auto c = detkit::label_cache::try_open(path, opt);
  REQUIRE_FALSE(c.has_value());
  return c.error();
}

template <class T>
void put(std::string& bytes, std::size_t at, T v) {
  std::memcpy(&bytes[at], &v, sizeof v);
}

const std::string rebuild = ": rebuild the cache with detkit-prepare";

}  // namespace

TEST_CASE("label_cache: round trip keeps every field, views are zero-copy", "[label_cache]") {
  const std::string dir = detkit_test::work_dir("label_cache_rt");
  const auto ls = sample();
  const auto fp = sample_fingerprint(ls);
  const std::string path = write_sample(dir);
  auto opened = detkit::label_cache::try_open(path);
  REQUIRE(opened.has_value());
  detkit::label_cache cache = std::move(*opened);  // views survive a move

  REQUIRE(cache.classes().size() == 3);
  CHECK(cache.class_mid(cache.classes()[2]) == "/m/0271qf7");
  CHECK(cache.class_name(cache.classes()[2]) == "Wine rack");
  REQUIRE(cache.images().size() == 3);
  REQUIRE(cache.boxes().size() == 5);
  const auto& c = cache.images()[2];
  CHECK(cache.image_id(c) == "0fe39f5c0e31e0d8");
  CHECK(c.image_id_u64 == 0x0fe39f5c0e31e0d8ULL);
  CHECK(cache.file_name(c) == "dir/\xc3\xbc \"q\".jpg");
  CHECK(detkit::label_cache::size_of(c).width == 640);
  CHECK(detkit::label_cache::size_of(c).height == 480);
  CHECK(cache.boxes_of(1).empty());
  REQUIRE(cache.boxes_of(c).size() == 3);
  CHECK(cache.boxes_of(c)[1].category_id == 1);
  CHECK(same_bits(cache.boxes_of(c)[1].abs.x2, ls.images[2].boxes[1].abs.x2));
  CHECK(cache.boxes_of(0)[0].occluded == tri_flag::yes);
  CHECK(cache.boxes_of(0)[1].inside == tri_flag::unknown);
  // Zero-copy: the view points into the mapping, right after the previous image's boxes.
  CHECK(cache.boxes_of(c).data() == cache.boxes().data() + 2);

  check_equal(cache.to_label_set(), ls);
  const auto back = cache.fingerprint();
  REQUIRE(back.sources.size() == 2);
  CHECK(back.sources[0].path == "oidv6-train-annotations-bbox.csv");
  CHECK(back.sources[0].size == 2258447590ULL);
  CHECK(back.sources[0].mtime_ns == 1700000000123456789LL);
  CHECK(back.sources[0].hash == 0x1234567890abcdefULL);
  CHECK(back.sources[1].mode == detkit::fingerprint_mode::full);
  CHECK(back.class_list_hash == fp.class_list_hash);
  CHECK(back.settings == "rounding=none");
  CHECK(cache.verify_sources(fp).has_value());

  // Writing the same labels again gives the same bytes (no timestamps, no uninitialised padding).
  const std::string again = write_sample(dir, "again.dkc");
  CHECK(detkit_test::read_text(again) == detkit_test::read_text(path));
}

TEST_CASE("label_cache: empty label set and structure-only opening", "[label_cache]") {
  const std::string dir = detkit_test::work_dir("label_cache_empty");
  detkit::label_set empty;
  REQUIRE(detkit::try_write_label_cache(dir + "/e.dkc", empty, {}).has_value());
  auto c = detkit::label_cache::try_open(dir + "/e.dkc");
  REQUIRE(c.has_value());
  CHECK(c->images().empty());
  CHECK(c->boxes().empty());
  CHECK(c->classes().empty());
  CHECK(c->to_label_set().images.empty());

  // structure mode skips payload checksums (documented): a flipped box bit is not seen, while
  // the default mode catches it.
  const std::string path = write_sample(dir);
  std::string bytes = detkit_test::read_text(path);
  const auto boxes = section(parse(bytes), 3);
  bytes[boxes.offset + 1] = static_cast<char>(bytes[boxes.offset + 1] ^ 0x10);
  detkit_test::write_text(dir + "/flip.dkc", bytes);
  detkit::cache_open_options trusted;
  trusted.verify = detkit::cache_verify::structure;
  CHECK(detkit::label_cache::try_open(dir + "/flip.dkc", trusted).has_value());
  CHECK(open_error(dir + "/flip.dkc").code == errc::cache_checksum);
}

TEST_CASE("label_cache: truncated at every byte gives cache_truncated with the offset",
          "[label_cache]") {
  const std::string dir = detkit_test::work_dir("label_cache_trunc");
  const std::string full = detkit_test::read_text(write_sample(dir));
  const std::string cut = dir + "/cut.dkc";
  for (std::size_t n = 0; n < full.size(); ++n) {
    detkit_test::write_text(cut, full.substr(0, n));
    const detkit::error e = open_error(cut);
    INFO("truncated to " << n << " bytes: " << e.to_string());
    REQUIRE(e.code == errc::cache_truncated);
    CHECK(e.has_offset);
    CHECK(e.byte_offset == n);
  }
  detkit_test::write_text(cut, "");
  CHECK(open_error(cut).to_string() ==
        cut + ": byte 0: error: file is truncated: 0 bytes, too short for the 128-byte header" +
            rebuild + " [detkit.cache.truncated]");
  detkit_test::write_text(cut, full.substr(0, 100));
  CHECK(open_error(cut).to_string() == cut +
                                           ": byte 100: error: file is truncated at byte 100, "
                                           "inside the 128-byte header" +
                                           rebuild + " [detkit.cache.truncated]");
  detkit_test::write_text(cut, full.substr(0, 200));
  CHECK(open_error(cut).to_string() == cut +
                                           ": byte 200: error: file is truncated at byte 200, "
                                           "inside the section table (ends at byte 328)" +
                                           rebuild + " [detkit.cache.truncated]");
  const std::size_t n = full.size() - 1;
  detkit_test::write_text(cut, full.substr(0, n));
  CHECK(open_error(cut).to_string() ==
        cut + ": byte " + std::to_string(n) + ": error: file is truncated: " + std::to_string(n) +
            " of " + std::to_string(full.size()) +
            " bytes present (the write was interrupted or the copy is incomplete)" + rebuild +
            " [detkit.cache.truncated]");
}

TEST_CASE("label_cache: a bit flipped in any byte is detected, never a crash", "[label_cache]") {
  const std::string dir = detkit_test::work_dir("label_cache_flip");
  const std::string full = detkit_test::read_text(write_sample(dir));
  const parsed p = parse(full);
  const std::string bad = dir + "/bad.dkc";
  std::map<errc, int> seen;
  std::set<std::string> flipped_sections;
  for (std::size_t at = 0; at < full.size(); ++at) {
    for (int bit : {0, 5}) {
      std::string bytes = full;
      bytes[at] = static_cast<char>(bytes[at] ^ (1 << bit));
      detkit_test::write_text(bad, bytes);
      const detkit::error e = open_error(bad);
      INFO("byte " << at << " bit " << bit << ": " << e.to_string());
      ++seen[e.code];
      // Which check fires is fixed by where the byte is.
      if (at < 8) {
        CHECK(e.code == errc::cache_bad_magic);
      } else if (at < 12) {
        CHECK(e.code == errc::cache_version);
      } else if (at < 16) {
        CHECK(e.code == errc::cache_corrupt);  // a damaged mark, not a swapped one
      } else if (at < 20) {
        CHECK(e.code == errc::cache_layout);
      } else if (at >= 40 && at < 44) {
        CHECK(e.code == errc::cache_corrupt);  // section count
      } else if (at < 328) {
        CHECK(e.code == errc::cache_checksum);
      } else {
        bool in_section = false;
        for (const auto& s : p.table) {
          if (at >= s.offset && at < s.offset + s.bytes) {
            in_section = true;
            CHECK(e.code == errc::cache_checksum);
            const std::string name = detkit::detail::cache_section_name(s.type);
            CHECK(e.message.find("checksum mismatch in section '" + name + "'") == 0);
            CHECK(e.byte_offset == s.offset);
            flipped_sections.insert(name);
          }
        }
        if (!in_section) {
          CHECK(e.code == errc::cache_corrupt);
          CHECK(e.message == "non-zero padding byte between sections" + rebuild);
          CHECK(e.byte_offset == at);
        }
      }
    }
  }
  CHECK(flipped_sections ==
        std::set<std::string>{"boxes", "classes", "images", "sources", "strings"});
  CHECK(seen[errc::cache_checksum] > 0);
}

TEST_CASE("label_cache: version, magic, endianness and layout errors say what to do",
          "[label_cache]") {
  const std::string dir = detkit_test::work_dir("label_cache_header");
  const std::string full = detkit_test::read_text(write_sample(dir));
  const std::string bad = dir + "/bad.dkc";
  auto with = [&](auto edit) {
    std::string b = full;
    edit(b);
    detkit_test::write_text(bad, b);
    return open_error(bad);
  };
  auto e = with([](std::string& b) { put<std::uint32_t>(b, 8, 0); });
  CHECK(e.to_string() == bad +
                             ": byte 8: error: version mismatch (file=0, library=1): rebuild the "
                             "cache with detkit-prepare [detkit.cache.version]");
  e = with([](std::string& b) { put<std::uint32_t>(b, 8, 2); });
  CHECK(e.to_string() == bad +
                             ": byte 8: error: written by a newer detkit (file=2, library=1): "
                             "upgrade detkit, or rebuild the cache with this version's "
                             "detkit-prepare [detkit.cache.version]");
  e = with([](std::string& b) { b.replace(0, 8, "GIF89a\x01\x02"); });
  CHECK(e.to_string() == bad +
                             ": byte 0: error: not a detkit label cache: starts with 47 49 46 38 "
                             "39 61 01 02 instead of \"DETKITLC\"; give the .dkc file written by "
                             "detkit-prepare [detkit.cache.bad_magic]");
  e = with([](std::string& b) { put<std::uint32_t>(b, 12, 0x04030201u); });
  CHECK(e.to_string() == bad +
                             ": byte 12: error: byte order differs: the cache was written on a "
                             "machine of the other endianness; rebuild the cache on this machine "
                             "with detkit-prepare [detkit.cache.endianness]");
  e = with([](std::string& b) {
    put<std::uint32_t>(b, 32, 48);  // box entry size
    reseal(b);
  });
  CHECK(e.to_string() == bad +
                             ": byte 32: error: stored type sizes differ (box entry: file=48, "
                             "library=44): the cache was written by an incompatible build of "
                             "detkit" +
                             rebuild + " [detkit.cache.layout]");
  e = with([](std::string& b) { put<std::uint32_t>(b, 16, 256); });
  CHECK(e.code == errc::cache_layout);
  CHECK(e.message.find("(header: file=256, library=128)") != std::string::npos);
  e = with([](std::string& b) { b += std::string(3, '\0'); });
  CHECK(e.to_string() == bad + ": byte " + std::to_string(full.size()) +
                             ": error: 3 unexpected bytes after the end of the cache (byte " +
                             std::to_string(full.size()) + ")" + rebuild +
                             " [detkit.cache.corrupt]");
  e = with([](std::string& b) { b[100] = 1; });  // reserved header byte
  CHECK(e.to_string() == bad +
                             ": byte 0: error: header checksum mismatch in bytes 0..328: the "
                             "header or section table is damaged" +
                             rebuild + " [detkit.cache.checksum]");
  const auto boxes = section(parse(full), 3);
  e = with([&](std::string& b) { b[boxes.offset + 50] ^= 4; });
  CHECK(e.to_string() ==
        bad + ": byte " + std::to_string(boxes.offset) +
            ": error: checksum mismatch in section 'boxes' (bytes " + std::to_string(boxes.offset) +
            ".." + std::to_string(boxes.offset + boxes.bytes) +
            "): the file is damaged (disk or copy error)" + rebuild + " [detkit.cache.checksum]");
  CHECK_THROWS_AS(detkit::label_cache::open(bad), detkit::parse_error);
}

TEST_CASE("label_cache: inconsistent entries behind valid checksums are refused", "[label_cache]") {
  const std::string dir = detkit_test::work_dir("label_cache_entries");
  const std::string full = detkit_test::read_text(write_sample(dir));
  const parsed p = parse(full);
  const auto classes = section(p, 1);
  const auto images = section(p, 2);
  const auto boxes = section(p, 3);
  const auto strings = section(p, 4);
  const std::string bad = dir + "/bad.dkc";
  auto with = [&](auto edit) {
    std::string b = full;
    edit(b);
    reseal(b);
    detkit_test::write_text(bad, b);
    return open_error(bad);
  };
  const std::size_t box_cat = offsetof(detkit::cached_box, category_id);
  auto e = with([&](std::string& b) { put<std::int32_t>(b, boxes.offset + 44 + box_cat, 99); });
  CHECK(e.to_string() == bad + ": byte " + std::to_string(boxes.offset + 44) +
                             ": error: box 1: category_id 99 is outside the 3 classes" + rebuild +
                             " [detkit.cache.corrupt]");
  e = with([&](std::string& b) {
    put<std::int8_t>(b, boxes.offset + 2 * 44 + offsetof(detkit::cached_box, group_of), 7);
  });
  CHECK(e.message == "box 2: flag 'group_of' is 7, expected -1, 0 or 1" + rebuild);
  CHECK(e.byte_offset == boxes.offset + 2 * 44);
  e = with([&](std::string& b) { put<std::int32_t>(b, boxes.offset + box_cat, -1); });
  CHECK(e.message == "box 0: category_id -1 is outside the 3 classes" + rebuild);
  e = with([&](std::string& b) { put<std::uint8_t>(b, boxes.offset + 3 * 44 + 42, 1); });
  CHECK(e.message == "box 3: non-zero padding bytes" + rebuild);
  for (std::size_t byte = 36; byte < 41; ++byte) {  // every flag accepts -1, 0, 1 only
    for (int v = -128; v < 128; ++v) {
      std::string b = full;
      put<std::int8_t>(b, boxes.offset + byte, static_cast<std::int8_t>(v));
      reseal(b);
      detkit_test::write_text(bad, b);
      auto c = detkit::label_cache::try_open(bad);
      INFO("flag byte " << byte << " = " << v);
      CHECK(c.has_value() == (v >= -1 && v <= 1));
      if (!c) CHECK(c.error().message.find("box 0: flag '") == 0);
    }
  }
  e = with([&](std::string& b) {
    put<float>(b, boxes.offset + 4 * 44 + 20, std::numeric_limits<float>::quiet_NaN());
  });
  CHECK(e.message == "box 4: a coordinate is NaN or infinite" + rebuild);
  // An image whose id points past the string pool.
  e = with([&](std::string& b) {
    put<std::uint32_t>(b, images.offset + 48 + offsetof(detkit::cached_image, image_id),
                       static_cast<std::uint32_t>(strings.bytes));
  });
  CHECK(e.to_string() == bad + ": byte " + std::to_string(images.offset + 48) +
                             ": error: image 1: string (offset " + std::to_string(strings.bytes) +
                             ", length 16) outside the " + std::to_string(strings.bytes) +
                             "-byte string pool" + rebuild + " [detkit.cache.corrupt]");
  // Box ranges that do not chain (image 2 claims to start at box 1).
  e = with([&](std::string& b) {
    put<std::uint64_t>(b, images.offset + 2 * 48 + offsetof(detkit::cached_image, first_box), 1);
  });
  CHECK(e.to_string() == bad + ": byte " + std::to_string(images.offset + 2 * 48) +
                             ": error: image 2: boxes 1+3 do not continue the previous image's "
                             "or exceed the 5 boxes" +
                             rebuild + " [detkit.cache.corrupt]");
  // A huge box count cannot make boxes_of() read out of bounds.
  e = with([&](std::string& b) {
    put<std::uint32_t>(b, images.offset + 2 * 48 + offsetof(detkit::cached_image, box_count),
                       0xffffffffu);
  });
  CHECK(e.code == errc::cache_corrupt);
  e = with([&](std::string& b) {
    put<std::uint32_t>(b, classes.offset + 4, 1000);  // mid length
  });
  CHECK(e.message.find("class 0: string (offset 0, length 1000) outside the") == 0);
  // Section table: overlapping, misaligned, out of the file, duplicated.
  const std::size_t t = sizeof(detkit::detail::cache_header);
  const std::size_t entry = sizeof(detkit::detail::cache_section_entry);
  e = with([&](std::string& b) { put<std::uint64_t>(b, t + 3 * entry + 8, images.offset); });
  CHECK(e.code == errc::cache_corrupt);
  CHECK(e.message.find("overlap") != std::string::npos);
  e = with([&](std::string& b) { put<std::uint64_t>(b, t + 0 * entry + 8, classes.offset + 4); });
  CHECK(e.to_string() == bad + ": byte 128: error: section table entry 0 (classes): offset " +
                             std::to_string(classes.offset + 4) + " is not 64-byte aligned" +
                             rebuild + " [detkit.cache.corrupt]");
  e = with([&](std::string& b) { put<std::uint64_t>(b, t + 2 * entry + 16, 1ULL << 62); });
  CHECK(e.code == errc::cache_corrupt);
  CHECK(e.message.find("fall outside") != std::string::npos);
  e = with([&](std::string& b) { put<std::uint32_t>(b, t + 1 * entry, 1); });
  CHECK(e.message == "section table entry 1 (classes): the section appears twice" + rebuild);
  e = with([&](std::string& b) { put<std::uint64_t>(b, t + 2 * entry + 24, 4); });  // count
  CHECK(e.message ==
        "section table entry 2 (boxes): 220 bytes do not hold 4 entries of 44 bytes" + rebuild);
  // The class list hash in the header must match the classes.
  e = with([&](std::string& b) { put<std::uint64_t>(b, 56, 7); });
  CHECK(e.message ==
        "the class list hash in the header does not match the stored classes" + rebuild);
}

TEST_CASE("label_cache: the writer refuses labels the reader would refuse", "[label_cache]") {
  const std::string dir = detkit_test::work_dir("label_cache_writer");
  auto ls = sample();
  ls.images[0].boxes[1].category_id = 3;
  auto r = detkit::try_write_label_cache(dir + "/x.dkc", ls, {});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().to_string() == dir +
                                     "/x.dkc: error: image '000a1249af2bc5f0' box 1: category_id "
                                     "3 is outside the 3 classes [detkit.oi.bad_box]");
  ls = sample();
  ls.images[2].boxes[0].abs.x1 = std::numeric_limits<float>::infinity();
  r = detkit::try_write_label_cache(dir + "/x.dkc", ls, {});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message == "image '0fe39f5c0e31e0d8' box 0: a coordinate is NaN or infinite");
  ls = sample();
  detkit::cache_fingerprint fp;
  fp.class_list_hash = 1;
  r = detkit::try_write_label_cache(dir + "/x.dkc", ls, fp);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::usage);
  CHECK_FALSE(detkit_test::file_exists(dir + "/x.dkc"));
}

TEST_CASE("label_cache: stale sources, class list and settings", "[label_cache]") {
  const std::string dir = detkit_test::work_dir("label_cache_stale");
  const std::string csv = dir + "/boxes.csv";
  const std::string big = dir + "/big.csv";
  detkit_test::write_text(csv, "ImageID,LabelName\n000a1249af2bc5f0,/m/03ssj5\n");
  detkit_test::write_text(big, std::string(3u << 20, 'a'));  // > 2 MiB: quick mode samples it
  const auto ls = sample();
  auto fp = detkit::try_make_fingerprint({csv, big}, ls.classes, "rounding=none");
  REQUIRE(fp.has_value());
  auto full_fp = detkit::try_make_fingerprint({csv, big}, ls.classes, "rounding=none",
                                              detkit::fingerprint_mode::full);
  REQUIRE(full_fp.has_value());
  REQUIRE(detkit::try_write_label_cache(dir + "/q.dkc", ls, *fp).has_value());
  REQUIRE(detkit::try_write_label_cache(dir + "/f.dkc", ls, *full_fp).has_value());
  auto quick = detkit::label_cache::open(dir + "/q.dkc");
  auto full = detkit::label_cache::open(dir + "/f.dkc");
  auto now = [&](detkit::fingerprint_mode m) {
    return detkit::try_make_fingerprint({csv, big}, ls.classes, "rounding=none", m).value();
  };
  CHECK(quick.verify_sources(now(detkit::fingerprint_mode::quick)).has_value());
  CHECK(full.verify_sources(now(detkit::fingerprint_mode::full)).has_value());

  // An edit in the middle of the big file that keeps its size: only full mode sees it (the
  // documented price of quick mode).
  std::string text = detkit_test::read_text(big);
  text[3u << 19] = 'b';
  detkit_test::write_text(big, text);
  CHECK(quick.verify_sources(now(detkit::fingerprint_mode::quick)).has_value());
  auto r = full.verify_sources(now(detkit::fingerprint_mode::full));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().to_string() == dir + "/f.dkc: error: source '" + big +
                                     "' changed since the cache was written (same size, 3145728 "
                                     "bytes, but the content hash differs)" +
                                     rebuild + " [detkit.cache.stale]");
  // An edit in the first MiB is seen by quick mode too.
  text[10] = 'c';
  detkit_test::write_text(big, text);
  r = quick.verify_sources(now(detkit::fingerprint_mode::quick));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::cache_stale);
  detkit_test::write_text(big, std::string(3u << 20, 'a'));

  // Appending a row changes the size.
  detkit_test::write_text(csv, "ImageID,LabelName\n000a1249af2bc5f0,/m/03ssj5\nx,y\n");
  r = quick.verify_sources(now(detkit::fingerprint_mode::quick));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message ==
        "source '" + csv + "' changed since the cache was written (size 45 -> 49 bytes)" + rebuild);
  detkit_test::write_text(csv, "ImageID,LabelName\n000a1249af2bc5f0,/m/03ssj5\n");
  CHECK(quick.verify_sources(now(detkit::fingerprint_mode::quick)).has_value());
  r = quick.verify_sources(now(detkit::fingerprint_mode::full));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message ==
        "source '" + csv + "': fingerprinted with another mode (quick vs full)" + rebuild);

  // Class list and settings.
  auto classes = ls.classes;
  std::swap(classes[0], classes[1]);
  auto other = detkit::try_make_fingerprint({csv, big}, classes, "rounding=none").value();
  r = quick.verify_sources(other);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message ==
        "the class list differs from the one the cache was built with (3 classes in the cache)" +
            rebuild);
  other = detkit::try_make_fingerprint({csv, big}, ls.classes, "rounding=recipe").value();
  r = quick.verify_sources(other);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message ==
        "the settings differ (cache: 'rounding=none', now: 'rounding=recipe')" + rebuild);
  other = detkit::try_make_fingerprint({csv}, ls.classes, "rounding=none").value();
  r = quick.verify_sources(other);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message ==
        "the cache was built from 2 source file(s), now 1 are given" + rebuild);
  auto missing = detkit::try_fingerprint_file(dir + "/nope.csv");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code == errc::io_open);
}

namespace {
std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  ::closedir(d);
  return out;
}
}  // namespace

TEST_CASE("label_cache: a failed write leaves no file, and the old cache intact", "[label_cache]") {
  const std::string dir = detkit_test::work_dir("label_cache_fail");
  auto r = detkit::try_write_label_cache(dir + "/no/such/dir/x.dkc", sample(), {});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::io_write);
  CHECK(list_dir(dir).empty());

  // A disk that fills up mid-write (RLIMIT_FSIZE makes write() fail with EFBIG part-way).
  const std::string path = write_sample(dir);
  const std::string before = detkit_test::read_text(path);
  detkit::label_set large = sample();
  large.images[2].boxes.resize(20000, large.images[2].boxes[0]);  // ~880 KB of boxes
  rlimit old{};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
  auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  rlimit small = old;
  small.rlim_cur = 64 * 1024;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  r = detkit::try_write_label_cache(path, large, {});
  ::setrlimit(RLIMIT_FSIZE, &old);
  ::signal(SIGXFSZ, old_handler);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::io_write);
  CHECK(r.error().message.find("write failed: File too large") == 0);
  CHECK(list_dir(dir) == std::vector<std::string>{"labels.dkc"});
  CHECK(detkit_test::read_text(path) == before);
  CHECK(detkit::label_cache::try_open(path).has_value());
}

TEST_CASE("label_cache: many hash blocks and threads", "[label_cache]") {
  const std::string dir = detkit_test::work_dir("label_cache_blocks");
  // 60k boxes = 2.6 MB: three hash blocks in the boxes section.
  detkit::label_set ls = sample();
  for (int i = 0; i < 6000; ++i) {
    detkit::image_record r;
    char id[17];
    std::snprintf(id, sizeof id, "%016x", 0x10000000 + i);
    r.image_id = id;
    r.image_id_u64 = static_cast<std::uint64_t>(0x10000000 + i);
    r.size = {1024, 683};
    for (int k = 0; k < 10; ++k) {
      const float f = static_cast<float>(k) / 11.0f;
      r.boxes.push_back(make_box(f, f / 2, f + 0.05f, f / 2 + 0.3f, (i + k) % 3, r.size, {}));
    }
    ls.images.push_back(std::move(r));
  }
  const std::string path = dir + "/big.dkc";
  REQUIRE(detkit::try_write_label_cache(path, ls, {}).has_value());
  for (unsigned threads : {1u, 2u, 7u}) {
    detkit::cache_open_options opt;
    opt.threads = threads;
    auto c = detkit::label_cache::try_open(path, opt);
    REQUIRE(c.has_value());
    CHECK(c->boxes().size() == 60005);
  }
  check_equal(detkit::label_cache::open(path).to_label_set(), ls);
  std::string bytes = detkit_test::read_text(path);
  const auto boxes = section(parse(bytes), 3);
  REQUIRE(boxes.bytes > 2 * (1u << 20));
  bytes[boxes.offset + (1u << 20) * 2 + 17] ^= 1;  // in the third block
  detkit_test::write_text(dir + "/bad.dkc", bytes);
  CHECK(open_error(dir + "/bad.dkc").code == errc::cache_checksum);
}

// Regenerates the fuzz seed corpus (run by hand: test_label_cache "[.corpus]").
TEST_CASE("label_cache: write the fuzz seed corpus", "[.corpus]") {
  const std::string dir = std::string(DETKIT_SOURCE_DIR) + "/tests/fuzz/corpus/label_cache";
  const auto ls = sample();
  REQUIRE(detkit::try_write_label_cache(dir + "/valid_sample.dkc", ls, sample_fingerprint(ls))
              .has_value());
  REQUIRE(detkit::try_write_label_cache(dir + "/valid_empty.dkc", {}, {}).has_value());
  detkit::label_set one;
  one.classes = {{"/m/03ssj5", "Bed"}};
  one.images.push_back(ls.images[0]);
  one.images[0].boxes.resize(1);
  REQUIRE(detkit::try_write_label_cache(dir + "/valid_one_box.dkc", one, {}).has_value());
  const std::string full = detkit_test::read_text(dir + "/valid_sample.dkc");
  detkit_test::write_text(dir + "/truncated_in_boxes.dkc", full.substr(0, full.size() - 300));
  detkit_test::write_text(dir + "/truncated_header.dkc", full.substr(0, 60));
  std::string b = full;
  b[section(parse(full), 3).offset + 10] ^= 8;  // in the boxes section
  detkit_test::write_text(dir + "/bitflip.dkc", b);
  b = full;
  put<std::uint32_t>(b, 8, 2);
  detkit_test::write_text(dir + "/newer_version.dkc", b);
  b = full;
  const auto images = section(parse(full), 2);
  put<std::uint32_t>(b, images.offset + 48 + offsetof(detkit::cached_image, box_count), 1000);
  reseal(b);
  detkit_test::write_text(dir + "/resealed_bad_box_count.dkc", b);
}

TEST_CASE("label_cache: format version 1 is stable", "[label_cache]") {
  // Caches committed as fuzz seeds were written by this format version: they must keep opening
  // and keep their content, or the version number must go up.
  const std::string corpus = std::string(DETKIT_SOURCE_DIR) + "/tests/fuzz/corpus/label_cache";
  auto c = detkit::label_cache::try_open(corpus + "/valid_sample.dkc");
  REQUIRE(c.has_value());
  check_equal(c->to_label_set(), sample());
  CHECK(c->verify_sources(sample_fingerprint(sample())).has_value());
  CHECK(detkit::label_cache::try_open(corpus + "/valid_empty.dkc").has_value());
  CHECK(detkit::label_cache::try_open(corpus + "/valid_one_box.dkc").has_value());
  CHECK(detkit::label_cache::try_open(corpus + "/bitflip.dkc").error().code ==
        errc::cache_checksum);
  CHECK(detkit::label_cache::try_open(corpus + "/truncated_in_boxes.dkc").error().code ==
        errc::cache_truncated);
  CHECK(detkit::label_cache::try_open(corpus + "/newer_version.dkc").error().code ==
        errc::cache_version);
  CHECK(detkit::label_cache::try_open(corpus + "/resealed_bad_box_count.dkc").error().code ==
        errc::cache_corrupt);

  // The checksum function is part of the format: pinned values (same on every platform).
  CHECK(detkit::detail::hash64(std::string_view("")) == 0x3e7c0f0df2ea414fULL);
  CHECK(detkit::detail::hash64(std::string_view("detkit")) == 0x6853f75de7c4af7ULL);
  std::string big(1000, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  CHECK(detkit::detail::hash64(big.data(), big.size(), 5) == 0x89a188bdefae3841ULL);
  // The SSE2 stripe and the portable scalar stripe compute the same thing.
  detkit::detail::checksum_state a{}, b{};
  for (std::size_t at = 0; at + 64 <= big.size(); at += 64) {
    detkit::detail::checksum_stripe(a, reinterpret_cast<const unsigned char*>(big.data() + at));
    detkit::detail::checksum_stripe_scalar(b,
                                           reinterpret_cast<const unsigned char*>(big.data() + at));
  }
  CHECK(std::memcmp(a.acc, b.acc, sizeof a.acc) == 0);
  // A long class list (the 601 boxable classes' size): hashes every name, reads nothing else.
  std::vector<detkit::class_info> many;
  for (int i = 0; i < 601; ++i) many.push_back({"/m/" + std::to_string(i), "class"});
  CHECK(detkit::hash_class_list(many) == 0x559e0a0312b355bfULL);
  CHECK(detkit::hash_class_list(sample().classes) == 0x725c77ea4baee3ebULL);
}

TEST_CASE("label_cache: SIMD box checks agree with the scalar reference", "[label_cache]") {
  // Random boxes, half of them with one random byte or category damaged, in runs of 1..40 so
  // that the AVX2 (8 boxes), SSE2 (4 boxes) and scalar tails all get work.
  detkit::detail::split_rng rng(5);
  int flagged = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    const std::size_t n = 1 + static_cast<std::size_t>(rng.below(40));
    std::vector<detkit::cached_box> v(n);
    for (auto& b : v) {
      b = detkit::cached_box{};
      b.category_id = static_cast<std::int32_t>(rng.below(30));
      b.rel = {0.1f, 0.2f, 0.3f, 0.4f};
      b.abs = {1, 2, 3, 4};
      for (tri_flag* f : {&b.occluded, &b.truncated, &b.group_of, &b.depiction, &b.inside}) {
        *f = static_cast<tri_flag>(static_cast<int>(rng.below(3)) - 1);
      }
    }
    if (rng.below(2)) {
      auto* p = reinterpret_cast<unsigned char*>(v.data());
      p[rng.below(n * sizeof(detkit::cached_box))] = static_cast<unsigned char>(rng.next());
    }
    if (rng.below(4) == 0) {
      v[rng.below(n)].category_id = static_cast<std::int32_t>(rng.next());
    }
    const auto classes = static_cast<std::uint32_t>(1 + rng.below(40));
    const bool want = detkit::detail::boxes_bad_scalar(v.data(), n, classes) != 0;
    INFO("trial " << trial);
    REQUIRE((detkit::detail::boxes_bad(v.data(), n, classes) != 0) == want);
#ifdef DETKIT_CHECKSUM_SSE2
    REQUIRE((detkit::detail::boxes_bad_sse2(v.data(), n, classes) != 0) == want);
#endif
    flagged += want;
  }
  CHECK(flagged > 5000);
}
