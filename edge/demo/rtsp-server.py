#!/usr/bin/env python3
"""Serves an H.264 MP4 as a live RTSP stream on 127.0.0.1 (Debian's GStreamer RTSP server).

ffmpeg cannot serve RTSP, so the demo and the tests use python3-gi + gir1.2-gst-rtsp-server-1.0.
Each client plays the file from the start in real time; the demo makes the file long (the
looped synthetic clip, stream-copied), and a client that reaches the end reconnects, like a
camera that rebooted. Prints `READY rtsp://127.0.0.1:PORT/PATH` when listening, and for each
client `PLAYING <epoch_ms>`: the wall-clock time at which the file's time 0 is played to that
client (live evaluation measures latency from it).
"""
import argparse
import signal
import sys
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def report_playing(factory, media) -> None:
    """Prints `PLAYING <epoch_ms>` once the first buffer leaves the payloader with the media playing.

    The first buffer is pushed during preroll, before the client's PLAY; the time is taken from the
    first buffer seen in PLAYING instead, and converted from the pipeline clock (when the sink
    renders it: base time + running time) to the epoch, less its position in the file.
    """
    pay = media.get_element().get_by_name("pay0")
    if pay is None:
        return
    pad = pay.get_static_pad("src")

    def probe(pad, info):
        buf = info.get_buffer()
        clock = pay.get_clock()
        _, current, _ = pay.get_state(0)
        if buf is None or clock is None or current != Gst.State.PLAYING or buf.pts == Gst.CLOCK_TIME_NONE:
            return Gst.PadProbeReturn.OK
        event = pad.get_sticky_event(Gst.EventType.SEGMENT, 0)
        if event is None:
            return Gst.PadProbeReturn.OK
        segment = event.parse_segment()
        running = segment.to_running_time(Gst.Format.TIME, buf.pts)
        position = segment.to_stream_time(Gst.Format.TIME, buf.pts)
        now_wall = time.time()
        now_clock = clock.get_time()
        rendered = now_wall + (pay.get_base_time() + running - now_clock) / 1e9
        print(f"PLAYING {round((rendered - position / 1e9) * 1000)}", flush=True)
        return Gst.PadProbeReturn.REMOVE

    pad.add_probe(Gst.PadProbeType.BUFFER, probe)


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
    factory.connect("media-configure", report_playing)
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
