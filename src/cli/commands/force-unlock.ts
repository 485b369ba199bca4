// `asgard force-unlock SPEC LOCK_ID`: break the remote-state lock left by a crashed apply, as
// Terraform's force-unlock. Only the lock whose ID is given is removed (the ID is in the message a
// refused apply prints), so a lock taken since by someone else is never broken by mistake.

import { CliError, EXIT, type Command } from '../command.js';
import { remoteError } from '../remote.js';
import { loadValidSpec, workspaceOf } from '../spec.js';
import { formatsOf, show } from '../view.js';
import { forceUnlockView } from '../views/force-unlock.js';

export const command: Command = {
  usage: 'asgard force-unlock SPEC LOCK_ID [--profile NAME]',
  help: `
When the warehouse is on S3 (warehouse = "s3://bucket/prefix", in the spec or the --profile), the
state, the model registry and the apply lock live beside it. An apply takes the lock with a
conditional write and removes it when it ends; an apply that crashed (killed, machine lost) leaves
it, and every later apply stops with "the state is locked … lock ID <ID>", naming who holds it,
where and since when. asgard never takes such a lock over by itself: another machine cannot tell a
crashed apply from a slow one. When you are sure the holder is gone, break it with this command
and the ID from that message. The lock is removed only if it still has that ID.

A local warehouse has no remote lock: a local apply's lock file is taken over when its process is gone.

Examples:
  asgard force-unlock pipelines/churn.asg 6f1c2d0e-8a8b-4a51-9d7e-2f3b1c0d9e4a --profile shared
  asgard force-unlock pipelines/churn.asg 6f1c2d0e-8a8b-4a51-9d7e-2f3b1c0d9e4a --format json`,
  options: [],
  formats: formatsOf(forceUnlockView),
  positionals: [2, 2],
  async run(ctx) {
    const [specPath, id] = ctx.positionals;
    const spec = await loadValidSpec(ctx, specPath);
    if (ctx.profile !== 'local' && !spec.ir.profiles[ctx.profile]) {
      throw new CliError(`unknown profile "${ctx.profile}" (this spec has: ${['local', ...Object.keys(spec.ir.profiles)].join(', ')})`);
    }
    const remote = workspaceOf(ctx, spec).remote(spec.ir);
    if (!remote) {
      throw new CliError(`the warehouse of profile ${ctx.profile} is local: there is no remote lock to break (force-unlock is for a warehouse on s3://)`);
    }
    const lock = remote.lock(specPath);
    const removed = await lock.forceUnlock(id).catch(remoteError);
    show(ctx, forceUnlockView, { removed, location: lock.where });
    return EXIT.ok;
  },
};
