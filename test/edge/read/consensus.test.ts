import t from 'tap';
import { vote, type Ballot } from '../../../edge/read/consensus.js';
import { align, plateDistance } from '../../../edge/read/align.js';
import type { EngineRead, ReadChar } from '../../../edge/read/types.js';
import { regionsById } from '../../../shared/plate/index.js';

/** A read with the same confidence on every character, optionally with runner-ups per position. */
function read(engine: string, text: string, conf = 0.9, alts: Record<number, [string, number][]> = {}): EngineRead {
  const chars: ReadChar[] = [...text].map((char, i) => ({
    char,
    confidence: conf,
    ...(alts[i] ? { alternatives: alts[i].map(([c, p]) => ({ char: c, p })) } : {}),
  }));
  return { engine, text, confidence: conf, chars };
}
const b = (r: EngineRead, frame?: number): Ballot => ({ read: r, frame });

t.test('agreeing engines give their text with high confidence', async (t) => {
  const r = vote([b(read('fast-plate-ocr', 'ABC123')), b(read('paddle-ocr', 'ABC123')), b(read('tesseract', 'ABC123'))]);
  t.equal(r.text, 'ABC123');
  t.ok(r.confidence > 0.8);
  t.equal(r.votes.length, 6);
});

t.test('the trusted engine is not outvoted by two weak ones agreeing by accident', async (t) => {
  const r = vote([b(read('fast-plate-ocr', 'ABC123', 0.95)), b(read('tesseract', 'ABC128', 0.6)), b(read('tesseract', 'ABC128', 0.6))]);
  t.equal(r.text, 'ABC123');
});

t.test('weaker engines decide where the strong one is unsure', async (t) => {
  const fast = read('fast-plate-ocr', 'ABC123', 0.95);
  fast.chars[5] = { char: '8', confidence: 0.4, alternatives: [{ char: '3', p: 0.35 }] };
  const r = vote([b(fast), b(read('paddle-ocr', 'ABC123', 0.9)), b(read('tesseract', 'ABC123', 0.8))]);
  t.equal(r.text, 'ABC123');
  const last = r.votes[5];
  t.equal(last.char, '3');
  t.ok(last.by.some((x) => x.engine === 'fast-plate-ocr' && x.char === '8'), 'the vote records the dissent');
});

t.test('reads of different lengths are aligned, not compared slot by slot', async (t) => {
  // paddle missed a character, tesseract added a stray one at the front.
  const r = vote([b(read('fast-plate-ocr', 'ABC1234', 0.8)), b(read('paddle-ocr', 'ABC234', 0.9)), b(read('tesseract', 'IABC1234', 0.5))]);
  t.equal(r.text, 'ABC1234');
  t.same(align('ABC234', 'ABC1234').filter(([i]) => i < 0).length, 1);
  t.equal(plateDistance('ABC123', 'ABC1234'), 1);
});

t.test('a character most of the weight omits is deleted; one most of it adds is inserted', async (t) => {
  const del = vote([b(read('fast-plate-ocr', 'ABC1234', 0.5)), b(read('paddle-ocr', 'ABC234', 0.95)), b(read('paddle-ocr', 'ABC234', 0.95))]);
  t.equal(del.text, 'ABC234');
  const ins = vote([b(read('tesseract', 'AB123', 0.9)), b(read('fast-plate-ocr', 'ABC123', 0.9)), b(read('paddle-ocr', 'ABC123', 0.9))]);
  t.equal(ins.text, 'ABC123');
});

t.test('a format fixes a look-alike only where it says letter or digit', async (t) => {
  const br = regionsById(['br']);
  // Brazilian old plate LLL-DDDD: both engines read 0 for the O in the letter part.
  const fast = read('fast-plate-ocr', 'AY09034', 0.9, { 2: [['O', 0.3]] });
  const r = vote([b(fast), b(read('paddle-ocr', 'AY09034', 0.9))], { regions: br });
  t.equal(r.text, 'AYO9034');
  t.equal(r.format, 'br-old');
  t.ok(r.votes[2].formatFix, 'the fix is explained');
  // Without a region the engines' reading stands.
  t.equal(vote([b(fast), b(read('paddle-ocr', 'AY09034', 0.9))]).text, 'AY09034');
  // Where the format allows either class (US is open), nothing is swapped.
  t.equal(vote([b(read('fast-plate-ocr', 'X0Y', 0.9))], { regions: regionsById(['us']) }).text, 'X0Y');
});

t.test('mercosur and old Brazilian formats are told apart by the votes', async (t) => {
  const br = regionsById(['br']);
  const r = vote([b(read('fast-plate-ocr', 'ABC1D23', 0.9)), b(read('paddle-ocr', 'ABC1023', 0.7, { 4: [['D', 0.2]] }))], { regions: br });
  t.equal(r.text, 'ABC1D23');
  t.equal(r.format, 'br-mercosur');
});

t.test('a read that fits no format of a closed region is doubtful', async (t) => {
  const lt = regionsById(['lt']);
  const fits = vote([b(read('fast-plate-ocr', 'ABC123', 0.9))], { regions: lt });
  const not = vote([b(read('fast-plate-ocr', 'AB1234X', 0.9))], { regions: lt });
  t.ok(not.confidence < fits.confidence / 1.5);
});

t.test('votes across frames add up', async (t) => {
  const frames = [read('fast-plate-ocr', 'KLM789', 0.7), read('fast-plate-ocr', 'KLM789', 0.7), read('fast-plate-ocr', 'KLN789', 0.9)];
  const r = vote(frames.map((x, i) => b(x, i)));
  t.equal(r.text, 'KLM789');
  t.same(r.votes[2].by.map((x) => x.frame), [0, 1, 2]);
});

t.test('no reads, no text', async (t) => {
  t.same(vote([b(read('tesseract', '', 0))]), { text: '', confidence: 0, votes: [] });
});

t.test('open regions never swap look-alikes; US writes its one O/0 glyph as 0', async (t) => {
  const us = regionsById(['us']);
  // 8D79882 would fit LL-DDDDD as BD79882, but US formats are open: the reading stands.
  const r = vote([b(read('fast-plate-ocr', '8D79882', 0.9, { 0: [['B', 0.3]] })), b(read('paddle-ocr', '8D79882', 0.9))], { regions: us });
  t.equal(r.text, '8D79882');
  const o = vote([b(read('fast-plate-ocr', 'HLOKTY1', 0.95))], { regions: us });
  t.equal(o.text, 'HL0KTY1');
  t.equal(o.votes[2].sameGlyph, 'O→0', 'explained in the votes');
  t.equal(vote([b(read('fast-plate-ocr', 'HLOKTY1', 0.95))], { regions: regionsById(['us', 'eu']) }).text, 'HLOKTY1', 'only when every region agrees');
});
