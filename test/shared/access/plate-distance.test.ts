import t from 'tap';
import { COST_EPSILON, editBudget, plateDistance } from '../../../shared/access/plate-distance.js';

const exact = { confusable: false, confusableCost: 0 };
const free = { confusable: true, confusableCost: 0 };
const tenth = { confusable: true, confusableCost: 0.1 };

t.test('look-alike swaps cost confusable_cost in confusable mode, 1 in exact mode', async (t) => {
  t.equal(plateDistance('S8O123', 'SB0123', free), 0, 'B/8 and O/0 are free at cost 0');
  t.equal(plateDistance('S8O123', 'SB0123', { confusable: true, confusableCost: 0.25 }), 0.5);
  t.equal(plateDistance('S8O123', 'SB0123', exact), 2, 'exact mode: each look-alike is an ordinary substitution');
  t.equal(plateDistance('OD', '0O', free), 0, 'letters sharing a digit look-alike (D and O) are look-alikes too');
});

t.test('any other edit costs 1: substitution, insertion, deletion', async (t) => {
  t.equal(plateDistance('AB123', 'AB124', free), 1);
  t.equal(plateDistance('AB1234', 'AB123', free), 1, 'an extra character');
  t.equal(plateDistance('AB13', 'AB123', free), 1, 'a missing character');
  t.equal(plateDistance('XB12', 'AB123', free), 2);
  t.equal(plateDistance('', 'AB', free), 2);
});

t.test('the lowest-cost alignment wins (a swap, not a deletion plus an insertion)', async (t) => {
  t.equal(plateDistance('ABO', 'AB0', { confusable: true, confusableCost: 1 }), 1);
  t.equal(plateDistance('ABO', 'AB0', tenth), 0.1);
});

t.test('limit: past it the answer is Infinity; fractions are compared with a tolerance', async (t) => {
  t.equal(plateDistance('AB124', 'AB123', free, 0.5), Infinity);
  t.equal(plateDistance('ZZZZZZ', 'AB123', free, 1), Infinity, 'cut off early');
  t.equal(plateDistance('AB1', 'AB12345', free, 3), Infinity, 'length difference over the limit');
  const three = plateDistance('OIS', '015', tenth, 0.3);
  t.ok(three !== Infinity && Math.abs(three - 0.3) < COST_EPSILON, 'three swaps at 0.1 fit a limit of 0.3 despite floating point');
  t.equal(editBudget(0.3), 0);
  t.equal(editBudget(1), 1);
  t.equal(editBudget(1.5), 1);
  t.equal(editBudget(0.1 + 0.2 + 0.7), 1, '0.1 + 0.2 + 0.7 is one whole edit');
});
