/**
 * Real pseudo-terminals for serial tests: `socat` joins two ptys and links them at `a` and `b`
 * (the driver under test opens `a`, the test plays the device on `b`). Ready when socat says
 * "starting data transfer loop"; `stop()` ends socat (SIGTERM: it removes the links), which is
 * how a test unplugs the device.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { SerialPort } from 'serialport';

export interface PtyPair {
  a: string;
  b: string;
  /** Ends socat and waits for it: both ptys go away, as a device unplugged. */
  stop(): Promise<void>;
}

export async function startPtyPair(a: string, b: string): Promise<PtyPair> {
  const child: ChildProcess = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((r) => child.once('close', () => r()));
  let log = '';
  await new Promise<void>((resolve, reject) => {
    child.once('error', (e) => reject(new Error(`socat did not start (apt-get install socat): ${e.message}`)));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      log += s;
      if (log.includes('starting data transfer loop')) resolve();
    });
    void exited.then(() => reject(new Error(`socat exited before it was ready: ${log}`)));
  });
  return {
    a,
    b,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The device's end of a pty pair: what the driver wrote, and a way to answer. */
export interface Peer {
  port: SerialPort;
  /** Every byte received so far. */
  received(): Buffer;
  /** Each chunk as it arrived, with its arrival time. */
  chunks: Array<{ at: number; bytes: Buffer }>;
  /** Resolves once at least `n` bytes have arrived in all. */
  waitBytes(n: number): Promise<Buffer>;
  write(bytes: Buffer | string): Promise<void>;
  close(): Promise<void>;
}

export async function openPeer(path: string): Promise<Peer> {
  const port = new SerialPort({ path, baudRate: 9600, autoOpen: false });
  port.on('error', () => {});
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  const chunks: Peer['chunks'] = [];
  const waiters: Array<{ n: number; resolve: (b: Buffer) => void }> = [];
  const received = () => Buffer.concat(chunks.map((c) => c.bytes));
  port.on('data', (bytes: Buffer) => {
    chunks.push({ at: Date.now(), bytes });
    const all = received();
    for (const w of waiters.splice(0)) {
      if (all.length >= w.n) w.resolve(all);
      else waiters.push(w);
    }
  });
  return {
    port,
    chunks,
    received,
    waitBytes(n) {
      const all = received();
      if (all.length >= n) return Promise.resolve(all);
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    write(bytes) {
      return new Promise((resolve, reject) => port.write(bytes, (e) => (e ? reject(e) : port.drain((d) => (d ? reject(d) : resolve())))));
    },
    close() {
      return new Promise((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
    },
  };
}
