/**
 * `replog state get|put|delete|list|watch`: the state store from the command
 * line (interfaces.md, "State"). Writes open the store as the log's writer
 * (fencing any other writer, as every `replog append` does); reads and watches
 * follow the log without writing. Exit status: 0 success; 1 a failure (a key
 * that does not exist, a compacted revision); 2 bad usage; 3 no quorum; 4 a
 * failed --if-revision condition (stderr names the key's current revision, 0
 * if it does not exist).
 */
import { Command, Option } from 'commander';
import { LogClient } from '../client/log-client.js';
import { InvalidArgumentError, NoQuorumError, ReplogError } from '../core/errors.js';
import { CompactedError } from '../state/errors.js';
import { StateStore } from '../state/store.js';
import type { KeyValue, WatchEvent } from '../state/types.js';
import { debug, logAddresses, natural, out, clientOptions } from './common.js';

/** The `state` command with its subcommands; `logOption` makes the shared --log option. */
export function stateCommand(logOption: () => Option): Command {
  const state = new Command('state').description('a replicated key-value store kept in the log (versioned keys, compare-and-set, watches)');
  state
    .command('put')
    .description('set KEY to VALUE; prints the new revision')
    .argument('<key>')
    .argument('<value>')
    .option('--if-revision <r>', "only if KEY's last modification revision is R (0: KEY must not exist)", natural)
    .addOption(logOption())
    .action((key: string, value: string, opts: { ifRevision?: number; log?: string }) =>
      run(opts.log, 'write', async (store) => {
        const r = await store.put(key, value, opts.ifRevision === undefined ? {} : { ifModRevision: opts.ifRevision });
        if (!r.ok) conditionFailed(key, opts.ifRevision!, r.current);
        await out(`${r.revision}\n`);
      }),
    );
  state
    .command('get')
    .description('print the value of KEY')
    .argument('<key>')
    .option('--json', 'print {"key", "value": "<base64>", "revision", "version"}')
    .addOption(logOption())
    .action((key: string, opts: { json?: boolean; log?: string }) =>
      run(opts.log, 'read', async (store) => {
        const kv = await store.get(key, { consistency: 'local' });
        if (kv === undefined) throw new MissingKey(key);
        await out(opts.json ? json(kv) : `${Buffer.from(kv.value).toString('utf8')}\n`);
      }),
    );
  state
    .command('delete')
    .description('delete KEY; prints the revision')
    .argument('<key>')
    .option('--if-revision <r>', "only if KEY's last modification revision is R", natural)
    .addOption(logOption())
    .action((key: string, opts: { ifRevision?: number; log?: string }) =>
      run(opts.log, 'write', async (store) => {
        const r = await store.delete(key, opts.ifRevision === undefined ? {} : { ifModRevision: opts.ifRevision });
        if (!r.ok) conditionFailed(key, opts.ifRevision!, r.current);
        if (!r.deleted) throw new MissingKey(key);
        await out(`${r.revision}\n`);
      }),
    );
  state
    .command('list')
    .description('print the keys (under --prefix), one a line')
    .option('--prefix <p>', 'only keys starting with P', '')
    .option('--json', 'one object a line, as get --json')
    .addOption(logOption())
    .action((opts: { prefix: string; json?: boolean; log?: string }) =>
      run(opts.log, 'read', async (store) => {
        const { kvs } = await store.range({ prefix: opts.prefix, consistency: 'local' });
        for (const kv of kvs) await out(opts.json ? json(kv) : `${kv.key}\n`);
      }),
    );
  state
    .command('watch')
    .description('print each change (under --prefix) as one JSON object a line, until Ctrl-C')
    .option('--prefix <p>', 'only keys starting with P', '')
    .option('--from-revision <r>', 'start at revision R (included) instead of the next change', natural)
    .addOption(logOption())
    .action((opts: { prefix: string; fromRevision?: number; log?: string }) =>
      run(opts.log, 'follow', async (store) => {
        const stop = new AbortController();
        process.once('SIGINT', () => stop.abort());
        process.once('SIGTERM', () => stop.abort());
        const watch = store.watch({ prefix: opts.prefix, signal: stop.signal, ...(opts.fromRevision === undefined ? {} : { fromRevision: opts.fromRevision }) });
        for await (const batch of watch) for (const e of batch.events) await out(eventLine(e, batch.revision));
      }),
    );
  return state;
}

class MissingKey extends ReplogError {
  override readonly code = 'STATE_NO_KEY';
  constructor(key: string) {
    super(`key '${key}' does not exist`);
  }
}

class ConditionFailed extends ReplogError {
  override readonly code = 'STATE_CONDITION_FAILED';
}

function conditionFailed(key: string, wanted: number, current: KeyValue | undefined): never {
  const now = current?.modRevision ?? 0;
  throw new ConditionFailed(`condition failed: key '${key}' is at revision ${now}${now === 0 ? ' (it does not exist)' : ''}, not ${wanted}`);
}

function json(kv: KeyValue): string {
  return JSON.stringify({ key: kv.key, value: Buffer.from(kv.value).toString('base64'), revision: kv.modRevision, version: kv.version }) + '\n';
}

function eventLine(e: WatchEvent, revision: number): string {
  if (e.type === 'put') return JSON.stringify({ type: 'put', key: e.kv.key, value: Buffer.from(e.kv.value).toString('base64'), revision }) + '\n';
  return JSON.stringify({ type: 'delete', key: e.key, revision }) + '\n';
}

/**
 * Opens the store (`write`: as the writer; `read`: a copy of the state as of
 * the log's end now, which is linearizable; `follow`: that copy kept up to
 * date), runs `body`, and exits with the status its outcome calls for.
 */
async function run(addrs: string | undefined, how: 'write' | 'read' | 'follow', body: (store: StateStore) => Promise<void>): Promise<void> {
  let status = 0;
  let log: LogClient | undefined;
  try {
    log = await LogClient.connect(logAddresses(addrs), clientOptions());
    const store = how === 'write' ? await StateStore.open(log, { snapshotEvery: false }) : await StateStore.follow(log);
    try {
      await body(store);
    } finally {
      await store.close();
    }
  } catch (err) {
    status = report(err);
  }
  await log?.close().catch(() => {});
  process.exit(status);
}

function report(err: unknown): number {
  const e = err as Error;
  const code = err instanceof ReplogError ? ` [${err.code}]` : '';
  process.stderr.write(`replog: ${e?.message ?? String(err)}${code}\n`);
  if (debug && e?.stack) process.stderr.write(e.stack + '\n');
  if (err instanceof ConditionFailed) return 4;
  if (err instanceof NoQuorumError) return 3;
  if (err instanceof InvalidArgumentError) return 2;
  if (err instanceof MissingKey || err instanceof CompactedError) return 1;
  return 1;
}
