import t from 'tap';
import { FrameAssembler } from '../../../edge/capture/frame-assembler.js';

t.test('frames come out whole and in order however stdout is chunked', async (t) => {
  const w = 7, h = 5, size = w * h * 3;
  for (let round = 0; round < 50; round++) {
    const nFrames = 1 + Math.floor(Math.random() * 6);
    const stream = Buffer.alloc(nFrames * size + Math.floor(Math.random() * size));
    for (let i = 0; i < stream.length; i++) stream[i] = (i * 31 + round) & 0xff;
    const out: Buffer[] = [];
    const a = new FrameAssembler(w, h, (b) => out.push(b));
    let off = 0;
    while (off < stream.length) {
      const n = 1 + Math.floor(Math.random() * size * 1.7);
      a.push(stream.subarray(off, off + n));
      off += n;
    }
    t.equal(out.length, nFrames, `round ${round}: every full frame emitted`);
    for (let i = 0; i < out.length; i++) {
      if (!out[i].equals(stream.subarray(i * size, (i + 1) * size))) t.fail(`round ${round} frame ${i} differs`);
    }
    t.equal(a.pendingBytes, stream.length - nFrames * size, 'partial tail kept');
  }
});

t.test('a frame handed out is never overwritten by the next', async (t) => {
  const out: Buffer[] = [];
  const a = new FrameAssembler(2, 2, (b) => out.push(b));
  a.push(Buffer.alloc(12, 1));
  a.push(Buffer.alloc(12, 2));
  t.equal(out[0][0], 1);
  t.equal(out[1][0], 2);
  t.not(out[0].buffer === out[1].buffer && out[0].byteOffset === out[1].byteOffset, true);
});

t.test('reset drops a partial frame', async (t) => {
  const out: Buffer[] = [];
  const a = new FrameAssembler(2, 2, (b) => out.push(b));
  a.push(Buffer.alloc(5, 9));
  a.reset();
  a.push(Buffer.alloc(12, 3));
  t.equal(out.length, 1);
  t.equal(out[0][0], 3, 'no bytes from the dead process leak into the next frame');
});
