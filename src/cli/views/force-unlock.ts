// `asgard force-unlock`: the lock that was broken, and where.

import type { LockInfo } from '../../warehouse/lock.js';
import type { View } from '../view.js';

export const forceUnlockView: View<{ readonly removed: LockInfo; readonly location: string }> = {
  text: ({ removed, location }) =>
    `Unlocked ${location}: lock ${removed.id} (${removed.operation} by ${removed.who}@${removed.host}, pid ${removed.pid}, since ${removed.created}).\n`,
  json: ({ removed, location }) => ({ unlocked: removed, location }),
};
