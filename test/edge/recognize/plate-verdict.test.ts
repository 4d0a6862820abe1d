import t from 'tap';
import { judgePlates, type RegionForVerdict } from '../../../edge/recognize/plate-verdict.js';
import type { EngineRead } from '../../../edge/read/types.js';
import type { VehicleDetection } from '../../../edge/contracts.js';
import { regionsById } from '../../../shared/plate/index.js';

const read = (engine: string, text: string, confidence: number): EngineRead => ({ engine, text, confidence, chars: [...text].map((char) => ({ char, confidence })) });
/** A region read by the plate specialist and PP-OCR alike (the figures are from the dev photos). */
function region(text: string, o: { h?: number; spec?: number; paddle?: string; vehicle?: VehicleDetection; y?: number } = {}): RegionForVerdict {
  return {
    box: { x: 100, y: o.y ?? 300, width: (o.h ?? 40) * 4, height: o.h ?? 40 },
    reads: [read('fast-plate-ocr', text, o.spec ?? 0.97), read('paddle-ocr', o.paddle ?? text, 0.95)],
    text,
    ...(o.vehicle ? { vehicle: o.vehicle } : {}),
  };
}
const car = (x: number): VehicleDetection => ({ box: { x, y: 100, width: 600, height: 500 }, type: 'car', confidence: 0.9 });
const US_EU_BR = regionsById(['us', 'eu', 'br']);
const opts = (o: Partial<Parameters<typeof judgePlates>[1]> = {}) => ({ regions: US_EU_BR, tallest: 40, vehiclesFound: false, specialist: 'fast-plate-ocr', ...o });
const kept = (rs: RegionForVerdict[], o = opts()) => rs.filter((_, i) => judgePlates(rs, o)[i].plate).map((r) => r.text);

t.test('a state name above the plate, on the same car, is not a plate (us/wts-lg-000129: TEXAS)', async (t) => {
  const v = car(0);
  const verdicts = judgePlates([region('CRK4732', { vehicle: v }), region('TEXAS', { h: 28, spec: 1, vehicle: v })], opts({ vehiclesFound: true }));
  t.same(verdicts, [{ plate: true }, { plate: false, reason: 'no-digit' }]);
});

t.test('one plate per vehicle: a second plate-like text on the same car is its badge or frame', async (t) => {
  const v = car(0);
  const verdicts = judgePlates([region('JSQ1413', { vehicle: v }), region('AB1234', { vehicle: v })], opts({ vehiclesFound: true }));
  t.same(verdicts[1], { plate: false, reason: 'second-on-vehicle' });
});

t.test('another car\'s plate, read confidently on its own vehicle, is a plate', async (t) => {
  t.same(kept([region('JSQ1413', { vehicle: car(0) }), region('PJT2809', { h: 31, vehicle: car(900) })], opts({ vehiclesFound: true })), ['JSQ1413', 'PJT2809']);
});

t.test('a road sign beside the road: a second region off every vehicle, engines disagreeing (eu10: EXIT 79B)', async (t) => {
  const rs = [region('WA56660', { vehicle: car(0) }), region('EXT779', { h: 34, spec: 0.83, paddle: 'EXIT79B' })];
  t.same(judgePlates(rs, opts({ vehiclesFound: true }))[1], { plate: false, reason: 'weak-second' });
});

t.test('small text beside the plate (a dealer sticker at half its height) is not a second plate', async (t) => {
  t.same(kept([region('FWE50'), region('CSN722', { h: 18 })]), ['FWE50']);
});

t.test('timestamps and long slogans are not plates; neither are 3-letter badges', async (t) => {
  t.same(kept([region('20140617125919', { spec: 0.99 })]), []);
  t.same(judgePlates([region('BASALVADOR')], opts())[0].reason, 'length');
  t.same(judgePlates([region('JAC')], opts())[0].reason, 'length');
});

t.test('a vanity plate (letters only) is a plate when it is the frame\'s best, tall and read surely', async (t) => {
  t.same(kept([region('GWAGEN')]), ['GWAGEN']);
  t.same(kept([region('FZRULZ', { h: 27 })]), ['FZRULZ'], '0.66 of the tallest text (us/car8) is tall enough');
  t.same(kept([region('NORTH', { spec: 0.6 })]), [], 'read hesitantly by the plate specialist: a sign');
  t.same(kept([region('ABC123'), region('SILLMA')]), ['ABC123'], 'never as a second region');
});

t.test('closed regions only: a read that fits no format is not a plate', async (t) => {
  const br = regionsById(['br']);
  t.same(kept([region('ABC1234'), region('CARBRAXX')], opts({ regions: br })), ['ABC1234']);
  t.same(judgePlates([region('SANDERO')], opts({ regions: br }))[0].reason, 'off-format');
});

t.test('the best region is the first one that is a plate: junk ranked above the plate does not demote it', async (t) => {
  t.same(kept([region('PRIVATE', { spec: 0.5 }), region('GT679A', { h: 36 })]), ['GT679A']);
});

t.test('without the plate specialist (engines subset), the text rules still apply', async (t) => {
  const rs = [region('KXR482'), region('TEXAS')];
  t.same(kept(rs, opts({ specialist: undefined })), ['KXR482']);
});
