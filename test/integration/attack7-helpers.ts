// What the attack7 multi-process tests share: a CLI run against chosen replicas with a deadline, its
// success check, and a replica's /status (undefined while it does not answer).
import assert from 'node:assert/strict';
import { runCli, type CliResult, type TestCluster } from './helpers.js';

export function attackTools(cluster: TestCluster, deadlineMs: number) {
  const addr = (id: number) => cluster.replica(id).address;
  const gaveUp: CliResult = { code: null, stdout: '', stderr: `gave up after ${deadlineMs / 1000} s` };
  return {
    addr,
    /** `--members` naming replicas 1, 2 and 3, the founders. */
    founders: () => ['--members', [1, 2, 3].map((id) => `${id}=${addr(id)}`).join(',')],
    cli: (args: string[], log: number[]): Promise<CliResult> =>
      Promise.race([runCli([...args, '--log', log.map(addr).join(',')]), new Promise<CliResult>((res) => setTimeout(() => res(gaveUp), deadlineMs).unref())]),
    statusOf: async (id: number): Promise<Record<string, unknown> | undefined> => {
      try {
        return (await (await fetch(`http://${cluster.replica(id).adminAddress!}/status`)).json()) as Record<string, unknown>;
      } catch {
        return undefined;
      }
    },
  };
}

/** The command's stdout, after asserting it exited 0. */
export function ok(r: CliResult, what: string): string {
  assert.equal(r.code, 0, `${what}: exit ${r.code}, stderr: ${r.stderr}`);
  return r.stdout;
}
