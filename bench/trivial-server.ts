/** The baseline of the ingest benchmark: a Hono route that reads the JSON body and answers 202. */
import { Hono } from 'hono';
import { serve } from '@hono/node-server';

const app = new Hono();
app.post('/events/ingest', async (c) => {
  const b = await c.req.json();
  return c.json({ id: b.event_id, status: 'accepted' }, 202);
});
const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
  process.stdout.write(`listening ${info.port}\n`);
});
process.on('SIGTERM', () => s.close(() => process.exit(0)));
