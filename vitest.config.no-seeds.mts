// The mutation run's test set without the whole-simulation seed tests (docs/testing.md, part full-e):
// test/sim/mutation-seeds.test.ts and core-regressions.test.ts run whole simulations, which every mutant of
// replica-node.ts and position-index.ts they cover runs in full (about 20 s a mutant). Without them a part
// measures a lower bound of its score (the seeds can only kill more), in minutes instead of hours.
import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.mts';

const seeds = ['test/sim/mutation-seeds.test.ts', 'test/sim/core-regressions.test.ts'];

export default mergeConfig(base, defineConfig({ test: { exclude: seeds } }));
