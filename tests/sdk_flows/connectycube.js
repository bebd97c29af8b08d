'use strict';
// The ConnectyCube JS SDK (npm `connectycube`) against an emulator: `node connectycube.js http://127.0.0.1:8184`.
//
// The SDK takes a full base URL in `endpoints.api_url` (http or https). Credentials: CB_APP_ID,
// CB_AUTH_KEY (the emulator's defaults otherwise). Chat over XMPP is not used: REST only.

const { baseUrl, check, run, sameSet, step } = require('./common');

const base = baseUrl('CB_API_URL');
const creds = {
  appId: Number(process.env.CB_APP_ID || 1),
  authKey: process.env.CB_AUTH_KEY || 'cb-auth-key',
};

run(async () => {
  const ConnectyCube = require('connectycube').default;
  ConnectyCube.init(creds, {
    endpoints: { api_url: base.href.replace(/\/+$/, ''), chat: base.hostname },
    debug: { mode: 0 },
  });
  const suffix = Date.now().toString(36);
  const password = 'secret-password-1';
  const className = `SdkNote${suffix}`;
  const userFields = (name) => ({
    login: `${name}_${suffix}`,
    password,
    email: `${name}.${suffix}@example.com`,
    full_name: name,
    tag_list: ['sdk', 'flow'],
    custom_data: JSON.stringify({ plan: 'pro' }),
  });

  // Sign-up before any session: the SDK sends the app's key in CB-AuthKey.
  const annSignup = await step('sign up ann (CB-AuthKey)', () => ConnectyCube.users.signup(userFields('ann')));
  const ann = annSignup.user;
  check(ann && Number.isInteger(ann.id) && ann.login === `ann_${suffix}`, 'sign-up answer', annSignup);
  // The server docs show user_tags as a comma string; the SDK's types say string[].
  const tags = typeof ann.user_tags === 'string' ? ann.user_tags.split(',') : ann.user_tags || [];
  sameSet(tags, ['sdk', 'flow'], 'user_tags');

  const appSession = await step('create app session', () => ConnectyCube.createSession());
  check(typeof appSession.token === 'string' && appSession.token.length > 0, 'no session token', appSession);
  check(appSession.user_id === 0, 'an application session has user_id 0', appSession);
  const bob = (await step('sign up bob', () => ConnectyCube.users.signup(userFields('bob')))).user;
  check(Number.isInteger(bob.id) && bob.id !== ann.id, 'second sign-up', bob);

  const loggedIn = await step('log in ann', () => ConnectyCube.auth.login({ login: ann.login, password }));
  check(loggedIn.id === ann.id, 'login returned another user', loggedIn);
  const session = await step('get session', () => ConnectyCube.getSession());
  check(session.user_id === ann.id && session.token === appSession.token, 'session after login', session);

  const updated = await step('update user', () =>
    ConnectyCube.users.update({ full_name: 'Ann Updated', phone: '+15550001' }),
  );
  check(updated.user.full_name === 'Ann Updated' && updated.user.phone === '+15550001', 'update', updated);
  const byId = await step('get user by id (v1)', () => ConnectyCube.users.get(ann.id));
  check(byId.user && byId.user.id === ann.id && byId.user.full_name === 'Ann Updated', 'get by id', byId);
  const v2 = await step('list users (v2) by ids', () =>
    ConnectyCube.users.getV2({ id: { in: [ann.id, bob.id] }, sort_desc: 'id' }),
  );
  check(v2.total_entries === 2, 'users v2 total_entries', v2);
  check(
    JSON.stringify(v2.items.map((u) => u.id)) === JSON.stringify([bob.id, ann.id]),
    'users v2 ids, newest first',
    v2.items,
  );
  const byLogin = await step('list users (v2) by login', () => ConnectyCube.users.getV2({ login: bob.login }));
  check(byLogin.items.length === 1 && byLogin.items[0].id === bob.id, 'users v2 by login', byLogin);

  const group = await step('create group dialog', () =>
    ConnectyCube.chat.dialog.create({ type: 2, name: 'SDK flow', occupants_ids: [bob.id], description: 'tests' }),
  );
  check(typeof group._id === 'string' && group.type === 2 && group.description === 'tests', 'group dialog', group);
  sameSet(group.occupants_ids, [ann.id, bob.id], 'group occupants');
  const direct = await step('create private dialog', () =>
    ConnectyCube.chat.dialog.create({ type: 3, occupants_ids: [bob.id] }),
  );
  check(direct.type === 3 && direct._id !== group._id, 'private dialog', direct);
  const renamed = await step('update dialog', () =>
    ConnectyCube.chat.dialog.update(group._id, { name: 'SDK flow renamed', extensions: { topic: 'sdk' } }),
  );
  check(renamed.name === 'SDK flow renamed', 'dialog rename', renamed);
  check(renamed.extensions && renamed.extensions.topic === 'sdk', 'dialog extensions', renamed);

  const sent = [];
  for (const text of ['hello from the SDK', 'second message']) {
    sent.push(
      await step(`send message "${text}"`, () =>
        ConnectyCube.chat.message.create({ chat_dialog_id: group._id, message: text, markable: 1 }),
      ),
    );
  }
  for (const message of sent) {
    check(typeof message._id === 'string' && message.sender_id === ann.id, 'message create', message);
    check(message.chat_dialog_id === group._id, 'message dialog id', message);
  }
  const history = await step('list messages', () =>
    ConnectyCube.chat.message.list({ chat_dialog_id: group._id, sort_asc: 'date_sent', limit: 10 }),
  );
  check(
    JSON.stringify(history.items.map((m) => m.message)) === JSON.stringify(['hello from the SDK', 'second message']),
    'message history',
    history.items,
  );
  const annDialogs = await step('list dialogs', () =>
    ConnectyCube.chat.dialog.list({ sort_desc: 'last_message_date_sent', limit: 10 }),
  );
  sameSet(annDialogs.items.map((d) => d._id), [group._id, direct._id], 'ann dialogs');
  check(annDialogs.total_entries === 2, 'dialog total_entries', annDialogs);
  check(annDialogs.items[0]._id === group._id, 'the dialog with the last message comes first', annDialogs.items);
  check(annDialogs.items[0].last_message === 'second message', 'last_message', annDialogs.items[0]);

  await step('log out ann', () => ConnectyCube.auth.logout());
  const bobUser = await step('log in bob', () => ConnectyCube.auth.login({ email: bob.email, password }));
  check(bobUser.id === bob.id, 'login by email', bobUser);
  const unread = await step('unread count', () =>
    ConnectyCube.chat.message.unreadCount({ chat_dialog_ids: [group._id, direct._id] }),
  );
  check(unread.total === 2 && unread[group._id] === 2 && unread[direct._id] === 0, 'unread counts', unread);
  await step('mark messages read', () =>
    ConnectyCube.chat.message.update(sent.map((m) => m._id).join(','), { chat_dialog_id: group._id, read: 1 }),
  );
  const unreadAfter = await step('unread count after reading', () =>
    ConnectyCube.chat.message.unreadCount({ chat_dialog_ids: [group._id] }),
  );
  check(unreadAfter.total === 0 && unreadAfter[group._id] === 0, 'unread after reading', unreadAfter);
  const bobDialogs = await step('list dialogs as bob', () => ConnectyCube.chat.dialog.list({ type: 2 }));
  check(
    bobDialogs.items.length === 1 && bobDialogs.items[0]._id === group._id,
    'type filter on dialogs',
    bobDialogs.items,
  );
  check(bobDialogs.items[0].unread_messages_count === 0, 'dialog unread_messages_count', bobDialogs.items[0]);

  const notes = [];
  notes.push(
    await step('create record alpha', () =>
      ConnectyCube.data.create(className, { title: 'alpha', score: 3, tags: ['sdk', 'alpha'] }),
    ),
  );
  const many = await step('create records beta and gamma (multi)', () =>
    ConnectyCube.data.create(className, [
      { title: 'beta', score: 7, tags: ['sdk', 'beta'] },
      { title: 'gamma', score: 9, tags: ['sdk', 'gamma'] },
    ]),
  );
  check(many.class_name === className && many.items.length === 2, 'multi create', many);
  notes.push(...many.items);
  for (const note of notes) {
    check(typeof note._id === 'string' && note.user_id === bob.id, 'record create', note);
  }
  const found = await step('query records', () =>
    ConnectyCube.data.list(className, { score: { gt: 5 }, sort_desc: 'score' }),
  );
  check(
    JSON.stringify(found.items.map((r) => r.title)) === JSON.stringify(['gamma', 'beta']),
    'score[gt]=5 sorted by score desc',
    found.items,
  );
  const byIds = await step('get records by ids', () => ConnectyCube.data.list(className, [notes[0]._id, notes[2]._id]));
  sameSet(byIds.items.map((r) => r._id), [notes[0]._id, notes[2]._id], 'records by ids');
  const inTitles = await step('query records with [in]', () =>
    ConnectyCube.data.list(className, { title: { in: ['alpha', 'beta'] } }),
  );
  sameSet(inTitles.items.map((r) => r._id), [notes[0]._id, notes[1]._id], 'title[in]');
  const changed = await step('update record', () =>
    ConnectyCube.data.update(className, { _id: notes[0]._id, score: 10, title: 'alpha2' }),
  );
  check(changed._id === notes[0]._id && changed.score === 10 && changed.title === 'alpha2', 'record update', changed);
  const byCriteria = await step('update records by criteria', () =>
    ConnectyCube.data.update(className, { search_criteria: { score: { gte: 9 } }, title: 'top' }),
  );
  check(byCriteria.total_found === 2, 'update by criteria total_found', byCriteria);
  sameSet(byCriteria.items.map((r) => r._id), [notes[0]._id, notes[2]._id], 'updated by criteria');
  check(byCriteria.items.every((r) => r.title === 'top'), 'criteria update applied', byCriteria.items);
  await step('delete one record', () => ConnectyCube.data.delete(className, notes[1]._id));
  const gone = await step('query deleted record', () => ConnectyCube.data.list(className, { title: 'beta' }));
  check(gone.items.length === 0, 'deleted record still listed', gone.items);
  const deletedMany = await step('delete records by ids', () =>
    ConnectyCube.data.delete(className, [notes[0]._id, notes[1]._id]),
  );
  sameSet(deletedMany.SuccessfullyDeleted.ids, [notes[0]._id], 'SuccessfullyDeleted');
  sameSet(deletedMany.NotFound.ids, [notes[1]._id], 'NotFound');
  const deletedByCriteria = await step('delete records by criteria', () =>
    ConnectyCube.data.delete(className, { score: { gt: 0 } }),
  );
  check(deletedByCriteria.total_deleted === 1, 'delete by criteria', deletedByCriteria);
  const left = await step('query after deletes', () => ConnectyCube.data.list(className));
  check(left.items.length === 0, 'records left', left.items);

  await step('delete private dialog', () => ConnectyCube.chat.dialog.delete(direct._id));
  const afterDelete = await step('list dialogs after delete', () => ConnectyCube.chat.dialog.list());
  sameSet(afterDelete.items.map((d) => d._id), [group._id], 'dialogs after delete');

  // Storage: create a file, upload its bytes to the URL the answer names, mark it complete.
  const bytes = Buffer.from(`attachment ${suffix}`);
  const blob = await step('upload file', () =>
    ConnectyCube.storage.createAndUpload({ file: bytes, name: 'note.txt', type: 'text/plain', size: bytes.length }),
  );
  check(Number.isInteger(blob.id) && typeof blob.uid === 'string' && blob.size === bytes.length, 'blob', blob);
  const info = await step('file info', () => ConnectyCube.storage.getInfo(blob.id));
  check(info.blob.blob_status === 'complete' && info.blob.size === bytes.length, 'blob marked complete', info);
  const downloaded = await step('download file', async () => {
    const response = await fetch(`${base.href.replace(/\/+$/, '')}/blobs/${blob.uid}/download`, {
      headers: { 'CB-Token': ConnectyCube.service.getSession().token },
    });
    return { status: response.status, text: await response.text() };
  });
  check(downloaded.status === 200 && downloaded.text === bytes.toString(), 'download', downloaded);
  const files = await step('list files', () => ConnectyCube.storage.list({ per_page: 10 }));
  check(files.items.length === 1 && files.items[0].blob.id === blob.id, 'bob\'s files', files.items);
  await step('delete file', () => ConnectyCube.storage.delete(blob.id));

  await step('log out bob', () => ConnectyCube.auth.logout());
  const appAgain = await step('session after logout', () => ConnectyCube.getSession());
  check(appAgain.user_id === 0, 'logout leaves an application session', appAgain);
  await step('destroy session', () => ConnectyCube.destroySession());
  const refused = await step('session is gone', () =>
    ConnectyCube.auth.getSession().then(
      () => null,
      (error) => error,
    ),
  );
  check(refused && refused.code === 401, 'no token: refused with 401', refused);

  return {
    vendor: 'connectycube',
    users: { ann: ann.id, bob: bob.id },
    logins: { ann: ann.login, bob: bob.login },
    password,
    class_name: className,
    dialogs: { group: group._id, private: direct._id },
    messages: sent.map((m) => m._id),
    unread: { before: unread, after: unreadAfter },
    file: { id: blob.id, uid: blob.uid, size: info.blob.size },
    records: {
      created: notes.map((n) => n._id),
      queried: found.items.map((r) => r._id),
      deleted: deletedMany.SuccessfullyDeleted.ids,
    },
  };
});
