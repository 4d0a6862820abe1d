/**
 * Execution-provider choice. onnxruntime-node's CPU build lists CUDA and TensorRT as not
 * bundled; asking ORT for them anyway makes it print native errors, so availability is
 * checked first (provider library present next to the binding) and an unavailable provider
 * is dropped with one log line by the caller.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageDir } from './package-dir.js';
import type { Provider } from './types.js';

const PROVIDER_LIBS: Record<Exclude<Provider, 'cpu'>, string> = {
  cuda: 'libonnxruntime_providers_cuda.so',
  tensorrt: 'libonnxruntime_providers_tensorrt.so',
};

/** Directory holding onnxruntime-node's native binding for this platform. */
function bindingDir(): string | undefined {
  const pkg = packageDir('onnxruntime-node');
  return pkg ? join(pkg, 'bin', 'napi-v6', process.platform, process.arch) : undefined;
}

/** Whether `provider` can be used by this installation of onnxruntime-node. */
export function providerAvailable(provider: Provider): boolean {
  if (provider === 'cpu') return true;
  if (process.platform !== 'linux' && process.platform !== 'win32') return false;
  const dir = bindingDir();
  const lib = process.platform === 'win32' ? PROVIDER_LIBS[provider].replace(/^lib(.*)\.so$/, '$1.dll') : PROVIDER_LIBS[provider];
  return dir !== undefined && existsSync(join(dir, lib));
}

/**
 * Splits a preference list into the providers to try and those to drop; CPU always ends the
 * list. Duplicates are removed.
 */
export function resolveProviders(wanted: readonly Provider[] | undefined): { use: Provider[]; unavailable: Provider[] } {
  const use: Provider[] = [];
  const unavailable: Provider[] = [];
  for (const p of wanted ?? ['cpu']) {
    if (use.includes(p) || unavailable.includes(p)) continue;
    if (providerAvailable(p)) use.push(p);
    else unavailable.push(p);
  }
  if (!use.includes('cpu')) use.push('cpu');
  return { use, unavailable };
}
