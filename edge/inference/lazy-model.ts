/**
 * One model a stage owns: loaded on first `load()` (concurrent callers share the load),
 * released by `release()`. Keeps the stages' constructors inert.
 */
import type { InferenceHost } from './host.js';
import type { LoadOptions, ModelHandle, ModelSource } from './types.js';

export class LazyModel {
  private loading?: Promise<ModelHandle>;
  private handle?: ModelHandle;

  constructor(
    private readonly host: InferenceHost,
    readonly name: string,
    private readonly source: ModelSource,
    private readonly opts?: LoadOptions,
  ) {}

  async load(): Promise<ModelHandle> {
    this.loading ??= this.host.load(this.name, this.source, this.opts).then((h) => (this.handle = h));
    try {
      return await this.loading;
    } catch (e) {
      this.loading = undefined;
      throw e;
    }
  }

  /** The loaded model; calling a stage before its `load()` is a programming error. */
  get(): ModelHandle {
    if (!this.handle) throw new Error(`model '${this.name}': load() was not called`);
    return this.handle;
  }

  async release(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    this.loading = undefined;
    await h?.release();
  }
}
