import assert from 'node:assert/strict';
import xml from '@xmpp/xml';
import {
  attachmentsField,
  oobElements,
  readAttachments,
  typeFromName,
} from '../../../src/attachments/oob.js';
import { safeName, thumbnailUrl } from '../../../src/attachments/AttachmentService.js';
import { NS } from '../../../src/xmpp/ns.js';

const cat = {
  url: 'https://p.example/files/AAAAAAAAAAAAAAAAAAAAAA/cat.png',
  name: 'cat.png',
  size: 10,
  type: 'image/png',
  thumbnail: 'https://p.example/files/AAAAAAAAAAAAAAAAAAAAAA/thumb/cat.png',
};

describe('attachments/oob', () => {
  it('builds one XEP-0066 element per attachment', () => {
    const [el] = oobElements([cat]);
    assert.equal(el!.toString(), `<x xmlns="${NS.oob}"><url>${cat.url}</url><desc>cat.png</desc></x>`);
  });

  it("reads a Parley sender's metadata back, and only for URLs the stanza carries", () => {
    const msg = xml('message', {}, xml('body', {}, 'hi'), ...oobElements([cat]));
    assert.deepEqual(
      readAttachments(msg, { attachments: [cat, { ...cat, url: 'https://evil.example/x' }] }),
      [cat],
    );
  });

  it("describes a native client's OOB URL from the URL itself", () => {
    const msg = xml(
      'message',
      {},
      xml('x', { xmlns: NS.oob }, xml('url', {}, 'https://up.example/a/b/My%20Song.mp3')),
    );
    assert.deepEqual(readAttachments(msg, null), [
      { url: 'https://up.example/a/b/My%20Song.mp3', name: 'My Song.mp3', size: null, type: 'audio/mpeg' },
    ]);
    const bad = xml('message', {}, xml('x', { xmlns: NS.oob }, xml('url', {}, 'javascript:alert(1)')));
    assert.deepEqual(readAttachments(bad, null), [], 'only http(s) URLs');
    assert.deepEqual(attachmentsField([]), {});
    assert.equal(typeFromName('x.unknown'), 'application/octet-stream');
  });

  it('keeps file names safe and derives thumbnail URLs', () => {
    assert.equal(safeName('../../etc/passwd', 'bin'), 'passwd');
    assert.equal(safeName('C:\\Users\\me\\a.txt', 'txt'), 'a.txt');
    assert.equal(safeName('\u202egnp.exe', 'png'), 'gnp.exe');
    assert.equal(safeName('', 'png'), 'file.png');
    assert.equal(safeName('...', 'png'), 'file.png');
    assert.equal(
      thumbnailUrl('https://p.example/files/ID/cat.png'),
      'https://p.example/files/ID/thumb/cat.png',
    );
  });
});
