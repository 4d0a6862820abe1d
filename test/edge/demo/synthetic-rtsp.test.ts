import t from 'tap';
import { execFileSync } from 'node:child_process';
import { ensureDemoClip, DEMO_PLATES } from '../../../edge/demo/synthetic-camera.js';
import { startRtspServer } from '../../../edge/demo/rtsp-server.js';
import { CameraCapture } from '../../../edge/capture/camera-capture.js';
import { tempDir } from '../../fixtures/media.js';

t.test('the synthetic camera is rendered, served over RTSP on 127.0.0.1 and captured by the edge', async (t) => {
  const dir = tempDir(t);
  const plates = DEMO_PLATES.slice(0, 2);
  const { clip, loop, frames } = await ensureDemoClip({ dir, width: 480, height: 270, fps: 8, plates, secondsPerVehicle: 2, loopMinutes: 0.2 });
  t.equal(frames, 32);
  const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-show_streams', '-of', 'json', clip], { encoding: 'utf8' })).streams[0];
  t.equal(probe.codec_name, 'h264');
  t.equal(probe.width, 480);
  t.equal(Number(probe.nb_read_frames), 32, 'one encoded frame per rendered frame');
  const again = await ensureDemoClip({ dir, width: 480, height: 270, fps: 8, plates, secondsPerVehicle: 2, loopMinutes: 0.2 });
  t.equal(again.loop, loop, 'cached by parameters');

  const rtsp = await startRtspServer({ file: loop, path: '/gate-1' });
  t.teardown(() => rtsp.close());
  t.match(rtsp.url, /^rtsp:\/\/127\.0\.0\.1:\d+\/gate-1$/);
  const cap = new CameraCapture({ cameraId: 'gate-1', url: rtsp.url, width: 240, height: 136, fps: 4, heartbeatMs: 10_000 });
  t.teardown(() => cap.stop());
  cap.start();
  const f = await cap.nextFrame();
  t.equal(f!.data.length, 240 * 136 * 3);
  // The scene is not blank: the sky (top) and the road (bottom) differ.
  const px = (x: number, y: number) => f!.data[(y * 240 + x) * 3 + 2];
  t.ok(px(10, 5) - px(10, 120) > 40, 'blue sky above grey road');
  t.match(cap.status().state, 'running');
});
