/** An in-process MQTT broker (aedes) on loopback, for the demo and the tests. */
import { createServer, type Server, type Socket } from 'node:net';

export interface LocalBroker {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Starts aedes on 127.0.0.1:`port` (0 = any free port). */
export async function startBroker(port = 0): Promise<LocalBroker> {
  const { Aedes } = await import('aedes');
  const broker = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    broker.handle(s);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as { port: number }).port;
  return {
    url: `mqtt://127.0.0.1:${actual}`,
    port: actual,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => broker.close(() => r()));
    },
  };
}
