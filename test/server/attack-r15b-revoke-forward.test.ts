// Attack on R15's revocation (claim d: "a withdrawn request is revoked where the withdrawal reaches"), cosmetic.
// A replica that authorises a request for the first time (it restarted, and the asker's last poll reached it)
// forwards it over its peer links; a forward that arrives at another replica after the asker's withdrawal
// re-authorises it there for ten minutes: ChangeAuthority keeps no memory of what it revoked. What a plain
// writer can make of it there is what it could make at a replica the withdrawal never reached (the doc's
// own bound), so this is the claim's wording, not a new power.
//
// Checked and held (no test kept): the race where the writer's take reaches one replica just before the
// withdrawal (answered `taken`) while the others answer `withdrawn` and revoke. The asker then polls on, and
// every poll is an offer, which authorises the request again everywhere it reaches (replica-server.ts
// authorise on each non-withdrawal offer), so the writer's config write is admitted within a poll.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeAuthority } from '../../src/server/change-authority.js';
import type { ChangeRequest } from '../../src/core/writer.js';

const request: ChangeRequest = { id: 'admin-1', ifEpoch: 0, change: { kind: 'remove', id: 3 } };

test('attack-r15b: a request revoked by a withdrawal is not authorised again by a forward that arrives after it', () => {
  const a = new ChangeAuthority({ now: () => 0 });
  assert.equal(a.add(request), true); // the admin's offer reached this replica
  a.revoke(request.id); // the admin's withdrawal (its relay answered withdrawn)
  a.add(request); // a peer's changeForward, sent when that peer first held the request, arriving late
  assert.equal(a.get(request.id), undefined, 'the withdrawn request is authorised here again for ten minutes');
});
