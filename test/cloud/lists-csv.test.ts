/**
 * Issue 10, CSV of list entries: the export reads back to the same entries (schedules, bounds,
 * tags, labels a spreadsheet would run as formulas, quotes and commas); a bad line is a 400
 * naming the line and the column, and nothing of the file is stored; the schedule text.
 */
import t from 'tap';
import { CsvReader } from '../../cloud/lists/entries-csv.js';
import { formatSchedule, parseSchedule } from '../../shared/access/schedule-text.js';
import { startTestCloud, type TestCloud } from './helpers.js';

const csv = (c: TestCloud, method: string, id: string, text: string | Buffer) =>
  c.req(`/config/lists/${id}/entries`, { method, token: c.adminToken, body: typeof text === 'string' ? text : new Uint8Array(text), headers: { 'content-type': 'text/csv; charset=utf-8' } });

async function entries(c: TestCloud, id: string): Promise<any[]> {
  return (await (await c.req(`/config/lists/${id}/entries?limit=10000`, { token: c.adminToken })).json()).items;
}

async function list(c: TestCloud, id: string) {
  const r = await c.req('/config/lists', { method: 'POST', token: c.adminToken, json: { id, name: id, type: 'allow' } });
  if (r.status !== 201) throw new Error(await r.text());
}

t.test('schedule text: the documented syntax, week order, over-midnight windows, and what it refuses', async (t) => {
  t.same(parseSchedule('mon-fri 07:00-19:00; sat 08:00-12:00'), [
    { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '07:00', to: '19:00' },
    { days: ['sat'], from: '08:00', to: '12:00' },
  ]);
  t.same(parseSchedule('  Sat , SUN  7:30 - 24:00 '), [{ days: ['sat', 'sun'], from: '07:30', to: '24:00' }], 'case, spaces, a one-digit hour');
  t.same(parseSchedule('fri-mon 22:00-06:00'), [{ days: ['mon', 'fri', 'sat', 'sun'], from: '22:00', to: '06:00' }], 'a range over the weekend; from after to runs over midnight');
  t.same(parseSchedule(''), [], 'empty: at any time');
  t.equal(formatSchedule([{ days: ['fri', 'mon', 'tue', 'wed', 'thu'], from: '07:00', to: '19:00' }, { days: ['sat', 'sun'], from: '08:00', to: '12:00' }]), 'mon-fri 07:00-19:00; sat,sun 08:00-12:00');
  t.equal(formatSchedule([{ days: ['mon', 'wed', 'thu', 'fri', 'sun'], from: '00:00', to: '24:00' }]), 'mon,wed-fri,sun 00:00-24:00');
  for (const text of ['weekdays 07:00-19:00', 'mon 07:00', 'mon 0700-1900', 'mon-fri-sat 07:00-08:00', 'mon 07:00-19:00;; tue 01:00-02:00']) {
    t.throws(() => parseSchedule(text), { name: 'ScheduleTextError' }, `refused: ${text}`);
  }
  t.throws(() => parseSchedule('mon 07:00-19:00; tue 7-9'), { message: /^window 2 / }, 'the error names the window');
});

t.test('the CSV reader: quotes, doubled quotes, commas and line breaks in cells, CRLF, the line each record starts on', async (t) => {
  const got: Array<[string[], number]> = [];
  const r = new CsvReader((cells, line) => got.push([cells, line]));
  // Fed in awkward pieces: a CRLF and a doubled quote split across pushes.
  for (const piece of ['a,"b, c",d\r', '\n"say ""hi""",,"two\nlines"\n', '\n', 'last,"x"']) r.push(piece);
  r.end();
  t.same(got, [
    [['a', 'b, c', 'd'], 1],
    [['say "hi"', '', 'two\nlines'], 2],
    [['last', 'x'], 5],
  ]);
});

t.test('export → import: the same entries back, schedules, bounds, tags and formula-looking labels included', async (t) => {
  const c = await startTestCloud(t);
  const original = [
    { plate: 'AB123', label: 'Alice, "the boss"', schedule: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '07:00', to: '19:00' }, { days: ['sat'], from: '08:00', to: '12:00' }] },
    { plate: 'NIGHT1', label: 'Night shift', schedule: [{ days: ['fri', 'sat'], from: '22:00', to: '06:00' }], rfid: 'tag-0042' },
    { plate: 'VISIT9', label: '=HYPERLINK("http://x")', valid_from: '2024-05-01T08:00:00+02:00', valid_until: '2024-05-02T00:00:00Z' },
    { plate: 'Q1', label: "'=already quoted", rfid: '@tag' },
    { plate: 'Z9', label: '-5 minus', schedule: [{ days: ['sun'], from: '00:00', to: '24:00' }] },
  ];
  const r0 = await c.req('/config/lists', { method: 'POST', token: c.adminToken, json: { id: 'src', name: 'src', type: 'allow', entries: original } });
  t.equal(r0.status, 201);
  const exported = await c.req('/config/lists/src/entries.csv', { token: c.adminToken });
  t.equal(exported.status, 200);
  t.match(exported.headers.get('content-type'), /^text\/csv/);
  t.match(exported.headers.get('content-disposition'), /attachment; filename="src\.csv"/);
  const text = await exported.text();
  const lines = text.split('\r\n');
  t.equal(lines[0], 'plate,label,valid_from,valid_until,schedule,rfid', 'the header');
  t.equal(lines[1], 'AB123,"Alice, ""the boss""",,,mon-fri 07:00-19:00; sat 08:00-12:00,', 'schedule in the documented syntax');
  t.equal(lines[3], 'Q1,\'\'=already quoted,,,,\'@tag', 'formula guard: one more apostrophe');
  t.ok(lines.some((l) => l.startsWith(`VISIT9,"'=HYPERLINK(""http://x"")"`)), 'a formula is written as text');
  t.equal(lines.at(-1), '', 'every line ends with CRLF');

  await list(c, 'dst');
  const imported = await csv(c, 'PUT', 'dst', text);
  t.equal(imported.status, 200, await imported.clone().text());
  t.match(await imported.json(), { added: 5, list: { entries_count: 5 } });
  t.same(await entries(c, 'dst'), await entries(c, 'src'), 'the round trip gives the same entries');
  const again = await c.req('/config/lists/dst/entries.csv', { token: c.adminToken });
  t.equal(await again.text(), text, 'and the same file');
  const version = again.headers.get('etag');
  t.match(await (await csv(c, 'PUT', 'dst', text)).json(), { unchanged: 5, added: 0, updated: 0 }, 're-importing the same file changes nothing');
  t.equal((await c.req('/config/lists/dst/entries.csv', { token: c.adminToken })).headers.get('etag'), version, 'the version stays');
});

t.test('import: columns in any order or left out, a BOM, LF lines, blank lines; POST adds, PUT replaces', async (t) => {
  const c = await startTestCloud(t);
  await list(c, 'l');
  const r = await csv(c, 'POST', 'l', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('RFID,Plate\n\ntag-1,ab-12\n,cd 34\n\n')]));
  t.equal(r.status, 200, await r.clone().text());
  t.same(
    (await entries(c, 'l')).map((e) => [e.plate, e.rfid, e.label]),
    [['AB12', 'tag-1', null], ['CD34', null, null]],
  );
  const add = await csv(c, 'POST', 'l', 'plate,label\nEF56,new\n');
  t.match(await add.json(), { added: 1, list: { entries_count: 3 } }, 'POST adds');
  const rep = await csv(c, 'PUT', 'l', 'plate\nEF56\n');
  t.match(await rep.json(), { removed: 2, updated: 1, list: { entries_count: 1 } }, 'PUT replaces all (the label column left out: no label)');
});

t.test('a bad line: 400 naming the line and the column; nothing of the file is stored', async (t) => {
  const c = await startTestCloud(t);
  await list(c, 'l');
  await csv(c, 'PUT', 'l', 'plate\nKEEP1\n');
  const before = (await (await c.req('/config/lists/l', { token: c.adminToken })).json()).version;
  const good = Array.from({ length: 500 }, (_, i) => `GOOD${i},ok,,,mon-fri 07:00-19:00,`).join('\n');
  const cases: Array<[string, string, string[], RegExp]> = [
    ['a schedule at 25:00', `plate,label,valid_from,valid_until,schedule,rfid\n${good}\nBAD1,x,,,mon 07:00-25:00,\n`, ['lines.502.schedule'], /^line 502, schedule: window 1 to: /],
    ['a schedule that is not one', `plate,schedule\nA1,weekdays\n`, ['lines.2.schedule'], /^line 2, schedule: window 1 'weekdays'/],
    ['a plate of 200 characters', `plate\nA1\n${'B'.repeat(200)}\n`, ['lines.3.plate'], /^line 3, plate: /],
    ['a date that is not one', `plate,valid_from\nA1,2024-13-45\n`, ['lines.2.valid_from'], /^line 2, valid_from: /],
    ['a plate twice after normalisation', `plate\nAB-1\nC2\nab 1\n`, ['lines.4.plate'], /already on line 2/],
    ['too many cells', `plate,label\nA1,x,y\n`, ['lines.2'], /3 cells, but the header has 2/],
    ['an unknown column', `plate,colour\nA1,red\n`, ['lines.1'], /'colour' is not one of/],
    ['no plate column', `label\nx\n`, ['lines.1'], /needs a plate column/],
    ['a quote never closed', `plate,label\nA1,"open\n`, ['lines.2'], /never closed/],
    ['an empty file', ``, ['lines.1'], /empty/],
  ];
  for (const [what, text, fields, message] of cases) {
    for (const method of ['POST', 'PUT']) {
      const r = await csv(c, method, 'l', text);
      t.equal(r.status, 400, `${what} (${method}): 400`);
      const body = await r.json();
      t.same(body.errors.map((e: any) => e.field), fields, `${what}: names ${fields}`);
      t.match(body.errors[0].message, message, `${what}: says what is wrong`);
      t.match(body.detail, /nothing was stored/);
    }
  }
  const latin1 = await csv(c, 'POST', 'l', Buffer.from('plate,label\nA1,Gr\xfcn\n', 'latin1'));
  t.equal(latin1.status, 400, 'not UTF-8');
  t.match((await latin1.json()).errors[0].message, /UTF-8/);
  const many = `plate,valid_from\n${Array.from({ length: 100 }, (_, i) => `P${i},never`).join('\n')}\n`;
  const r = await csv(c, 'POST', 'l', many);
  t.equal((await r.json()).errors.length, 20, '100 bad lines: the first 20 are named');

  const after = await (await c.req('/config/lists/l', { token: c.adminToken })).json();
  t.match(after, { version: before, entries_count: 1 }, 'the list is as it was');
  t.same((await entries(c, 'l')).map((e) => e.plate), ['KEEP1']);
});
