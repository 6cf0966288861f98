// The fault schedule is a function of its seed: a failing run's seed replays its faults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeSchedule, FAULT_KINDS, parseScheduleFile } from '../../src/nemesis/schedule.js';

const base = { timeMs: 120_000, replicaIds: [1, 2, 3], faults: [...FAULT_KINDS] };

test('same seed, same schedule; another seed, another', () => {
  assert.deepEqual(makeSchedule({ ...base, seed: 7 }), makeSchedule({ ...base, seed: 7 }));
  assert.notDeepEqual(makeSchedule({ ...base, seed: 7 }), makeSchedule({ ...base, seed: 8 }));
});

test('only the asked faults, none in the warm-up or the calm end, one at a time per lane', () => {
  for (let seed = 0; seed < 50; seed++) {
    const s = makeSchedule({ ...base, seed, faults: ['partition', 'kill'] });
    assert.ok(s.length > 5);
    for (const f of s) {
      assert.ok(f.fault.kind === 'partition' || f.fault.kind === 'kill');
      assert.ok(f.at >= 3000 && f.at + f.holdMs <= base.timeMs - 12_000);
      if (f.fault.kind === 'partition') for (const [a, b] of f.fault.cuts) assert.notEqual(a, b);
    }
    for (const kind of ['partition', 'kill']) {
      const lane = s.filter((f) => f.fault.kind === kind);
      for (let i = 1; i < lane.length; i++) assert.ok(lane[i]!.at >= lane[i - 1]!.at + lane[i - 1]!.holdMs);
    }
  }
  // Turning the process lane off leaves the link lane as it was.
  const both = makeSchedule({ ...base, seed: 3, faults: ['partition', 'kill'] }).filter((f) => f.fault.kind === 'partition');
  assert.deepEqual(makeSchedule({ ...base, seed: 3, faults: ['partition'] }), both);
  const kills = makeSchedule({ ...base, seed: 3, faults: ['partition', 'kill'] }).filter((f) => f.fault.kind === 'kill');
  assert.deepEqual(makeSchedule({ ...base, seed: 3, faults: ['kill'] }), kills);
});

test('a schedule.json replays: the schedule survives JSON, and a file naming unknown faults or hosts is refused', () => {
  const schedule = makeSchedule({ ...base, seed: 11 });
  const file = { seed: 11, timeMs: base.timeMs, replicaIds: base.replicaIds, faults: base.faults, schedule };
  const back = parseScheduleFile(JSON.stringify(file));
  assert.deepEqual(back.schedule, schedule);
  assert.deepEqual(back.faults, base.faults);
  // An edited file keeps what is left.
  assert.deepEqual(parseScheduleFile(JSON.stringify({ ...file, schedule: schedule.slice(1, 3) })).schedule, schedule.slice(1, 3));
  const bad = (f: object) => assert.throws(() => parseScheduleFile(JSON.stringify({ ...file, ...f })), /schedule file/);
  bad({ schedule: [{ at: 5000, holdMs: 1000, fault: { kind: 'meteor', target: 1 } }] });
  bad({ schedule: [{ at: 5000, holdMs: 1000, fault: { kind: 'kill', targets: [4] } }] });
  bad({ schedule: [{ at: 5000, holdMs: 1000, fault: { kind: 'partition', shape: 'x', cuts: [[1, 9]] } }] });
  bad({ schedule: [{ at: base.timeMs, holdMs: 1000, fault: { kind: 'wipe', target: 1 } }] });
  bad({ seed: 'x' });
});

test('replace (a membership change) is drawn only when asked for, and a replayed file may name it', () => {
  for (let seed = 0; seed < 20; seed++) assert.ok(makeSchedule({ ...base, seed }).every((f) => f.fault.kind !== 'replace'), 'the defaults never replace');
  const s = makeSchedule({ ...base, seed: 7, faults: ['kill', 'replace'] });
  assert.ok(s.some((f) => f.fault.kind === 'replace' && base.replicaIds.includes(f.fault.target)));
  const file = { seed: 7, timeMs: base.timeMs, replicaIds: base.replicaIds, faults: ['kill', 'replace'], schedule: s };
  assert.deepEqual(parseScheduleFile(JSON.stringify(file)).schedule, s);
});
