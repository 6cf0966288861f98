/**
 * `replog replica`: runs one replica until SIGTERM or SIGINT, then stops it
 * cleanly. With --tls-*, SIGHUP re-reads the three files (certificate
 * rotation); bad new files are logged and the old ones stay in force.
 */
import { startReplica } from '../server/replica-server.js';
import { fail, readTls, tlsFiles, type TlsFlags } from './common.js';

export async function replicaCommand(opts: { id: number; dir: string; listen: string; members?: string; join?: string; admin?: string; cluster?: string } & TlsFlags): Promise<void> {
  const files = tlsFiles(opts);
  const replica = await startReplica({
    id: opts.id,
    dir: opts.dir,
    listen: opts.listen,
    ...(opts.members === undefined ? {} : { members: opts.members }),
    ...(opts.join === undefined ? {} : { join: opts.join }),
    admin: opts.admin,
    clusterId: opts.cluster,
    tls: files === undefined ? undefined : readTls(files),
  });
  const stop = () => {
    replica.stop().then(
      () => process.exit(0),
      (err) => fail(err),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.on('SIGHUP', () => {
    if (files === undefined) {
      process.stderr.write('replog: SIGHUP ignored: this replica runs without TLS\n');
      return;
    }
    try {
      replica.reloadTls(readTls(files));
    } catch (err) {
      // The replica logs in JSON on stderr: one line of the same kind, and it goes on with the old certificate.
      process.stderr.write(JSON.stringify({ level: 50, time: Date.now(), replica: opts.id, msg: `TLS rotation failed, the old certificate stays in force: ${(err as Error).message}` }) + '\n');
    }
  });
}
