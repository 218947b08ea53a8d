// SPDX-License-Identifier: AGPL-3.0-or-later
// The pure helpers of static/js/share.js. Run: node --test tests/js/
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { canShare, shareData } from '../../static/js/share.js';

test('the share sheet gets the title and the link, nothing else', () => {
  assert.deepEqual(shareData('  Restore the breaks ', 'https://x.example/p/breaks/'),
    { title: 'Restore the breaks', url: 'https://x.example/p/breaks/' });
  assert.deepEqual(Object.keys(shareData(undefined, 'u')), ['title', 'url']);
});

test('the share button shows only where the browser has a share sheet for the data', () => {
  const data = shareData('t', 'https://x.example/p/t/');
  assert.equal(canShare({}, data), false);
  assert.equal(canShare(undefined, data), false);
  assert.equal(canShare({ share: async () => {} }, data), true);
  assert.equal(canShare({ share: async () => {}, canShare: () => false }, data), false);
  assert.equal(canShare({ share: async () => {}, canShare: (d) => d.url.startsWith('https:') }, data), true);
});
