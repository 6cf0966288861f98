/** `replog replica`: runs one replica until SIGTERM or SIGINT, then stops it cleanly. */
import { startReplica } from '../server/replica-server.js';
import { fail } from './common.js';

export async function replicaCommand(opts: { id: number; dir: string; listen: string; members: string; admin?: string; cluster?: string }): Promise<void> {
  const replica = await startReplica({
    id: opts.id,
    dir: opts.dir,
    listen: opts.listen,
    members: opts.members,
    admin: opts.admin,
    clusterId: opts.cluster,
  });
  const stop = () => {
    replica.stop().then(
      () => process.exit(0),
      (err) => fail(err),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
