/**
 * The `replog` command line (see interfaces.md): cluster, replica, append,
 * read, truncate, status, check, bench. Errors print one line on stderr and exit
 * non-zero; --debug adds the stack.
 */
import { Command, Option } from 'commander';
import { LogClient } from '../client/log-client.js';
import { appendCommand } from './append.js';
import { checkCommand } from './check.js';
import { certsCreateCommand } from './certs.js';
import { clusterCommand } from './cluster.js';
import { configShowCommand, memberListCommand } from './config.js';
import { configSetCommand, memberAddCommand, memberIds, memberPromoteCommand, memberRemoveCommand, memberReplaceCommand, memberUpdateCommand } from './member.js';
import { EXIT, fail, usageError, logAddresses, natural, port, quietOnClosedPipe, clientOptions, tlsFlagOptions, useTlsFlags } from './common.js';
import { readCommand } from './read.js';
import { replicaCommand } from './replica.js';
import { stateCommand } from './state.js';
import { statusCommand } from './status.js';

quietOnClosedPipe();

const program = new Command('replog')
  .description('a durable, replicated, append-only log')
  .option('--debug', 'print stack traces with errors')
  .showHelpAfterError('(add --help for usage)')
  .configureOutput({ outputError: (str, write) => write(`replog: ${str.replace(/^error: /, '')}`) })
  // Bad usage (an unknown flag, a bad value) exits 2; --help and --version exit 0 (interfaces.md).
  .exitOverride((err) => process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.usage))
  .addHelpText(
    'after',
    `
Exit status: 0 ok, 1 failure, 2 bad usage, 3 no quorum reachable, 4 a condition failed.
Every command takes --log HOST:PORT,... (default $REPLOG_LOG, then 127.0.0.1:7001-7003),
and --tls-ca, --tls-cert, --tls-key for mutual TLS (default $REPLOG_TLS_CA, _CERT, _KEY).
Without them replog speaks plaintext (see docs/security.md).

Examples:
  $ npm start                                  # a local 3-replica cluster
  $ replog append hello world                  # prints the positions
  $ replog read --from 0 | head -1             # ends quietly when the reader stops
  $ replog status`,
  );

/** Adds an example to a command's --help. */
const example = (lines: string) => `\nExample:\n${lines}`;

const logOption = () => new Option('--log <addrs>', 'replica addresses HOST:PORT,... (default $REPLOG_LOG, then the local cluster)');

program
  .command('cluster')
  .description('run a local cluster of replica processes on 127.0.0.1')
  .option('--replicas <n>', 'how many replicas', natural, 3)
  .option('--dir <dir>', 'data directory (replica-<id> below it)', './data')
  .option('--port <port>', 'port of replica 1 (then +1, +2, ...)', port, 7001)
  .option('--admin-port <port>', 'admin HTTP port of replica 1 (then +1, ...)', port, 8001)
  .option('--tls', 'mutual TLS: make certificates in DIR/tls (once) and print the REPLOG_TLS_* a client needs')
  .addHelpText('after', example('  $ replog cluster --replicas 5 --dir /tmp/replog\n  $ replog cluster --tls'))
  .action((opts) => clusterCommand(opts));

program
  .command('replica')
  .description('run one replica until SIGTERM/SIGINT')
  .requiredOption('--id <id>', 'this replica\'s id (one of --members)', natural)
  .requiredOption('--dir <dir>', 'data directory')
  .requiredOption('--listen <host:port>', 'address to serve clients and peers on')
  .option('--members <list>', 'every member: 1=HOST:PORT,2=HOST:PORT,... (a new cluster\'s first configuration; after the first start only where to find the cluster)')
  .option('--join <addrs>', 'join a running cluster instead: addresses of some of its replicas HOST:PORT,... (the member is added with replog member add)')
  .option('--admin <host:port>', 'address for the admin HTTP endpoint (/status, /metrics)')
  .option('--cluster <id>', 'cluster id (default: derived from --members)')
  .addHelpText('after', '\nWith --tls-*, SIGHUP re-reads the three files (certificate rotation: new connections use them).')
  .addHelpText('after', example('  $ replog replica --id 1 --dir /var/lib/replog --listen 10.0.0.1:7001 \\\n      --members 1=10.0.0.1:7001,2=10.0.0.2:7001,3=10.0.0.3:7001 --admin 10.0.0.1:8001\n  $ replog member add 4 10.0.0.4:7001 && replog replica --id 4 --dir /var/lib/replog --listen 10.0.0.4:7001 --join 10.0.0.1:7001'))
  .action((opts) => {
    if ((opts.members === undefined) === (opts.join === undefined)) usageError('give either --members LIST (a new cluster, or the members of one) or --join ADDRS (a member added to a running cluster)');
    return replicaCommand(opts);
  });

program
  .command('append')
  .description('append each DATA (or each line of stdin) as one entry; prints positions')
  .addOption(logOption())
  .argument('[data...]', 'entries to append; none: read lines from stdin')
  .addHelpText('after', example('  $ replog append hello world\n  $ seq 1000 | replog append --log 10.0.0.1:7001,10.0.0.2:7001'))
  .action((data: string[], opts) => appendCommand(data, opts));

program
  .command('read')
  .description('print entries as POSITION<TAB>DATA')
  .addOption(logOption())
  .option('--from <p>', 'first position (default: the beginning)', natural)
  .option('--to <p>', 'last position (default: the end)', natural)
  .option('--follow', 'keep printing new entries')
  .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'base64']).default('text'))
  .addHelpText('after', example('  $ replog read --from 100 --to 200\n  $ replog read --follow --format json | jq .position'))
  .action((opts) => readCommand(opts));

program
  .command('truncate')
  .description('remove every entry before position P')
  .addOption(logOption())
  .requiredOption('--to <p>', 'the new first position', natural)
  .addHelpText('after', example('  $ replog truncate --to 5000'))
  .action(async (opts: { log?: string; to: number }) => {
    const log = await LogClient.connect(logAddresses(opts.log), clientOptions());
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
  .addHelpText('after', example('  $ replog status\n  $ replog status --watch'))
  .action((opts) => statusCommand(opts));

program
  .command('check')
  .description('compare the replicas\' copies of the chosen log (digests span by span); never repairs anything')
  .addOption(logOption())
  .option('--from <p>', 'first position to compare (default: the highest beginning)', natural)
  .option('--to <p>', 'last position to compare (default: the lowest learned prefix)', natural)
  .option('--span <n>', 'positions per digest compared (a mismatch is bisected within its span)', natural, 65_536)
  .option('--json', 'one JSON document')
  .addHelpText(
    'after',
    example('  $ replog check\n  ok: replicas 1, 2, 3 agree on positions 0 to 52311\n  $ replog check --from 100000 --json | jq .result') +
      '\n\nExit status: 0 the replicas agree, 1 a divergence was found (the first divergent position and replica are printed),\n3 fewer than a quorum answered or the check could not finish.',
  )
  .action((opts) => checkCommand(opts));

const config = program.command('config').description('the cluster\'s configuration');
config
  .command('show')
  .description('epoch, voters, learners, quorum size, failures tolerated, pending change')
  .addOption(logOption())
  .option('--json', 'one JSON document')
  .addHelpText('after', example('  $ replog config show --json'))
  .action((opts) => configShowCommand(opts));
config
  .command('set')
  .description('set the whole membership at once, among the current members, if the configuration is still at epoch N (else exit 4)')
  .requiredOption('--voters <ids>', 'the voters: ID,ID,...', memberIds)
  .option('--learners <ids>', 'the learners: ID,ID,... (default none)', memberIds, [])
  .requiredOption('--if-epoch <n>', 'only if the configuration\'s epoch is still N (replog config show)', natural)
  .addOption(logOption())
  .option('--json', 'print the configuration after the change as one JSON document')
  .addHelpText('after', example('  $ replog config show                       # epoch 3\n  $ replog config set --voters 1,2,4 --learners 5 --if-epoch 3'))
  .action((opts) => configSetCommand(opts));

const member = program.command('member').description('the members of the cluster');
member
  .command('list')
  .description('the configuration epoch, then a row a member: id, address, role, status, begin, end')
  .addOption(logOption())
  .option('--json', 'one JSON document')
  .addHelpText('after', example('  $ replog member list'))
  .action((opts) => memberListCommand(opts));
const waitOption = () => new Option('--wait <seconds>', 'how long to wait for a learner to catch up before a promotion (default 120)').argParser(natural);
member
  .command('add')
  .description('add member ID at HOST:PORT as a learner; with --voter, wait until it has caught up, then make it a voter')
  .argument('<id>', 'the new member\'s id (never used before)')
  .argument('<host:port>', 'its replica address')
  .option('--voter', 'then make it a voter, once it has caught up')
  .addOption(logOption())
  .addOption(waitOption())
  .option('--json', 'print the configuration after the change as one JSON document')
  .addHelpText('after', example('  $ replog member add 4 10.0.0.4:7001\n  $ replog replica --id 4 --dir /var/lib/replog --listen 10.0.0.4:7001 --join 10.0.0.1:7001   # on the new machine\n  $ replog member promote 4'))
  .action((id: string, address: string, opts) => memberAddCommand(id, address, opts));
member
  .command('promote')
  .description('make learner ID a voter once it has caught up (waits up to --wait seconds)')
  .argument('<id>', 'the learner\'s id')
  .addOption(logOption())
  .addOption(waitOption())
  .option('--json', 'print the configuration after the change as one JSON document')
  .action((id: string, opts) => memberPromoteCommand(id, opts));
member
  .command('remove')
  .description('remove member ID; refused when the reachable voters left would not form a quorum, unless --force')
  .argument('<id>', 'the member\'s id')
  .option('--force', 'skip the reachability check (never a safety rule)')
  .addOption(logOption())
  .option('--json', 'print the configuration after the change as one JSON document')
  .action((id: string, opts) => memberRemoveCommand(id, opts));
member
  .command('replace')
  .description('add NEW at HOST:PORT as a learner, wait until it has caught up, then swap OLD for NEW in one change')
  .argument('<old>', 'the member to replace')
  .argument('<new>', 'the new member\'s id')
  .argument('<host:port>', 'the new member\'s replica address')
  .addOption(logOption())
  .addOption(waitOption())
  .option('--json', 'print the configuration after the change as one JSON document')
  .action((old: string, fresh: string, address: string, opts) => memberReplaceCommand(old, fresh, address, opts));
member
  .command('update')
  .description('move member ID to HOST:PORT: run it, then restart the replica there on the same data directory')
  .argument('<id>', 'the member\'s id')
  .argument('<host:port>', 'its new replica address')
  .addOption(logOption())
  .option('--json', 'print the configuration after the change as one JSON document')
  .addHelpText('after', example('  $ replog member update 3 10.0.0.9:7001\n  $ replog replica --id 3 --dir /var/lib/replog --listen 10.0.0.9:7001 --join 10.0.0.1:7001   # on the new machine, with the old data directory'))
  .action((id: string, address: string, opts) => memberUpdateCommand(id, address, opts));

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
  .option('--tls', 'replog over mutual TLS, with certificates made for the run (it starts its own replicas: REPLOG_TLS_* are not used)')
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

const certs = program.command('certs').description('TLS certificates for a cluster (docs/security.md)');
certs
  .command('create')
  .description('write a CA (reused if DIR has one) and a key pair per replica and client, with the openssl command')
  .requiredOption('--dir <dir>', 'where to write ca.crt, ca.key, replica-ID.crt/.key, client-NAME.crt/.key')
  .option('--replicas <ids>', 'replica ids: 1,2,3')
  .option('--clients <names>', 'client names: app,admin (the name admin, or NAME:admin, has the admin role)')
  .option('--hosts <names>', 'DNS names or IP addresses the certificates name, besides localhost and 127.0.0.1')
  .option('--days <n>', 'lifetime of each replica and client certificate (the CA: 10 years)', natural, 365)
  .addHelpText('after', example('  $ replog certs create --dir ./certs --replicas 1,2,3 --clients app,admin --hosts db1.example.com'))
  .action((opts) => certsCreateCommand(opts));

/** Every command that connects or listens takes the TLS flags; they are read before its action runs. */
function addTlsFlags(cmd: Command): void {
  for (const sub of cmd.commands) {
    if (sub.options.some((o) => o.long === '--log') || sub.name() === 'replica') for (const o of tlsFlagOptions()) sub.addOption(o);
    addTlsFlags(sub);
  }
}
addTlsFlags(program);
program.hook('preAction', (_program, action) => useTlsFlags(action.opts()));

/** Commands added whole (`addCommand`) do not inherit the program's settings: give every command the same output and exit statuses. */
function inheritSettings(cmd: Command): void {
  for (const sub of cmd.commands) {
    sub.copyInheritedSettings(cmd);
    inheritSettings(sub);
  }
}
inheritSettings(program);

program.parseAsync(process.argv).catch(fail);
