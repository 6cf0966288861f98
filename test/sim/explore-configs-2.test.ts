// The second half of explore-configs.test.ts's configurations (every other one): the file is split so that
// each part stays under npm test's per-file timeout on a loaded 2-core machine.
process.env.REPLOG_EXPLORE_HALF = '2';
await import('./explore-configs.test.js');
