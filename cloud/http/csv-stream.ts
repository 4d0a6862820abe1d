/**
 * A CSV body streamed page by page, for exports of any size with bounded memory: the header
 * line, then one page of rows per pull (each page after the first waits for a background turn,
 * so a long export never starves the requests around it). `nextPage` returns the page's text and
 * whether it was the last; a page that throws breaks the transfer (`onError`), never a short file
 * that looks whole. `onEnd` runs once, however the stream ends (last page, error, or the client
 * going away).
 */
import { backgroundTurn } from '../limits/background-turns.js';

export interface CsvPages {
  header: string;
  nextPage(): Promise<{ text: string; last: boolean }>;
  onError?(e: unknown): void;
  onEnd?(): void;
}

export function csvStream(p: CsvPages): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  let header = true;
  let done = false;
  const end = () => {
    if (done) return;
    done = true;
    p.onEnd?.();
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (done) return;
        if (!header) await backgroundTurn();
        if (done) return;
        let out = header ? p.header : '';
        header = false;
        try {
          const page = await p.nextPage();
          out += page.text;
          if (out) controller.enqueue(enc.encode(out));
          if (page.last) {
            end();
            controller.close();
          }
        } catch (e) {
          end();
          p.onError?.(e);
          controller.error(e);
        }
      },
      cancel() {
        end();
      },
    },
    { highWaterMark: 1 },
  );
}
