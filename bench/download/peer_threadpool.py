#!/usr/bin/env python3
"""The peer of detkit-download's benchmark: a thread-pool fetcher of the kind the official Open
Images downloader.py is (openimages/dataset downloader.py: concurrent.futures.ThreadPoolExecutor
with --num_processes=5 workers, one GET per image, file written whole), here with Python's urllib
instead of boto3 so it can talk to the loopback server. Like downloader.py it neither resumes nor
retries.

usage: peer_threadpool.py <url template with {split} and {image_id}> <list file> <out dir> [workers]
"""
import concurrent.futures
import os
import sys
import urllib.request


def fetch(url, path):
    with urllib.request.urlopen(url, timeout=60) as r:
        data = r.read()
    with open(path, "wb") as f:
        f.write(data)
    return len(data)


def main():
    template, list_path, out = sys.argv[1], sys.argv[2], sys.argv[3]
    workers = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    os.makedirs(out, exist_ok=True)
    jobs = []
    with open(list_path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            split, image_id = line.split("/")
            url = template.replace("{split}", split).replace("{image_id}", image_id)
            jobs.append((url, os.path.join(out, image_id + ".jpg")))
    total = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        for n in pool.map(lambda j: fetch(*j), jobs):
            total += n
    print(total)


if __name__ == "__main__":
    main()
