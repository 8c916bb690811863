#!/usr/bin/env python3
"""The README's C++ examples are kept as programs in bench/compile_time/readme_*.cpp (timed by
bench/compile_time.sh, compiled by the compile_readme_examples_* tests). This check fails when a
README code block and its copy (the lines between `// README:begin` and `// README:end`) differ.

    check_readme_examples.py SOURCE_DIR
"""
import pathlib
import re
import sys
import textwrap

root = pathlib.Path(sys.argv[1])
readme = root / "README.md"
blocks = [textwrap.dedent(b).strip("\n")
          for b in re.findall(r"^ *```cpp\n(.*?)^ *```", readme.read_text(), re.S | re.M)]
copies = sorted((root / "bench" / "compile_time").glob("readme_*.cpp"))
if not copies:
    sys.exit("no bench/compile_time/readme_*.cpp found")
failed = False
for copy in copies:
    m = re.search(r"// README:begin\n(.*?)^ *// README:end", copy.read_text(), re.S | re.M)
    if not m:
        print(f"{copy}: error: no '// README:begin' ... '// README:end' markers")
        failed = True
        continue
    body = textwrap.dedent(m.group(1)).strip("\n")
    if body not in blocks:
        print(f"{copy}: error: this example is not a ```cpp block of {readme} any more; "
              "copy the README's block here (or the other way round)")
        print("--- copy:\n" + body)
        failed = True
    else:
        print(f"{copy.name}: matches a README block")
sys.exit(1 if failed else 0)
