import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const site = readFileSync(
  new URL('../../../ansible/roles/parley/templates/nginx-parley-site.conf.j2', import.meta.url),
  'utf8',
);

/** Statements of the template, comments removed, the format's quoted pieces joined. */
const statements = site
  .replace(/#.*$/gm, '')
  .split(';')
  .map((s) => s.replace(/\s+/g, ' ').trim());

describe('nginx site: access log', () => {
  it('logs requests with a format that carries no query string (?token=, ?ticket=)', () => {
    const format = statements.find((s) => /(^|[{}] )log_format parley_noquery /.test(s));
    assert.ok(format, 'a log_format parley_noquery');
    for (const v of ['$request ', '$request"', '$request_uri', '$args', '$query_string', '$arg_', '$http_referer'])
      assert.ok(!format.includes(v), `the format must not log ${v.trim()}`);
    assert.match(format, /\$uri\b/);
  });

  it('uses that format in every server block', () => {
    const servers = site.split(/^server \{/m).slice(1);
    assert.ok(servers.length >= 2);
    for (const s of servers) assert.match(s, /^\s*access_log \S+ parley_noquery;/m);
  });
});
