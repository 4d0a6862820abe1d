import t from 'tap';
import { ffmpegArgs, safeCommandLine, sourceKind } from '../../../edge/capture/ffmpeg-args.js';

t.test('RTSP uses TCP transport and raw RGB24 at the configured size and rate', async (t) => {
  const a = ffmpegArgs({ url: 'rtsp://admin:pw@10.0.0.5/s1', width: 640, height: 360, fps: 5 });
  const s = a.join(' ');
  t.match(s, /-rtsp_transport tcp/);
  t.match(s, /-flags low_delay -i /, 'live input is decoded without frame delay');
  t.match(s, /-fpsprobesize 0 /, 'no frame-rate probing: the first frame comes 2 s sooner after each connect');
  t.notMatch(s, /nobuffer/, "nobuffer makes Debian's ffmpeg 5.1 write no frame from RTSP");
  t.notMatch(ffmpegArgs({ url: '/tmp/a.mp4', width: 2, height: 2, fps: 1 }).join(' '), /low_delay/, 'files keep the default');
  t.match(s, /-f rawvideo -pix_fmt rgb24 pipe:1$/);
  t.match(s, /scale=640:360/);
  t.match(s, /-r 5 /);
  t.equal(a[a.indexOf('-i') + 1], 'rtsp://admin:pw@10.0.0.5/s1', 'ffmpeg itself gets the real URL');
});

t.test('hardware decoding flags are configurable', async (t) => {
  t.match(ffmpegArgs({ url: 'rtsp://x/y', width: 1, height: 1, fps: 1, hwaccel: 'nvdec' }).join(' '), /-hwaccel cuda/);
  t.match(ffmpegArgs({ url: 'rtsp://x/y', width: 1, height: 1, fps: 1, hwaccel: { args: ['-c:v', 'h264_nvmpi'] } }).join(' '), /-c:v h264_nvmpi -rtsp_transport/);
  t.notMatch(ffmpegArgs({ url: 'rtsp://x/y', width: 1, height: 1, fps: 1, hwaccel: 'none' }).join(' '), /hwaccel/);
  const jetson = ffmpegArgs({ url: 'rtsp://x/y', width: 1, height: 1, fps: 1, hwaccel: 'jetson' });
  t.ok(jetson.indexOf('h264_nvv4l2dec') < jetson.indexOf('-i'), 'the Jetson decoder is an input option');
});

t.test('files loop at native rate; sources are classified by scheme', async (t) => {
  t.match(ffmpegArgs({ url: '/tmp/a.mp4', width: 2, height: 2, fps: 1 }).join(' '), /-re -stream_loop -1 -i \/tmp\/a.mp4/);
  t.equal(sourceKind('http://cam/mjpeg'), 'http');
  t.equal(sourceKind('RTSPS://cam/1'), 'rtsp');
  t.equal(sourceKind('file:///x.mp4'), 'file');
  t.equal(sourceKind('udp://1.2.3.4:5'), 'other');
});

t.test('the loggable command line has no credentials', async (t) => {
  const line = safeCommandLine('ffmpeg', ffmpegArgs({ url: 'rtsp://admin:hunter2@10.0.0.5/s1', width: 1, height: 1, fps: 1 }));
  t.notMatch(line, /hunter2|admin/);
  t.match(line, /rtsp:\/\/\*\*\*:\*\*\*@10\.0\.0\.5\/s1/);
});
