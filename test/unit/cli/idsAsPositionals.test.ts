import assert from 'node:assert/strict';
import { idsAsPositionals } from '../../../src/cli/args.js';

describe('parley CLI: ids that begin with a dash', () => {
  it('takes a trailing run of ids as positionals, order kept', () => {
    assert.deepEqual(idsAsPositionals(['attachments', 'compress', 'abc', '-wXyz', 'def']), [
      'attachments',
      'compress',
      'abc',
      '--',
      '-wXyz',
      'def',
    ]);
  });

  it('leaves options, option values, -h and an explicit -- alone', () => {
    for (const argv of [
      ['attachments', 'compress', '--all'],
      ['--secret', '-s3cret', 'sessions'],
      ['attachments', 'compress', '-wXyz', '--json'],
      ['-h'],
      ['attachments', 'compress', '--', '-wXyz'],
    ])
      assert.deepEqual(idsAsPositionals(argv), argv);
  });
});
