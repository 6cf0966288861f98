// A config entry (docs/reconfiguration.md, step 2) is chosen, learned and
// settled by a fill intact, and reads never return it (it is not an
// application's entry). Since step 4 it is also a stop sign (R5): a read that
// finds one chosen for a configuration its view does not know stops there and
// names it. The test hands one to the writer directly, as a plain value (the
// change path is test/core/reconfig-writer.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './harness.js';
import type { Configuration } from '../../src/core/membership.js';
import { actionsEqual, describeAction } from '../../src/core/actions.js';

const config: Configuration = { epoch: 1, voters: [{ id: 1, address: 'h1:1' }, { id: 2, address: 'h2:2' }, { id: 3, address: 'h3:3' }], learners: [{ id: 4, address: 'h4:4' }], nextId: 5, changeId: 'c-1' };

test('a read never returns a config entry: it stops at one of a configuration it does not know and names it (R5)', () => {
  const c = new Cluster(3);
  c.elect('w');
  c.run();
  c.append('w', 'a');
  c.append('w', { kind: 'config', config });
  c.append('w', 'b');
  c.run();
  const r = c.read('rd', 0, 10);
  c.run();
  assert.deepEqual(c.reads.get(r), { ok: false, error: 'stale-config', config: { epoch: 1, position: 2 } });
  const learned = c.store(1).action(2);
  assert.ok(learned !== undefined && learned !== 'lost' && learned.kind === 'config');
  assert.deepEqual(learned.config, config);
  c.checkAgreement();
});

test('a config entry whose commit was lost is settled intact by a reader\'s fill (with the joint count: the next voters that hold the log below it)', () => {
  const c = new Cluster(3);
  c.elect('w', [1, 3]);
  c.run();
  c.dropIf = (e) => e.msg.type === 'commit';
  const a = c.append('w', { kind: 'config', config });
  c.run();
  assert.equal(c.results.get(a)?.ok, true);
  c.dropIf = () => false;
  const r = c.read('rd', 0, 5);
  c.run();
  assert.deepEqual(c.reads.get(r), { ok: false, error: 'stale-config', config: { epoch: 1, position: 1 } });
  const settled = c.store(2).action(1);
  assert.ok(settled !== undefined && settled !== 'lost' && settled.kind === 'config', 'the fill taught replica 2 the entry');
  assert.deepEqual(settled.config, config);
  c.checkAgreement();
});

test('a promise keeps the stored chain and cluster id in the metadata it writes (they are carried, not rebuilt)', () => {
  const c = new Cluster(3);
  const configs = [{ ...config, epoch: 0, learners: [], nextId: 4, position: -1, floor: 0, changeId: undefined }];
  for (const id of c.ids) {
    const s = c.store(id);
    s.append([{ type: 'metadata', metadata: { ...s.metadata(), clusterId: 'c-kept', configs } }]);
  }
  c.elect('w');
  c.run();
  for (const id of c.ids) {
    const meta = c.store(id).metadata();
    assert.ok(meta.promised > 0, `replica ${id} promised`);
    assert.equal(meta.clusterId, 'c-kept');
    assert.deepEqual(meta.configs, configs);
  }
});

test('config entries compare by value', () => {
  const a = { kind: 'config', config } as const;
  assert.ok(actionsEqual(a, { kind: 'config', config: { ...config, voters: [...config.voters] } }));
  assert.ok(!actionsEqual(a, { kind: 'config', config: { ...config, changeId: 'c-2' } }));
  assert.ok(!actionsEqual(a, { kind: 'nop' }));
  assert.ok(!actionsEqual({ kind: 'nop' }, a));
  assert.equal(describeAction(a), 'CONFIG(epoch 1)');
});
