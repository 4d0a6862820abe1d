/**
 * Found by the input fuzz: a path parameter naming an Object.prototype member
 * (`/docs/assets/constructor`) was looked up as if it were a file the docs serve, and the read
 * of the missing file was a 500. Such names are a 404 like any other unknown file.
 */
import t from 'tap';
import { startTestCloud } from './helpers.js';

t.test('Object.prototype names as path parameters: 404, never 500', async (t) => {
  const c = await startTestCloud(t);
  for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
    for (const path of [`/docs/assets/${name}`, `/assets/app-abcdef12.${name.toLowerCase()}`, `/config/cameras/${name}`, `/events/${name}`, `/users/${name}`]) {
      const method = path.startsWith('/users/') ? 'PATCH' : 'GET';
      const r = await c.req(path, { method, token: c.adminToken, ...(method === 'PATCH' ? { json: { role: 'viewer' } } : {}) });
      t.ok(r.status === 404 || r.status === 400, `${method} ${path}: ${r.status}`);
      t.equal((await r.json()).error_code, r.status === 404 ? 'RESOURCE_NOT_FOUND' : 'VALIDATION_ERROR');
    }
  }
  t.equal((await c.req('/docs/assets/swagger-ui.css')).status, 200, 'a real asset is still served');
});
