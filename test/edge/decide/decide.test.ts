import t from 'tap';
import { Decider, pointInPolygon, normalisePlate } from '../../../edge/decide/index.js';
import { EdgeZone } from '../../../edge/config/schema.js';

const square = [{ x: 100, y: 100 }, { x: 300, y: 100 }, { x: 300, y: 300 }, { x: 100, y: 300 }];
const zone = (over: Record<string, unknown>) => EdgeZone.parse({ id: 'z1', camera_id: 'cam-1', type: 'enter', geometry: { type: 'polygon', points: square }, ...over });

t.test('point in polygon, convex and concave', async (t) => {
  t.ok(pointInPolygon({ x: 200, y: 200 }, square));
  t.notOk(pointInPolygon({ x: 50, y: 200 }, square));
  const u = [{ x: 0, y: 0 }, { x: 30, y: 0 }, { x: 30, y: 30 }, { x: 20, y: 30 }, { x: 20, y: 10 }, { x: 10, y: 10 }, { x: 10, y: 30 }, { x: 0, y: 30 }];
  t.notOk(pointInPolygon({ x: 15, y: 20 }, u), 'inside the notch of a U is outside');
  t.ok(pointInPolygon({ x: 5, y: 20 }, u));
});

t.test('the plate box centre decides the zone; reads outside every zone are dropped', async (t) => {
  const d = new Decider([zone({})]);
  t.equal(d.decide('cam-1', 'AB12', { x: 150, y: 150, width: 40, height: 10 })!.zoneId, 'z1');
  t.equal(d.decide('cam-1', 'AB12', { x: 280, y: 150, width: 60, height: 10 }), null, 'centre at x=310 is outside');
  t.same(d.decide('cam-2', 'AB12', { x: 0, y: 0, width: 1, height: 1 }), { zoneId: null, zoneType: null, list: 'none', action: 'none' }, 'a camera without zones reports everything');
});

t.test('allow opens the barrier, deny wins, lists compare normalised', async (t) => {
  const d = new Decider([zone({ allow: ['ab-12 cd', 'XY99'], deny: ['xy 99'] })]);
  const box = { x: 190, y: 190, width: 20, height: 10 };
  t.same(d.decide('cam-1', 'AB12CD', box), { zoneId: 'z1', zoneType: 'enter', list: 'allow', action: 'open' });
  t.equal(d.decide('cam-1', 'XY99', box)!.action, 'deny');
  t.equal(d.decide('cam-1', 'ZZ11', box)!.action, 'none');
  const monitor = new Decider([zone({ type: 'monitor', allow: ['AB12CD'] })]);
  t.equal(monitor.decide('cam-1', 'AB12CD', box)!.action, 'none', 'a monitor zone has no barrier');
  t.equal(normalisePlate('ab 12-cd.'), 'AB12CD');
});
