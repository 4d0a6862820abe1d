/**
 * The demo's camera, rendered by the project itself: a gate scene (sky, road, barrier) and
 * vehicles with number plates driving in, stopping at the barrier and leaving. Frames are
 * drawn with sharp from SVG (plate text in DejaVu Sans Mono), piped to ffmpeg as raw RGB and
 * encoded into a short H.264 clip, then stream-copied into a long looping file for the RTSP server.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { startH264Writer } from './h264-writer.js';

export const DEMO_PLATES = ['AB12 CDE', 'KX71 ZPT', 'GF19 LMN', 'RT65 HJK', 'WP23 NVA', 'YD70 BSC'];

export interface ClipOptions {
  dir: string;
  width?: number;
  height?: number;
  fps?: number;
  plates?: string[];
  /** Seconds each vehicle is in view. */
  secondsPerVehicle?: number;
  /** Length of the looped file, minutes. */
  loopMinutes?: number;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function backgroundSvg(w: number, h: number): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">
  <defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#8fb8de"/><stop offset="1" stop-color="#d9e6f2"/></linearGradient></defs>
  <rect width="${w}" height="${h * 0.45}" fill="url(#sky)"/>
  <rect y="${h * 0.45}" width="${w}" height="${h * 0.55}" fill="#5b5f63"/>
  <rect y="${h * 0.45}" width="${w}" height="${h * 0.03}" fill="#9aa0a6"/>
  ${Array.from({ length: 8 }, (_, i) => `<rect x="${i * w / 8 + 20}" y="${h * 0.9}" width="${w / 16}" height="${h * 0.015}" fill="#e8e8e8"/>`).join('')}
  <rect x="${w * 0.86}" y="${h * 0.3}" width="${w * 0.04}" height="${h * 0.3}" fill="#333"/>
  <rect x="${w * 0.87}" y="${h * 0.22}" width="${w * 0.02}" height="${h * 0.1}" fill="#d33"/>
</svg>`;
}

/** A car seen from the front-left with its plate; returns the SVG and its size. */
function vehicleSvg(plate: string, colour: string, w: number, h: number): string {
  const pw = w * 0.42;
  const ph = h * 0.16;
  const px = (w - pw) / 2;
  const py = h * 0.62;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">
  <rect x="${w * 0.12}" y="${h * 0.05}" width="${w * 0.76}" height="${h * 0.42}" rx="${w * 0.08}" fill="${colour}"/>
  <rect x="${w * 0.2}" y="${h * 0.1}" width="${w * 0.6}" height="${h * 0.28}" rx="${w * 0.03}" fill="#2b3a4a"/>
  <rect x="${w * 0.02}" y="${h * 0.38}" width="${w * 0.96}" height="${h * 0.5}" rx="${w * 0.05}" fill="${colour}"/>
  <circle cx="${w * 0.14}" cy="${h * 0.5}" r="${h * 0.06}" fill="#f5f0c8"/>
  <circle cx="${w * 0.86}" cy="${h * 0.5}" r="${h * 0.06}" fill="#f5f0c8"/>
  <rect x="${w * 0.04}" y="${h * 0.86}" width="${w * 0.16}" height="${h * 0.14}" rx="6" fill="#111"/>
  <rect x="${w * 0.8}" y="${h * 0.86}" width="${w * 0.16}" height="${h * 0.14}" rx="6" fill="#111"/>
  <rect x="${px}" y="${py}" width="${pw}" height="${ph}" rx="6" fill="#f7f7f2" stroke="#111" stroke-width="3"/>
  <text x="${w / 2}" y="${py + ph * 0.78}" text-anchor="middle" font-family="DejaVu Sans Mono" font-weight="bold" font-size="${Math.round(ph * 0.82)}" fill="#111" textLength="${pw * 0.9}" lengthAdjust="spacingAndGlyphs">${esc(plate)}</text>
</svg>`;
}

const COLOURS = ['#c0392b', '#2c3e50', '#ecf0f1', '#16a085', '#8e44ad', '#d35400'];

/** Renders the clip (cached by its parameters); returns the looped file's path. */
export async function ensureDemoClip(o: ClipOptions): Promise<{ clip: string; loop: string; frames: number }> {
  const w = o.width ?? 960;
  const h = o.height ?? 540;
  const fps = o.fps ?? 8;
  const plates = o.plates ?? DEMO_PLATES;
  const secs = o.secondsPerVehicle ?? 5;
  const loopMinutes = o.loopMinutes ?? 10;
  const key = createHash('sha256').update(JSON.stringify({ w, h, fps, plates, secs, loopMinutes, v: 2 })).digest('hex').slice(0, 12);
  mkdirSync(o.dir, { recursive: true });
  const clip = join(o.dir, `synthetic-${key}.mp4`);
  const loop = join(o.dir, `synthetic-${key}-loop.mp4`);
  const perVehicle = Math.round(secs * fps);
  const frames = perVehicle * plates.length;
  if (existsSync(clip) && existsSync(loop)) return { clip, loop, frames };

  const { default: sharp } = await import('sharp');
  const bg = await sharp(Buffer.from(backgroundSvg(w, h))).removeAlpha().raw().toBuffer();
  const vw = Math.round(w * 0.42);
  const vh = Math.round(h * 0.4);
  const cars = await Promise.all(plates.map((p, i) => sharp(Buffer.from(vehicleSvg(p, COLOURS[i % COLOURS.length], vw, vh))).png().toBuffer()));

  const tmp = `${clip}.tmp.mp4`;
  const video = startH264Writer(tmp, { width: w, height: h, fps, gop: fps, tune: 'stillimage' });
  const top = Math.round(h * 0.5);
  for (let v = 0; v < plates.length; v++) {
    for (let i = 0; i < perVehicle; i++) {
      // Drive in (30 %), wait at the barrier (40 %), drive out (30 %).
      const t = i / (perVehicle - 1);
      const stopX = (w - vw) / 2;
      const x = t < 0.3 ? -vw + (stopX + vw) * (t / 0.3) : t < 0.7 ? stopX : stopX + (w - stopX) * ((t - 0.7) / 0.3);
      const left = Math.round(x);
      const visibleLeft = Math.max(0, left);
      const cut = visibleLeft - left;
      const visibleW = Math.min(vw - cut, w - visibleLeft);
      let img = sharp(bg, { raw: { width: w, height: h, channels: 3 } });
      if (visibleW > 0) {
        const piece = await sharp(cars[v]).extract({ left: cut, top: 0, width: visibleW, height: vh }).toBuffer();
        img = img.composite([{ input: piece, left: visibleLeft, top }]);
      }
      await video.write(await img.removeAlpha().raw().toBuffer());
    }
  }
  await video.end();
  renameSync(tmp, clip);
  const loops = Math.max(1, Math.ceil((loopMinutes * 60) / (frames / fps)));
  await new Promise<void>((resolve, reject) => {
    const c = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-stream_loop', String(loops - 1), '-i', clip, '-c', 'copy', '-movflags', '+faststart', `${loop}.tmp.mp4`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let e = '';
    c.stderr.on('data', (d) => (e += d));
    c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg loop failed: ${e}`))));
  });
  renameSync(`${loop}.tmp.mp4`, loop);
  return { clip, loop, frames };
}
