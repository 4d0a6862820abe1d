/**
 * The asynchronous face of a synchronous store: every method returns a promise of what it
 * returned, and a throw becomes a rejection (never a synchronous throw from a call that
 * reads as async). Fields are read through to the store. SQLite's stores are synchronous
 * (better-sqlite3, one connection per process); the service sees them through the contracts
 * of cloud/store/contracts.ts that a networked backend needs.
 */
export type AsyncView<T> = {
  [K in keyof T]: T[K] extends (...a: infer A) => infer R ? (...a: A) => Promise<Awaited<R>> : T[K];
};

export function asyncView<T extends object>(impl: T): AsyncView<T> {
  const view = Object.create(impl) as Record<string, unknown>;
  for (let proto = Object.getPrototypeOf(impl); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const d = Object.getOwnPropertyDescriptor(proto, name);
      if (name === 'constructor' || Object.hasOwn(view, name) || typeof d?.value !== 'function') continue;
      const fn = d.value as (...a: unknown[]) => unknown;
      view[name] = (...args: unknown[]) => {
        try {
          return Promise.resolve(fn.apply(impl, args));
        } catch (e) {
          return Promise.reject(e);
        }
      };
    }
  }
  return view as AsyncView<T>;
}
