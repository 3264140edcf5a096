import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JEMALLOC, startProsody, type RunningProsody } from '../../tools/servers/prosody.js';

/**
 * The rig's Prosody runs as the Ansible role deploys it: Lua's generational collector and jemalloc
 * (bench/JOURNAL.md, "Prosody's garbage collector and allocator"). A Prosody of its own, whichever
 * server the rest of the suite runs on.
 */
describe("the rig's Prosody runtime", () => {
  let dir: string;
  let prosody: RunningProsody;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-prosody-runtime-'));
    prosody = await startProsody({ dir, componentSecret: 'c', adminPassword: 'a' });
  });
  after(async () => {
    await prosody?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs with the generational collector, as the Ansible role configures it', async () => {
    const config = await readFile(join(dir, 'prosody.cfg.lua'), 'utf8');
    assert.match(config, /^gc = \{ mode = "generational" \}/m);
    assert.equal(prosody.gcMode, 'generational');
    const defaults = await readFile('ansible/roles/prosody/defaults/main.yml', 'utf8');
    assert.match(defaults, /^prosody_gc_mode: generational$/m);
  });

  it('runs with jemalloc preloaded, as the Ansible role installs it', async () => {
    const pid = (await readFile(join(dir, 'prosody.pid'), 'utf8')).trim();
    const maps = await readFile(`/proc/${pid}/maps`, 'utf8');
    assert.ok(maps.includes(JEMALLOC), `${JEMALLOC} is not mapped into Prosody (pid ${pid})`);
    assert.equal(prosody.allocator, 'jemalloc');
    const tasks = await readFile('ansible/roles/prosody/tasks/main.yml', 'utf8');
    assert.match(tasks, /Environment=LD_PRELOAD=\/usr\/lib\/.*libjemalloc\.so\.2/);
  });
});
