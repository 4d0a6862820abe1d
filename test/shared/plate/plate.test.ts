import t from 'tap';
import {
  areConfusable,
  canonicalPlate,
  confusableOf,
  fitsFormat,
  formatClasses,
  formatForDisplay,
  matchingFormats,
  normalizePlate,
  regionsById,
  REGIONS,
} from '../../../shared/plate/index.js';

t.test('normalizePlate upper-cases and strips separators and accents', async (t) => {
  t.equal(normalizePlate(' abc-12 34 '), 'ABC1234');
  t.equal(normalizePlate('AB·C.12_3'), 'ABC123');
  t.equal(normalizePlate('ÖÄ–7'), 'OA7');
  t.equal(normalizePlate('京A12345'), 'A12345', 'non-Latin letters are dropped');
  t.equal(normalizePlate(''), '');
});

t.test('look-alikes: only letter/digit pairs, both directions', async (t) => {
  t.ok(areConfusable('O', '0'));
  t.ok(areConfusable('0', 'D'));
  t.ok(areConfusable('B', '8'));
  t.ok(areConfusable('O', 'D'), 'two letters that share a digit look-alike');
  t.notOk(areConfusable('A', 'B'));
  t.equal(confusableOf('0', 'letter'), 'O');
  t.equal(confusableOf('S', 'digit'), '5');
  t.equal(confusableOf('X', 'digit'), undefined);
  t.equal(canonicalPlate('OB-5 12'), canonicalPlate('0B512'));
  t.equal(canonicalPlate('0B512'), '08512');
});

t.test('formats: classes, fitting, display', async (t) => {
  const [br] = regionsById(['br']);
  const mercosur = br.formats.find((f) => f.name === 'br-mercosur')!;
  t.same(formatClasses(mercosur), ['L', 'L', 'L', 'D', 'L', 'D', 'D']);
  t.ok(fitsFormat('ABC1D23', mercosur));
  t.notOk(fitsFormat('ABC1234', mercosur));
  t.same(matchingFormats('ABC1234', [br]).map((f) => f.name), ['br-old']);
  t.equal(formatForDisplay('ABC1234', br.formats[0]), 'ABC-1234');
  t.same(matchingFormats('ABC123', regionsById(['lt'])).map((f) => f.name), ['lt']);
  t.ok(REGIONS.us.openFormats, 'US formats stay open to vanity plates');
});

t.test('an unknown region is a configuration error', async (t) => {
  t.throws(() => regionsById(['xx']), { code: 'CONFIG_INVALID' });
});

t.test('same-glyph folding applies only where every region agrees', async (t) => {
  const { foldSameGlyph } = await import('../../../shared/plate/index.js');
  t.equal(foldSameGlyph('OB0O', regionsById(['us'])), '0B00');
  t.equal(foldSameGlyph('OB0O', regionsById(['us', 'br'])), 'OB0O');
  t.equal(foldSameGlyph('OB0O', []), 'OB0O');
});

t.test('regions from configuration: validated, usable by id, may replace a built-in', async (t) => {
  const pl = { id: 'pl', description: 'Poland', openFormats: false, formats: [{ name: 'pl-7', pattern: 'LL DDDDD' }, { name: 'pl-3l', pattern: 'LLL-DDDD' }] };
  const [r] = regionsById(['pl'], [pl]);
  t.same(matchingFormats('WA12345', [r]).map((f) => f.name), ['pl-7']);
  t.equal(regionsById(['lt'], [{ ...pl, id: 'lt' }])[0].description, 'Poland', 'a configured region replaces the built-in one');
  t.throws(() => regionsById(['pl'], [{ ...pl, formats: [{ name: 'bad', pattern: 'LLX99' }] }]), { code: 'CONFIG_INVALID', message: /pattern 'LLX99'/ });
  t.throws(() => regionsById(['pl'], [{ ...pl, formats: [] }]), { code: 'CONFIG_INVALID' });
});
