/**
 * A SymSpell-style deletion neighbourhood over folded plates, stored compactly for 100,000s of
 * entries on a small box.
 *
 * Guarantee (no miss): for depth `k`, every id added with a string `s` is offered by
 * `candidates(q)` whenever plain Levenshtein(q, s) ≤ k. Two strings within `k` edits share a
 * common subsequence reached by deleting at most `k` characters from each (a substitution
 * deletes from both, an insertion or deletion from one), so some deletion variant of `q`
 * equals some deletion variant of `s`; equal strings have equal hashes.
 *
 * Not a guarantee: candidates may include ids farther away (a 32-bit hash collision, or a
 * shared variant of strings more than `k` apart); callers verify each with the real distance.
 *
 * Layout: every (variant hash, id) pair in two typed arrays grouped by hash bucket (CSR), about
 * 8 bytes per pair and 4 per bucket, instead of a Map of strings (ten times that). A 7-character
 * plate has 8 variants at depth 1 and 29 at depth 2.
 */

/** FNV-1a of `s` without the positions `deleted[0..k)` (ascending). */
function hashWithout(s: string, deleted: Int32Array, k: number): number {
  let h = 0x811c9dc5;
  let d = 0;
  for (let i = 0; i < s.length; i++) {
    if (d < k && deleted[d] === i) {
      d++;
      continue;
    }
    h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  }
  return h >>> 0;
}

/**
 * Writes into `out` the hash of `s` with every set of at most `depth` positions deleted
 * (duplicates possible; `out` holds at least `variantCount(s.length, depth)`); returns how many.
 */
function variantHashes(s: string, depth: number, deleted: Int32Array, out: Uint32Array): number {
  let n = 0;
  const walk = (start: number, k: number): void => {
    out[n++] = hashWithout(s, deleted, k);
    if (k === depth) return;
    for (let p = start; p < s.length; p++) {
      deleted[k] = p;
      walk(p + 1, k + 1);
    }
  };
  walk(0, 0);
  return n;
}

/** How many variants `variantHashes` writes for a string of `len` at `depth`. */
export function variantCount(len: number, depth: number): number {
  let total = 0;
  let c = 1;
  for (let k = 0; k <= Math.min(depth, len); k++) {
    total += c;
    c = (c * (len - k)) / (k + 1);
  }
  return total;
}

export class DeletionIndex {
  readonly depth: number;
  private pairHashes = new Uint32Array(1024);
  private pairIds = new Int32Array(1024);
  private pairs = 0;
  private scratch = new Uint32Array(64);
  private readonly deleted: Int32Array;
  private mask = 0;
  private bucketStart = new Uint32Array(1);
  private hashes = new Uint32Array(0);
  private ids = new Int32Array(0);
  private frozen = false;

  /** @param depth the most deletions per string (the edit budget the index answers for). */
  constructor(depth: number) {
    this.depth = depth;
    this.deleted = new Int32Array(Math.max(depth, 1));
  }

  /** The variant hashes of `s` in `this.scratch`; returns how many. */
  private variants(s: string): number {
    const need = variantCount(s.length, this.depth);
    if (this.scratch.length < need) this.scratch = new Uint32Array(need);
    return variantHashes(s, this.depth, this.deleted, this.scratch);
  }

  /** Adds `s` (a folded plate) as `id`. Only before `freeze`. */
  add(s: string, id: number): void {
    if (this.frozen) throw new Error('DeletionIndex: add after freeze');
    const n = this.variants(s);
    // One pair per distinct variant: runs of a character ("AA1") give the same variant twice.
    const own = this.scratch.subarray(0, n).sort();
    for (let i = 0; i < n; i++) {
      if (i > 0 && own[i] === own[i - 1]) continue;
      if (this.pairs === this.pairHashes.length) this.grow();
      this.pairHashes[this.pairs] = own[i];
      this.pairIds[this.pairs] = id;
      this.pairs++;
    }
  }

  private grow(): void {
    const h = new Uint32Array(this.pairHashes.length * 2);
    h.set(this.pairHashes);
    this.pairHashes = h;
    const ids = new Int32Array(this.pairIds.length * 2);
    ids.set(this.pairIds);
    this.pairIds = ids;
  }

  /** Lays the pairs out by bucket; the index answers `candidates` from then on. */
  freeze(): void {
    if (this.frozen) return;
    this.frozen = true;
    let buckets = 16;
    while (buckets * 2 < this.pairs) buckets *= 2; // 1-2 pairs per bucket
    this.mask = buckets - 1;
    const start = new Uint32Array(buckets + 1);
    for (let i = 0; i < this.pairs; i++) start[(this.pairHashes[i] & this.mask) + 1]++;
    for (let b = 0; b < buckets; b++) start[b + 1] += start[b];
    const fill = start.slice(0, buckets);
    this.hashes = new Uint32Array(this.pairs);
    this.ids = new Int32Array(this.pairs);
    for (let i = 0; i < this.pairs; i++) {
      const h = this.pairHashes[i];
      const at = fill[h & this.mask]++;
      this.hashes[at] = h;
      this.ids[at] = this.pairIds[i];
    }
    this.bucketStart = start;
    this.pairHashes = new Uint32Array(0);
    this.pairIds = new Int32Array(0);
  }

  /** Pairs stored (one per distinct variant of each string). */
  get size(): number {
    return this.frozen ? this.ids.length : this.pairs;
  }

  /** Calls `visit` with every id that may lie within `depth` edits of `q` (an id may come more than once). */
  candidates(q: string, visit: (id: number) => void): void {
    if (!this.frozen) this.freeze();
    const { mask, bucketStart, hashes, ids } = this;
    const n = this.variants(q);
    const own = this.scratch;
    for (let v = 0; v < n; v++) {
      const h = own[v];
      const b = h & mask;
      for (let i = bucketStart[b], end = bucketStart[b + 1]; i < end; i++) if (hashes[i] === h) visit(ids[i]);
    }
  }
}
