// Replays a fuzz target's seed corpus as an ordinary test (fmt's approach): every file named on the
// command line, or every file in a directory named there, is fed to LLVMFuzzerTestOneInput once.
// Built with the normal compiler, so the corpus runs under ASan/UBSan in CI without libFuzzer.
#include <dirent.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

static int run_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    return 1;
  }
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  return 0;
}

int main(int argc, char** argv) {
  int failures = 0, count = 0;
  for (int i = 1; i < argc; ++i) {
    struct stat st {};
    if (::stat(argv[i], &st) != 0) {
      std::fprintf(stderr, "missing corpus path %s\n", argv[i]);
      return 1;
    }
    if (S_ISDIR(st.st_mode)) {
      DIR* d = ::opendir(argv[i]);
      while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;
        failures += run_file(std::string(argv[i]) + "/" + e->d_name);
        ++count;
      }
      ::closedir(d);
    } else {
      failures += run_file(argv[i]);
      ++count;
    }
  }
  std::printf("replayed %d corpus files\n", count);
  if (count == 0) {
    std::fprintf(stderr, "empty corpus: nothing was tested\n");
    return 1;
  }
  return failures == 0 ? 0 : 1;
}
