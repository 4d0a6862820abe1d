import type { Command, Parsed } from '../command.js';
import { str } from '../command.js';

const storeOpts = {
  'models-dir': { type: 'string' as const, arg: 'DIR', description: 'Installed models folder (default models/cache/, or $ANPR_MODELS_DIR)' },
};

async function open(parsed: Parsed, mirror?: string) {
  const { ModelStore } = await import('../../edge/inference/model-store.js');
  return ModelStore.open({ modelsDir: str(parsed, 'models-dir'), mirror });
}

const list: Command = {
  name: 'list',
  summary: 'List the models of the manifest and where each is found',
  options: { ...storeOpts, mirror: { type: 'string', arg: 'DIR', description: 'Also look in this local mirror' }, json: { type: 'boolean', description: 'Print JSON' } },
  async run(parsed) {
    const store = await open(parsed, str(parsed, 'mirror'));
    const rows = await Promise.all(store.manifest.models.map(async (m) => ({ ...m, status: await store.status(m.id) })));
    if (parsed.values.json === true) {
      console.log(JSON.stringify(rows.map((r) => ({ id: r.id, task: r.task, format: r.format, file: r.file, licence: r.licence, url: r.url, sha256: r.sha256, state: r.status.state, origin: r.status.origin, path: r.status.path ?? null }))));
      return;
    }
    for (const r of rows) {
      console.log(`${r.id.padEnd(15)} ${r.task.padEnd(18)} ${r.status.state.padEnd(17)} ${r.status.origin.padEnd(10)} ${r.licence}`);
    }
  },
};

const fetchCmd: Command = {
  name: 'fetch',
  summary: 'Install the models that ship neither with npm nor with the project, verified by sha256',
  details: 'Copies from --mirror DIR (e.g. ../shared/models) or downloads from each upstream URL. Every file is\nverified against the manifest before anything is installed; a mismatch installs nothing.',
  options: { ...storeOpts, mirror: { type: 'string', arg: 'DIR', description: 'Copy from this local mirror instead of downloading' } },
  async run(parsed) {
    const store = await open(parsed);
    const results = await store.fetch({ mirror: str(parsed, 'mirror') });
    if (results.length === 0) console.log('nothing to fetch: every model of the manifest ships with npm or with the project');
    for (const r of results) console.log(`${r.id}: ${r.action}${r.from ? ` from ${r.from}` : ''}`);
    console.log(`models dir: ${store.modelsDir}`);
  },
};

const verify: Command = {
  name: 'verify',
  summary: 'Check every model against its sha256; exit 1 when one is missing or altered',
  options: { ...storeOpts, mirror: { type: 'string', arg: 'DIR', description: 'Also look in this local mirror' } },
  async run(parsed) {
    const store = await open(parsed, str(parsed, 'mirror'));
    let bad = 0;
    for (const m of store.manifest.models) {
      const s = await store.status(m.id);
      const optional = 'mirror' in m.source;
      if (s.state !== 'ok' && !(optional && s.state === 'missing')) bad++;
      console.log(`${m.id.padEnd(15)} ${s.state}${s.path ? `  ${s.path}` : ''}${optional && s.state === 'missing' ? '  (optional: anpr models fetch)' : ''}`);
    }
    return bad ? 1 : 0;
  },
};

const command: Command = {
  name: 'models',
  summary: 'List, fetch and verify the recognition models',
  subcommands: [list, fetchCmd, verify],
};
export default command;
