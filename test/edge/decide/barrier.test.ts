import t from 'tap';
import { createServer } from 'node:http';
import { barrierHook, barrierSensors } from '../../../edge/decide/barrier.js';

t.test('configured barrier sensors get the decision for their camera/zone; failures are reported', async (t) => {
  const got: Array<{ path: string; body: Record<string, unknown>; auth?: string }> = [];
  const server = createServer((req, res) => {
    let b = '';
    req.on('data', (c) => (b += c));
    req.on('end', () => {
      got.push({ path: req.url ?? '', body: JSON.parse(b), auth: req.headers.authorization });
      res.writeHead(req.url === '/broken' ? 500 : 200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const sensors = [
    { id: 'gate-in', type: 'barrier', camera_id: 'cam-1', zone_id: null, config: { url: `${base}/in`, headers: { authorization: 'Bearer b' } } },
    { id: 'gate-out', type: 'relay', camera_id: 'cam-2', config: { url: `${base}/out` } },
    { id: 'loop', type: 'loop', config: { url: `${base}/never` } },
    { id: 'tpms', type: 'tpms', config: {} },
  ];
  t.same(barrierSensors(sensors).map((s) => s.id), ['gate-in', 'gate-out'], 'only barriers and relays with a URL');
  const hook = barrierHook(() => sensors);
  await hook({ cameraId: 'cam-1', zoneId: 'z1', zoneType: 'enter', list: 'allow', action: 'open', plateText: 'AB12CDE' });
  t.equal(got.length, 1);
  t.same({ path: got[0].path, auth: got[0].auth, action: got[0].body.action, plate: got[0].body.plate_text, sensor: got[0].body.sensor_id }, { path: '/in', auth: 'Bearer b', action: 'open', plate: 'AB12CDE', sensor: 'gate-in' });
  sensors.push({ id: 'bad', type: 'barrier', camera_id: 'cam-3', config: { url: `${base}/broken` } } as never);
  await t.rejects(hook({ cameraId: 'cam-3', zoneId: null, zoneType: 'exit', list: 'deny', action: 'deny', plateText: 'X1' }), /bad: HTTP 500/);
});
