#!/usr/bin/env python3
"""Serves an H.264 MP4 as a live RTSP stream on 127.0.0.1 (Debian's GStreamer RTSP server).

ffmpeg cannot serve RTSP, so the demo and the tests use python3-gi + gir1.2-gst-rtsp-server-1.0.
Each client plays the file from the start in real time; the demo makes the file long (the
looped synthetic clip, stream-copied), and a client that reaches the end reconnects, like a
camera that rebooted. Prints `READY rtsp://127.0.0.1:PORT/PATH` when listening.
"""
import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8554)
    ap.add_argument("--path", default="/cam1")
    ap.add_argument("--file", required=True, help="MP4 (H.264) to serve; each client plays it from the start")
    a = ap.parse_args()
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(a.port))
    factory = GstRtspServer.RTSPMediaFactory()
    loc = a.file.replace('"', '')
    factory.set_launch(f'( filesrc location="{loc}" ! qtdemux ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )')
    factory.set_shared(False)
    server.get_mount_points().add_factory(a.path, factory)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{a.port}", file=sys.stderr)
        return 1
    loop = GLib.MainLoop()
    for s in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, s, loop.quit)
    print(f"READY rtsp://127.0.0.1:{server.get_bound_port()}{a.path}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
