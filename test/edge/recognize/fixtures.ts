/**
 * Test inputs the tests make themselves: rendered plates (SVG text through sharp, DejaVu
 * fonts), scenes with a plate on a car-coloured body, and hand-encoded tiny ONNX models.
 */
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { RgbImage } from '../../../edge/inference/image.js';

/** The two models that ship with the project (models/). */
export const FAST_PLATE_OCR_MODEL = fileURLToPath(new URL('../../../models/fast-plate-ocr/cct_xs_v1_global.onnx', import.meta.url));
export const FASTESTDET_MODEL = fileURLToPath(new URL('../../../models/fastestdet/FastestDet.onnx', import.meta.url));

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** SVG of a plate: dark characters on a light plate with a border. */
export function plateSvg(text: string, width = 520, height = 120): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
  <rect x="2" y="2" width="${width - 4}" height="${height - 4}" rx="10" fill="#f4f4f0" stroke="#111" stroke-width="5"/>
  <text x="${width / 2}" y="${Math.round(height * 0.54)}" dominant-baseline="middle" text-anchor="middle" font-family="DejaVu Sans Mono" font-weight="bold"
    font-size="${Math.round(height * 0.68)}" fill="#111">${esc(text)}</text></svg>`;
}

/** A plate crop as packed RGB. */
export async function renderPlate(text: string, width = 520, height = 120): Promise<RgbImage> {
  const { data, info } = await sharp(Buffer.from(plateSvg(text, width, height))).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

export interface Scene {
  image: RgbImage;
  png: Buffer;
  plate: { x: number; y: number; width: number; height: number };
}

/** A scene: plate on a coloured vehicle body on grey ground. */
export async function renderScene(text: string, o: { width?: number; height?: number; plateX?: number; plateY?: number; plateW?: number; body?: string } = {}): Promise<Scene> {
  const W = o.width ?? 960;
  const H = o.height ?? 540;
  const pw = o.plateW ?? 260;
  const ph = Math.round(pw / 4.3);
  const px = o.plateX ?? Math.round(W / 2 - pw / 2);
  const py = o.plateY ?? Math.round(H * 0.6);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">
  <rect width="${W}" height="${H}" fill="#7a7a78"/>
  <rect x="${px - pw}" y="${py - ph * 4}" width="${pw * 3}" height="${ph * 6}" rx="40" fill="${o.body ?? '#b01818'}"/>
  <g transform="translate(${px},${py})">${plateSvg(text, pw, ph).replace(/<\/?svg[^>]*>/g, '')}</g></svg>`;
  const png = await sharp(Buffer.from(svg)).png().toBuffer();
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { image: { width: info.width, height: info.height, data }, png, plate: { x: px, y: py, width: pw, height: ph } };
}

// ---- A minimal ONNX (protobuf) encoder: enough for one-node graphs. ----

function varint(n: number | bigint): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}
const key = (field: number, wire: number) => varint((field << 3) | wire);
const vint = (field: number, n: number) => [...key(field, 0), ...varint(n)];
const bytes = (field: number, b: number[] | Uint8Array) => [...key(field, 2), ...varint(b.length), ...b];
const str = (field: number, s: string) => bytes(field, [...Buffer.from(s, 'utf8')]);

export type OnnxElem = 'float' | 'uint8';
const ELEM: Record<OnnxElem, number> = { float: 1, uint8: 2 };

function valueInfo(name: string, elem: OnnxElem, dims: (number | string)[]): number[] {
  const shape = dims.flatMap((d) => bytes(1, typeof d === 'number' ? vint(1, d) : str(2, d)));
  const tensorType = [...vint(1, ELEM[elem]), ...bytes(2, shape)];
  return [...str(1, name), ...bytes(2, bytes(1, tensorType))];
}

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  /** Integer attributes, e.g. { axis: 1 }. */
  ints?: Record<string, number>;
}

/** A constant float tensor stored in the graph (TensorProto with raw little-endian data). */
export interface OnnxInitializer {
  name: string;
  dims: number[];
  values: number[];
}

function tensorProto(t: OnnxInitializer): number[] {
  const raw = Buffer.alloc(t.values.length * 4);
  t.values.forEach((v, i) => raw.writeFloatLE(v, i * 4));
  return [...t.dims.flatMap((d) => vint(1, d)), ...vint(2, ELEM.float), ...str(8, t.name), ...bytes(9, raw)];
}

/** Encodes a ModelProto (IR 8, opset 13) with the given nodes, inputs and outputs. */
export function onnxModel(
  nodes: OnnxNode[],
  inputs: [string, OnnxElem, (number | string)[]][],
  outputs: [string, OnnxElem, (number | string)[]][],
  initializers: OnnxInitializer[] = [],
): Uint8Array {
  const graph = [
    ...initializers.flatMap((t) => bytes(5, tensorProto(t))),
    ...nodes.flatMap((n, i) =>
      bytes(1, [
        ...n.inputs.flatMap((x) => str(1, x)),
        ...n.outputs.flatMap((x) => str(2, x)),
        ...str(3, `n${i}`),
        ...str(4, n.op),
        ...Object.entries(n.ints ?? {}).flatMap(([k, v]) => bytes(5, [...str(1, k), ...vint(20, 2), ...vint(3, v)])),
      ]),
    ),
    ...str(2, 'test-graph'),
    ...inputs.flatMap(([n, e, d]) => bytes(11, valueInfo(n, e, d))),
    ...outputs.flatMap(([n, e, d]) => bytes(12, valueInfo(n, e, d))),
  ];
  return new Uint8Array([...vint(1, 8), ...str(2, 'anpr-test'), ...bytes(7, graph), ...bytes(8, [...str(1, ''), ...vint(2, 13)])]);
}
