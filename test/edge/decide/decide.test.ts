import t from 'tap';
import { ZoneMap, pointInPolygon } from '../../../edge/decide/zones.js';
import { directionOf } from '../../../edge/decide/direction.js';
import { EdgeZone } from '../../../edge/config/schema.js';

const square = [{ x: 100, y: 100 }, { x: 300, y: 100 }, { x: 300, y: 300 }, { x: 100, y: 300 }];
const zone = (over: Record<string, unknown>) => EdgeZone.parse({ id: 'z1', camera_id: 'cam-1', type: 'enter', geometry: { type: 'polygon', points: square }, ...over });
const box = (cx: number, cy: number, h = 10) => ({ x: cx - 20, y: cy - h / 2, width: 40, height: h });

t.test('point in polygon, convex and concave', async (t) => {
  t.ok(pointInPolygon({ x: 200, y: 200 }, square));
  t.notOk(pointInPolygon({ x: 50, y: 200 }, square));
  const u = [{ x: 0, y: 0 }, { x: 30, y: 0 }, { x: 30, y: 30 }, { x: 20, y: 30 }, { x: 20, y: 10 }, { x: 10, y: 10 }, { x: 10, y: 30 }, { x: 0, y: 30 }];
  t.notOk(pointInPolygon({ x: 15, y: 20 }, u), 'inside the notch of a U is outside');
  t.ok(pointInPolygon({ x: 5, y: 20 }, u));
});

t.test('the plate box centre decides the zone; reads outside every polygon are dropped; a line zone holds the rest', async (t) => {
  const m = new ZoneMap([zone({})]);
  t.match(m.locate('cam-1', box(170, 155)), { zone: { id: 'z1' } });
  t.same(m.locate('cam-1', box(310, 155)), { outside: true }, 'centre at x=310 is outside');
  t.same(m.locate('cam-2', box(0, 0)), { zone: null }, 'a camera without zones reports everything');
  const withLine = new ZoneMap([zone({}), zone({ id: 'gate-line', geometry: { type: 'line', points: [{ x: 0, y: 500 }, { x: 1000, y: 500 }] }, in_side: 'right' })]);
  t.match(withLine.locate('cam-1', box(170, 155)), { zone: { id: 'z1' } }, 'a polygon that holds the plate wins');
  t.match(withLine.locate('cam-1', box(800, 800)), { zone: { id: 'gate-line' } }, 'the line zone holds what no polygon holds');
});

t.test('a line zone needs two distinct points; in_side is left, right or null', async (t) => {
  t.throws(() => zone({ geometry: { type: 'line', points: [{ x: 1, y: 1 }] } }), /exactly 2 points/);
  t.throws(() => zone({ geometry: { type: 'line', points: [{ x: 1, y: 1 }, { x: 1, y: 1 }] } }), /must differ/);
  t.throws(() => zone({ in_side: 'up' }));
  t.equal(zone({}).in_side, null);
});

t.test('direction: the motion across the gate line towards its in side is in, away is out, too little is none', async (t) => {
  // A horizontal line walked left to right: its right side is below it on the image (y grows down).
  const line = { geometry: { type: 'line' as const, points: [{ x: 0, y: 500 }, { x: 1000, y: 500 }] }, in_side: 'right' as const };
  const down = { first: box(500, 300, 20), last: box(500, 700, 40) };
  const up = { first: box(500, 700, 40), last: box(500, 300, 20) };
  t.equal(directionOf(line, down), 'in', 'towards the camera (down the image) is in');
  t.equal(directionOf(line, up), 'out');
  t.equal(directionOf({ ...line, in_side: 'left' }, down), 'out', 'the other side flips it');
  t.equal(directionOf(line, { first: box(500, 500, 40), last: box(505, 510, 40) }), null, 'a car that barely moved gives no direction');
  t.equal(directionOf({ ...line, in_side: null }, down), null, 'no in side: no direction');
  t.equal(directionOf(line, undefined), null, 'no motion known: no direction');
  t.equal(directionOf(line, { first: box(100, 300), last: box(900, 300) }), null, 'motion along the line is no crossing');
  // A polygon's first edge is its gate line: a vertical edge walked downwards; its right side is to the left.
  const poly = { geometry: { type: 'polygon' as const, points: [{ x: 500, y: 0 }, { x: 500, y: 1000 }, { x: 0, y: 1000 }] }, in_side: 'right' as const };
  t.equal(directionOf(poly, { first: box(800, 500), last: box(200, 500) }), 'in');
});
