#!/usr/bin/env python3
"""A loopback HTTP server that serves JPEG payloads and injects faults, for detkit-download's tests
and benchmark. It binds 127.0.0.1 only, on an ephemeral port, and prints `PORT <n>` when ready.

Config (JSON file, argument 1):
  payloads:   {"<split>/<ImageID>.jpg": "/path/to/file.jpg", ...}   anything else is a 404
  faults:     {"<split>/<ImageID>.jpg": ["500", "ok"], ...}   behaviour of the 1st, 2nd, ... request
              to that path; the last entry repeats. Behaviours:
                ok        200 (or 206 for a Range request when ranges are on)
                404 403   that status with an S3-like XML body
                400 500 503  that status (503 carries Retry-After: 1)
                reset     read the request, then reset the connection (RST) without answering
                stall     send the headers and the first half of the body, then go silent for
                          stall_s seconds and close
                truncate  announce the full Content-Length, send half the body, close
                slow      send the body in slow_chunk-byte pieces, slow_delay_s apart
  range:      true/false  honour `Range: bytes=N-` (206 + Content-Range) or ignore it (200)
  latency_ms: added before every answer (the benchmark's round trip)
  stall_s, slow_chunk, slow_delay_s
  log:        path of a JSON-lines request log: one line per request with path, range_start,
              behaviour, status, body bytes sent (what the counting assertions read)
"""
import json
import os
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Config:
    def __init__(self, path):
        with open(path) as f:
            c = json.load(f)
        self.payload_files = c.get("payloads", {})
        self.faults = c.get("faults", {})
        self.range = bool(c.get("range", True))
        self.latency = float(c.get("latency_ms", 0)) / 1000.0
        self.stall_s = float(c.get("stall_s", 5))
        self.slow_chunk = int(c.get("slow_chunk", 8192))
        self.slow_delay = float(c.get("slow_delay_s", 0.02))
        self.log_path = c.get("log")
        self.cache = {}
        for key, path in self.payload_files.items():
            if path not in self.cache:
                with open(path, "rb") as f:
                    self.cache[path] = f.read()
        self.lock = threading.Lock()
        self.counts = {}
        self.log = open(self.log_path, "a", buffering=1) if self.log_path else None

    def behaviour(self, key):
        with self.lock:
            n = self.counts.get(key, 0)
            self.counts[key] = n + 1
        script = self.faults.get(key, ["ok"])
        return script[min(n, len(script) - 1)]

    def record(self, **entry):
        if self.log:
            with self.lock:
                self.log.write(json.dumps(entry) + "\n")
                self.log.flush()


CFG = None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as S3
    # TCP_NODELAY, as real web servers set it: otherwise Nagle holds the body's last segment for
    # the client's delayed ACK and every answer gets up to 40 ms slower than the latency asked for.
    disable_nagle_algorithm = True
    server_version = "detkit-fault-server"

    def log_message(self, fmt, *args):  # quiet
        pass

    def _send_error(self, code, key, behaviour, range_start):
        body = (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>"
                + (b"NoSuchKey" if code == 404 else b"Error") + b"</Code></Error>")
        self.send_response(code)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        if code == 503:
            self.send_header("Retry-After", "1")
        self.end_headers()
        self.wfile.write(body)
        CFG.record(path=key, range_start=range_start, behaviour=behaviour, status=code, sent=0)

    def do_GET(self):
        key = self.path.lstrip("/")
        behaviour = CFG.behaviour(key)
        rng = self.headers.get("Range")
        range_start = None
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            try:
                range_start = int(rng[6:-1])
            except ValueError:
                range_start = None
        if CFG.latency > 0:
            time.sleep(CFG.latency)
        if behaviour == "reset":
            # SO_LINGER with a zero timeout makes close() send RST: a "connection reset by peer".
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            CFG.record(path=key, range_start=range_start, behaviour=behaviour, status=0, sent=0)
            return
        path = CFG.payload_files.get(key)
        if behaviour in ("404", "403") or path is None:
            self._send_error(404 if path is None else int(behaviour), key, behaviour, range_start)
            return
        if behaviour in ("400", "500", "503"):
            self._send_error(int(behaviour), key, behaviour, range_start)
            return
        data = CFG.cache[path]
        total = len(data)
        start = 0
        if CFG.range and range_start is not None:
            if range_start >= total:
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % total)
                self.send_header("Content-Length", "0")
                self.end_headers()
                CFG.record(path=key, range_start=range_start, behaviour=behaviour, status=416, sent=0)
                return
            start = range_start
            status = 206
            extra = "Content-Range: bytes %d-%d/%d\r\n" % (start, total - 1, total)
        else:
            status = 200
            extra = ""
        body = data[start:]
        # Status line and headers written by hand, in the same send as the body: one syscall and
        # little Python per answer, so the server is not what limits a 16-connection client.
        head = ("HTTP/1.1 %d %s\r\nServer: detkit-fault-server\r\nContent-Type: image/jpeg\r\n"
                "Content-Length: %d\r\nAccept-Ranges: %s\r\n%s\r\n" %
                (status, "OK" if status == 200 else "Partial Content", len(body),
                 "bytes" if CFG.range else "none", extra)).encode()
        sent = 0
        try:
            if behaviour == "stall":
                half = len(body) // 2
                self.wfile.write(head + body[:half])
                self.wfile.flush()
                sent = half
                CFG.record(path=key, range_start=range_start, behaviour=behaviour, status=status,
                           sent=sent)
                time.sleep(CFG.stall_s)
                self.close_connection = True
                return
            if behaviour == "truncate":
                half = len(body) // 2
                self.wfile.write(head + body[:half])
                self.wfile.flush()
                sent = half
                self.close_connection = True
            elif behaviour == "slow":
                self.wfile.write(head)
                for i in range(0, len(body), CFG.slow_chunk):
                    self.wfile.write(body[i:i + CFG.slow_chunk])
                    self.wfile.flush()
                    sent += len(body[i:i + CFG.slow_chunk])
                    time.sleep(CFG.slow_delay)
            else:
                self.wfile.write(head + body)
                sent = len(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        CFG.record(path=key, range_start=range_start, behaviour=behaviour, status=status, sent=sent)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # A client that resets an idle keep-alive connection (it stopped, or was killed) is normal.
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


def main():
    global CFG
    CFG = Config(sys.argv[1])
    server = Server(("127.0.0.1", 0), Handler)
    print("PORT %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
