/**
 * The `replog` command line (see interfaces.md): cluster, replica, append,
 * read, truncate, status, bench. Errors print one line on stderr and exit
 * non-zero; --debug adds the stack.
 */
import { Command, Option } from 'commander';
import { LogClient } from '../client/log-client.js';
import { appendCommand } from './append.js';
import { clusterCommand } from './cluster.js';
import { fail, logAddresses, natural, port } from './common.js';
import { readCommand } from './read.js';
import { replicaCommand } from './replica.js';
import { stateCommand } from './state.js';
import { statusCommand } from './status.js';

const program = new Command('replog')
  .description('a durable, replicated, append-only log')
  .option('--debug', 'print stack traces with errors')
  .showHelpAfterError()
  .configureOutput({ outputError: (str, write) => write(`replog: ${str.replace(/^error: /, '')}`) });

const logOption = () => new Option('--log <addrs>', 'replica addresses HOST:PORT,... (default $REPLOG_LOG, then the local cluster)');

program
  .command('cluster')
  .description('run a local cluster of replica processes on 127.0.0.1')
  .option('--replicas <n>', 'how many replicas', natural, 3)
  .option('--dir <dir>', 'data directory (replica-<id> below it)', './data')
  .option('--port <port>', 'port of replica 1 (then +1, +2, ...)', port, 7001)
  .option('--admin-port <port>', 'admin HTTP port of replica 1 (then +1, ...)', port, 8001)
  .action((opts) => clusterCommand(opts));

program
  .command('replica')
  .description('run one replica until SIGTERM/SIGINT')
  .requiredOption('--id <id>', 'this replica\'s id (one of --members)', natural)
  .requiredOption('--dir <dir>', 'data directory')
  .requiredOption('--listen <host:port>', 'address to serve clients and peers on')
  .requiredOption('--members <list>', 'every member: 1=HOST:PORT,2=HOST:PORT,...')
  .option('--admin <host:port>', 'address for the admin HTTP endpoint (/status, /metrics)')
  .option('--cluster <id>', 'cluster id (default: derived from --members)')
  .action((opts) => replicaCommand(opts));

program
  .command('append')
  .description('append each DATA (or each line of stdin) as one entry; prints positions')
  .addOption(logOption())
  .argument('[data...]', 'entries to append; none: read lines from stdin')
  .action((data: string[], opts) => appendCommand(data, opts));

program
  .command('read')
  .description('print entries as POSITION<TAB>DATA')
  .addOption(logOption())
  .option('--from <p>', 'first position (default: the beginning)', natural)
  .option('--to <p>', 'last position (default: the end)', natural)
  .option('--follow', 'keep printing new entries')
  .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'base64']).default('text'))
  .action((opts) => readCommand(opts));

program
  .command('truncate')
  .description('remove every entry before position P')
  .addOption(logOption())
  .requiredOption('--to <p>', 'the new first position', natural)
  .action(async (opts: { log?: string; to: number }) => {
    const log = await LogClient.connect(logAddresses(opts.log));
    const w = await log.writer();
    const p = await w.truncate(opts.to);
    process.stdout.write(`${p}\n`);
    await log.close();
  });

program.addCommand(stateCommand(logOption));

program
  .command('status')
  .description('show each replica: id, address, status, begin, end, recovery')
  .addOption(logOption())
  .option('--json', 'one JSON document')
  .option('--watch', 'redraw every second until Ctrl-C')
  .action((opts) => statusCommand(opts));

program
  .command('bench')
  .description('the end-to-end benchmark: 3 replica processes on loopback, the machine\'s floor beside (see bench/replog.ts)')
  .option('--quick', 'a run of about 30 s')
  .option('--peer <system>', 'also measure etcd (installs etcd-server with apt-get if missing)')
  .option('--seconds <s>', 'measuring time per run')
  .option('--levels <list>', 'appends in flight, comma-separated (default 1,4,16,64,256,1024)')
  .option('--dir <dir>', 'where the temporary data directories go')
  .option('--out <dir>', 'where the results go (default bench/results)')
  .option('--profile', 'CPU-profile the client and replica 1')
  .action(async (opts: Record<string, string | boolean | undefined>) => {
    // The benchmark is part of the repository, not of the published package.
    const url = new URL('../../bench/replog.js', import.meta.url);
    let bench: { main(argv: readonly string[]): Promise<void> };
    try {
      bench = (await import(url.href)) as typeof bench;
    } catch (err) {
      throw new Error(`the benchmark is not available here (${(err as Error).message.split('\n')[0]}): run it from a repository checkout after \`npm run build\``);
    }
    const argv: string[] = [];
    for (const [k, v] of Object.entries(opts)) {
      const flag = `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      if (v === true) argv.push(flag);
      else if (typeof v === 'string') argv.push(flag, v);
    }
    await bench.main(argv);
    process.exit(0);
  });

program.parseAsync(process.argv).catch(fail);
