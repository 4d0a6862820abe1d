import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDemoClip, DEMO_PLATES } from '../../../edge/demo/synthetic-camera.js';
import { tempDir } from '../../fixtures/media.js';

t.test('the real recognizer reads the synthetic camera\'s plate (npm-shipped models)', async (t) => {
  const dir = tempDir(t);
  const { clip } = await ensureDemoClip({ dir, plates: [DEMO_PLATES[1]], secondsPerVehicle: 4, loopMinutes: 0.1 });
  const png = join(dir, 'stop.png');
  // Half-way through, the vehicle waits at the barrier.
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-ss', '2', '-i', clip, '-frames:v', '1', png]);
  const { createRecognizer } = await import('../../../edge/recognize/index.js');
  const rec = await createRecognizer({});
  t.teardown(() => rec.dispose());
  const res = await rec.recognizeImage(readFileSync(png));
  const texts = res.plates.map((p: { plateText: string }) => p.plateText);
  t.ok(texts.includes(DEMO_PLATES[1].replace(/\s/g, '')), `read ${JSON.stringify(texts)}`);
});
