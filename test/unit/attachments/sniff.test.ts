import assert from 'node:assert/strict';
import { isAllowed, looksLikeText, sniff } from '../../../src/attachments/sniff.js';

describe('attachments/sniff', () => {
  it('detects types from the content, whatever the file was called', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    assert.equal((await sniff(png)).type, 'image/png');
    const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(64)]);
    assert.equal((await sniff(elf)).type, 'application/x-elf');
    assert.equal((await sniff(Buffer.from('%PDF-1.7\n'))).type, 'application/pdf');
  });

  it('calls UTF-8 without NUL text, anything else octet-stream', async () => {
    assert.deepEqual(await sniff(Buffer.from('hello, wörld\n')), { type: 'text/plain', ext: 'txt' });
    assert.equal((await sniff(Buffer.from([0x00, 0x9a, 0x00, 0x01, 0xc3]))).type, 'application/octet-stream');
    assert.ok(
      looksLikeText(Buffer.from('ü').subarray(0, 1)),
      'a character cut at the end of the head is fine',
    );
    assert.ok(!looksLikeText(Buffer.alloc(0)));
  });

  it('allows exact types and type/* wildcards only', () => {
    const allowed = ['image/*', 'application/pdf'];
    assert.ok(isAllowed('image/png', allowed));
    assert.ok(isAllowed('application/pdf', allowed));
    assert.ok(!isAllowed('application/x-elf', allowed));
    assert.ok(!isAllowed('imagex/png', allowed));
    assert.ok(isAllowed('application/x-elf', ['*/*']));
  });
});
