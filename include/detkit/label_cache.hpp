// detkit/label_cache.hpp — the binary ("JSON-free") label cache: write a label_set once, reopen it
// in well under a second by mmap, with zero-copy views and every byte validated.
//
// It replaces the recipe's JSON round trip (json.dump of Detectron2 dicts, then json.load and the
// BoxMode enum fight). The header follows nanoflann's saved-index and llm.c's checkpoint habit:
// magic, format version, endianness mark and the sizeof of every stored type up front, so a file
// from another build or machine is refused with a reason instead of being misread.
//
// FILE FORMAT, version 1. Integers are in host byte order (the endianness mark rejects a file from a
// machine of the other order); every offset is from the start of the file.
//
//   byte  size  field
//   0     8     magic "DETKITLC"
//   8     4     u32 format_version = 1
//   12    4     u32 endian_mark = 0x01020304 (a byte-swapped value means the other byte order)
//   16    4     u32 header_bytes = 128            ┐
//   20    4     u32 section_entry_bytes = 40      │ sizeof of each stored type, so a build with
//   24    4     u32 class_entry_bytes = 16        │ other padding or field sizes is refused
//   28    4     u32 image_entry_bytes = 48        │ (errc::cache_layout)
//   32    4     u32 box_entry_bytes = 44          │
//   36    4     u32 source_entry_bytes = 40       ┘
//   40    4     u32 section_count (5 in version 1)
//   44    4     u32 hash_block_bytes = 1048576 (block size of the section checksums, below)
//   48    8     u64 file_size (whole file; a shorter file is truncated)
//   56    8     u64 class_list_hash = hash_class_list(classes) (fingerprint of the class list)
//   64    8     u64 payload_checksum = fold of the section checksums in table order
//   72    8     u64 header_checksum = hash64 of bytes [0, 128 + 40*section_count) with this field 0
//   80    4     u32 settings_offset  ┐ a string in the string pool: the prepare settings that shaped
//   84    4     u32 settings_length  ┘ the labels (filters, rounding), part of the fingerprint
//   88    40    reserved, zero
//   128   40*n  section table, one entry per section:
//                 u32 type (1 classes, 2 images, 3 boxes, 4 strings, 5 sources), u32 reserved = 0,
//                 u64 offset (multiple of 64), u64 bytes, u64 count (entries; bytes for strings),
//                 u64 checksum
//   ...         the sections, each starting at a 64-byte boundary, zero padding between them.
//
// Sections (entry layouts are the public structs below; strings are (u32 offset, u32 length) into
// the string pool, not NUL-terminated):
//   classes  cached_class  {mid, name}                              16 bytes, category id = index
//   images   cached_image  {u64 image_id_u64, u64 first_box, image_id, file_name, i32 width,
//                           i32 height, u32 box_count, u32 reserved} 48 bytes, in label_set order;
//                           first_box of image i+1 = first_box + box_count of image i (checked)
//   boxes    cached_box    {f32 rel x1,y1,x2,y2; f32 abs x1,y1,x2,y2 (XYXY_ABS px); i32 category;
//                           i8 occluded, truncated, group_of, depiction, inside (-1/0/1); 3 pad}
//                           44 bytes
//   strings  the string pool (bytes)
//   sources  cached_source {u64 size, i64 mtime_ns, u64 hash, path, u32 mode, u32 reserved}
//                           40 bytes: the fingerprint of each input file (see below)
//
// CHECKSUMS. Each section is cut into hash_block_bytes blocks; block k's hash is
// hash64(block, seed = k), and the section checksum is hash64 of the array of block hashes, seeded
// with the section type (detail/checksum.hpp: XXH3-style 8-lane accumulate, SSE2, runs at memory
// speed: ~22 GB/s on one core of the project's machine). Why blocks: they are independent, so
// try_open verifies them on all cores (cache_open_options::threads) in one pass over the file,
// and validates the entries of each block right after hashing it, while it is in L2: string
// references, the first_box chain, category ids, flags (-1/0/1), finite coordinates and zero
// padding (SSE2, 4 boxes per step). Padding between sections must be zero, so no byte of the
// file goes unchecked. Opening the 14.6M-box train cache (789 MB) with full verification costs
// one memory pass (see bench/bench_cache.cpp for the measured numbers).
// cache_verify::structure is for a file this process just wrote or otherwise trusts: it skips the
// checksums and the box value checks (the header, section table, string references and box ranges
// of the images are still checked, so views never read out of bounds; category ids are NOT
// checked, so do not index classes() with them unchecked in that mode). The default,
// cache_verify::full, is what anything reading a file from disk should use.
// As with any mmap reader, a cache must not be truncated in place while it is open (SIGBUS);
// detkit writes caches to a temp file and renames it, which is safe for open readers.
//
// FINGERPRINT (the stale check). For each input file the cache stores its size, mtime and a hash.
// fingerprint_mode::quick (the default) hashes the size plus the first and last MiB: it costs two
// reads, so checking a 1.2 GB CSV is instant, and catches replaced, truncated, appended or
// re-downloaded files. It misses an in-place edit in the middle of a file that keeps its size;
// fingerprint_mode::full hashes every byte (≈0.1 s per GB from the page cache) and misses
// nothing. mtime is stored and shown but never compared, so copying a dataset (cp, rsync without
// -t) does not invalidate the cache. The class list (MIDs and names, in order) and the settings
// string are part of the fingerprint too.
#pragma once

#include "detkit/label_cache_fingerprint.hpp"
#include "detkit/label_cache_format.hpp"
#include "detkit/label_cache_reader.hpp"
#include "detkit/label_cache_writer.hpp"
