import assert from 'node:assert/strict';
import { backoffDelay } from '../../../src/util/backoff.js';

describe('backoffDelay', () => {
  it('doubles the ceiling per attempt and waits between half of it and all of it', () => {
    assert.deepEqual(
      [0, 1, 2, 3].map((a) => [backoffDelay(a, 60, () => 0), backoffDelay(a, 60, () => 1)]),
      [
        [500, 1000],
        [1000, 2000],
        [2000, 4000],
        [4000, 8000],
      ],
    );
  });
  it('caps at maxSeconds and treats a negative attempt as the first', () => {
    assert.equal(
      backoffDelay(30, 5, () => 1),
      5000,
    );
    assert.equal(
      backoffDelay(30, 5, () => 0),
      2500,
    );
    assert.equal(
      backoffDelay(-3, 60, () => 1),
      1000,
    );
  });
});
