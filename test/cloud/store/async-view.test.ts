import t from 'tap';
import { asyncView } from '../../../cloud/store/async-view.js';

class Counter {
  readonly step: number;
  private n = 0;
  constructor(step: number) {
    this.step = step;
  }
  add(): number {
    return (this.n += this.step);
  }
  fail(): number {
    throw new Error('refused');
  }
  async later(): Promise<string> {
    return 'done';
  }
}

t.test('an async view runs the call at once, resolves its result, and turns a throw into a rejection', async (t) => {
  const c = new Counter(2);
  const v = asyncView(c);
  const p = v.add();
  t.equal(c.add(), 4, 'the call ran when it was made, not when awaited (calls keep their order)');
  t.equal(await p, 2);
  t.equal(await v.later(), 'done', 'a promise is not wrapped twice');
  let sync: unknown;
  let rejected: unknown;
  try {
    await v.fail().catch((e: unknown) => (rejected = e));
  } catch (e) {
    sync = e;
  }
  t.equal(sync, undefined, 'never a synchronous throw');
  t.match(rejected, { message: 'refused' });
  t.equal(v.step, 2, 'fields read through to the store');
});
