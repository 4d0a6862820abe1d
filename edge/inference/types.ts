/**
 * The inference layer's contract: models run in a worker thread, tensors cross the thread
 * boundary as plain typed arrays (their buffers are transferred, not copied).
 */

export type Provider = 'cuda' | 'tensorrt' | 'cpu';
export const PROVIDERS: readonly Provider[] = ['cuda', 'tensorrt', 'cpu'];

export type TensorType = 'float32' | 'uint8' | 'int32' | 'int64';
export type TensorData = Float32Array | Uint8Array | Int32Array | BigInt64Array;

/** A tensor as it travels between threads. */
export interface TensorLike {
  type: TensorType;
  dims: number[];
  data: TensorData;
}

export interface ValueInfo {
  name: string;
  type?: string;
  /** Dimensions; symbolic ones are strings. */
  shape?: (number | string)[];
}

/** Where a model's bytes come from: a file path or the bytes themselves. */
export type ModelSource = string | Uint8Array;

export interface LoadOptions {
  /** Execution providers in order of preference; CPU is always the last resort. */
  providers?: Provider[];
  /** ORT intra-op threads (default: 2, the appliance's core count). */
  intraOpThreads?: number;
}

/** A loaded model. `run` never blocks the caller's event loop. */
export interface ModelHandle {
  readonly name: string;
  readonly inputs: ValueInfo[];
  readonly outputs: ValueInfo[];
  /** The provider the session actually runs on. */
  readonly provider: Provider;
  run(feeds: Record<string, TensorLike>): Promise<Record<string, TensorLike>>;
  release(): Promise<void>;
}
