'use strict';
// The QuickBlox JS SDK (npm `quickblox`) against an emulator: `node quickblox.js https://127.0.0.1:8181`.
//
// The SDK always builds https:// URLs from `endpoints.api` (host[:port]), so the emulator must run
// with --tls-cert/--tls-key; for a self-signed certificate set NODE_EXTRA_CA_CERTS (or
// NODE_TLS_REJECT_UNAUTHORIZED=0). Credentials: QB_APP_ID, QB_AUTH_KEY, QB_AUTH_SECRET,
// QB_ACCOUNT_KEY (the emulator's defaults otherwise). Chat over XMPP is not used: REST only.

const { baseUrl, callback, check, run, sameSet, step } = require('./common');

const base = baseUrl('QB_API_URL');
const creds = {
  appId: Number(process.env.QB_APP_ID || 1),
  authKey: process.env.QB_AUTH_KEY || 'qb-auth-key',
  authSecret: process.env.QB_AUTH_SECRET || 'qb-auth-secret',
  accountKey: process.env.QB_ACCOUNT_KEY || 'qb-account-key',
};

run(async () => {
  check(base.protocol === 'https:', 'the QuickBlox SDK only speaks https: start the emulator with --tls-cert/--tls-key');
  const QB = require('quickblox');
  // endpoints.api is host[:port]; a non-shared api endpoint also stops the account_settings lookup.
  QB.init(creds.appId, creds.authKey, creds.authSecret, creds.accountKey, {
    endpoints: { api: base.host, chat: base.hostname },
    debug: { mode: 0 },
  });
  const suffix = Date.now().toString(36);
  const password = 'secret-password-1';
  const className = `SdkNote${suffix}`;

  // The dashboard's part: a custom-object class, made with the account's API key.
  await step('create class (API key)', async () => {
    const made = await callback((cb) =>
      QB.service.ajax(
        {
          url: `https://${base.host}/class.json`,
          type: 'POST',
          contentType: 'application/json; charset=utf-8',
          isNeedStringify: true,
          headers: { Authorization: `ApiKey ${creds.accountKey}` },
          data: { name: className, fields: { title: 'String', score: 'Integer', tags: 'String_a' } },
        },
        cb,
      ),
    );
    // the SDK turns a connection failure into an empty success (" "): say so
    check(made !== ' ', `no answer from ${base.origin}: is the emulator running there, with TLS?`);
    check(made && made.name === className, 'class not created', made);
  });

  const appSession = await step('create app session', () => callback((cb) => QB.createSession(cb)));
  check(appSession && typeof appSession.token === 'string' && appSession.token.length > 0, 'no session token', appSession);
  check(appSession.user_id === 0, 'an application session has user_id 0', appSession);
  check(appSession.application_id === creds.appId, 'wrong application_id', appSession);
  const current = await step('get session', () => callback((cb) => QB.getSession(cb)));
  check(current.session && current.session.token === appSession.token, 'getSession returned another session', current);

  const signUp = (name) =>
    callback((cb) =>
      QB.users.create(
        {
          login: `${name}_${suffix}`,
          password,
          email: `${name}.${suffix}@example.com`,
          full_name: name,
          tag_list: 'sdk,flow',
          custom_data: JSON.stringify({ plan: 'pro' }),
        },
        cb,
      ),
    );
  const ann = await step('sign up ann', () => signUp('ann'));
  const bob = await step('sign up bob', () => signUp('bob'));
  for (const user of [ann, bob]) {
    check(Number.isInteger(user.id) && user.id > 0, 'user has no id', user);
    check(user.user_tags === 'sdk,flow', 'tag_list not stored as user_tags', user);
  }

  const loggedIn = await step('log in ann', () =>
    callback((cb) => QB.login({ login: ann.login, password }, cb)),
  );
  check(loggedIn.id === ann.id && loggedIn.login === ann.login, 'login returned another user', loggedIn);

  const updated = await step('update user', () =>
    callback((cb) => QB.users.update(ann.id, { full_name: 'Ann Updated', phone: '+15550001' }, cb)),
  );
  check(updated.full_name === 'Ann Updated' && updated.phone === '+15550001', 'update not applied', updated);
  const got = await step('get user by id', () => callback((cb) => QB.users.get(ann.id, cb)));
  check(got.id === ann.id && got.full_name === 'Ann Updated', 'get by id', got);
  const byLogin = await step('get user by login', () =>
    callback((cb) => QB.users.get({ login: bob.login }, cb)),
  );
  check(byLogin.id === bob.id, 'get by login', byLogin);
  const listed = await step('list users with a filter', () =>
    callback((cb) =>
      QB.users.listUsers(
        {
          filter: { field: 'login', param: 'in', value: [ann.login, bob.login] },
          order: { sort: 'desc', field: 'login' },
          per_page: 10,
        },
        cb,
      ),
    ),
  );
  check(listed.total_entries === 2, 'filtered list total_entries', listed);
  check(
    JSON.stringify(listed.items.map((item) => item.user.id)) === JSON.stringify([bob.id, ann.id]),
    'filtered list order',
    listed.items,
  );

  const group = await step('create group dialog', () =>
    callback((cb) => QB.chat.dialog.create({ type: 2, name: 'SDK flow', occupants_ids: [bob.id] }, cb)),
  );
  check(typeof group._id === 'string' && group.type === 2, 'group dialog', group);
  sameSet(group.occupants_ids, [ann.id, bob.id], 'group occupants');
  const direct = await step('create private dialog', () =>
    callback((cb) => QB.chat.dialog.create({ type: 3, occupants_ids: [bob.id] }, cb)),
  );
  check(direct.type === 3 && direct._id !== group._id, 'private dialog', direct);
  const renamed = await step('update dialog', () =>
    callback((cb) => QB.chat.dialog.update(group._id, { name: 'SDK flow renamed' }, cb)),
  );
  check(renamed.name === 'SDK flow renamed', 'dialog rename', renamed);

  const sent = [];
  for (const text of ['hello from the SDK', 'second message']) {
    sent.push(
      await step(`send message "${text}"`, () =>
        callback((cb) =>
          QB.chat.message.create({ chat_dialog_id: group._id, message: text, send_to_chat: 1, markable: 1 }, cb),
        ),
      ),
    );
  }
  for (const message of sent) {
    check(typeof message._id === 'string' && message.sender_id === ann.id, 'message create', message);
    check(message.chat_dialog_id === group._id, 'message dialog id', message);
  }
  const history = await step('list messages', () =>
    callback((cb) => QB.chat.message.list({ chat_dialog_id: group._id, sort_asc: 'date_sent', limit: 10 }, cb)),
  );
  check(
    JSON.stringify(history.items.map((m) => m.message)) === JSON.stringify(['hello from the SDK', 'second message']),
    'message history',
    history.items,
  );
  const annDialogs = await step('list dialogs', () =>
    callback((cb) => QB.chat.dialog.list({ sort_desc: 'last_message_date_sent', limit: 10 }, cb)),
  );
  sameSet(annDialogs.items.map((d) => d._id), [group._id, direct._id], 'ann dialogs');
  check(annDialogs.total_entries === 2, 'dialog total_entries', annDialogs);
  check(annDialogs.items[0]._id === group._id, 'the dialog with the last message comes first', annDialogs.items);
  check(annDialogs.items[0].last_message === 'second message', 'last_message', annDialogs.items[0]);

  await step('log out ann', () => callback((cb) => QB.logout(cb)));
  const bobUser = await step('log in bob', () => callback((cb) => QB.login({ email: bob.email, password }, cb)));
  check(bobUser.id === bob.id, 'login by email', bobUser);
  const unread = await step('unread count', () =>
    callback((cb) => QB.chat.message.unreadCount({ chat_dialog_ids: [group._id, direct._id] }, cb)),
  );
  check(unread.total === 2 && unread[group._id] === 2 && unread[direct._id] === 0, 'unread counts', unread);
  await step('mark messages read', () =>
    callback((cb) =>
      QB.chat.message.update(sent.map((m) => m._id).join(','), { chat_dialog_id: group._id, read: 1 }, cb),
    ),
  );
  const unreadAfter = await step('unread count after reading', () =>
    callback((cb) => QB.chat.message.unreadCount({ chat_dialog_ids: [group._id] }, cb)),
  );
  check(unreadAfter.total === 0 && unreadAfter[group._id] === 0, 'unread after reading', unreadAfter);
  const bobDialogs = await step('list dialogs as bob', () => callback((cb) => QB.chat.dialog.list({ type: 2 }, cb)));
  check(
    bobDialogs.items.length === 1 && bobDialogs.items[0]._id === group._id,
    'type filter on dialogs',
    bobDialogs.items,
  );
  check(bobDialogs.items[0].unread_messages_count === 0, 'dialog unread_messages_count', bobDialogs.items[0]);

  const notes = [];
  for (const [title, score] of [['alpha', 3], ['beta', 7], ['gamma', 9]]) {
    notes.push(
      await step(`create record ${title}`, () =>
        callback((cb) => QB.data.create(className, { title, score, tags: ['sdk', title] }, cb)),
      ),
    );
  }
  for (const note of notes) {
    check(typeof note._id === 'string' && note.user_id === bob.id, 'record create', note);
  }
  const found = await step('query records', () =>
    callback((cb) => QB.data.list(className, { score: { gt: 5 }, sort_desc: 'score' }, cb)),
  );
  check(
    JSON.stringify(found.items.map((r) => r.title)) === JSON.stringify(['gamma', 'beta']),
    'score[gt]=5 sorted by score desc',
    found.items,
  );
  check(found.class_name === className, 'record list class_name', found);
  const inTags = await step('query records by array field', () =>
    callback((cb) => QB.data.list(className, { tags: { in: 'alpha,beta' } }, cb)),
  );
  sameSet(inTags.items.map((r) => r._id), [notes[0]._id, notes[1]._id], 'tags[in]');
  const paged = await step('page records', () =>
    callback((cb) => QB.data.list(className, { sort_asc: 'score', skip: 1, limit: 1 }, cb)),
  );
  check(paged.skip === 1 && paged.limit === 1, 'skip/limit echoed', paged);
  check(paged.items.length === 1 && paged.items[0]._id === notes[1]._id, 'second record by score', paged.items);
  const changed = await step('update record', () =>
    callback((cb) => QB.data.update(className, { _id: notes[0]._id, score: 10, title: 'alpha2' }, cb)),
  );
  check(changed._id === notes[0]._id && changed.score === 10 && changed.title === 'alpha2', 'record update', changed);
  const one = await step('delete one record', () => callback((cb) => QB.data.delete(className, notes[1]._id, cb)));
  check(one.deletedCount === 1, 'delete one', one);
  const many = await step('delete records by ids', () =>
    callback((cb) => QB.data.delete(className, [notes[0]._id, notes[2]._id], cb)),
  );
  sameSet(many.deleted, [notes[0]._id, notes[2]._id], 'delete by ids');
  const left = await step('query after deletes', () => callback((cb) => QB.data.list(className, cb)));
  check(left.items.length === 0, 'records left', left.items);

  // Content: create a blob, upload its bytes to the URL the answer names, mark it complete, download.
  const bytes = Buffer.from(`attachment ${suffix}`);
  const blob = await step('upload file', () =>
    callback((cb) =>
      QB.content.createAndUpload({ file: bytes, name: 'note.txt', type: 'text/plain', size: bytes.length }, cb),
    ),
  );
  check(Number.isInteger(blob.id) && typeof blob.uid === 'string' && blob.name === 'note.txt', 'blob', blob);
  const info = await step('file info', () => callback((cb) => QB.content.getInfo(blob.id, cb)));
  check(info.blob.blob_status === 'complete' && info.blob.size === bytes.length, 'blob marked complete', info);
  const downloaded = await step('download file (private URL)', async () => {
    const response = await fetch(QB.content.privateUrl(blob.uid));
    return { status: response.status, text: await response.text() };
  });
  check(downloaded.status === 200 && downloaded.text === bytes.toString(), 'download', downloaded);
  const files = await step('list files', () => callback((cb) => QB.content.list({ per_page: 10 }, cb)));
  check(
    files.items.length === 1 && files.items[0].blob.id === blob.id,
    'bob\'s files',
    files.items,
  );
  await step('delete file', () => callback((cb) => QB.content.delete(blob.id, cb)));

  await step('log out bob', () => callback((cb) => QB.logout(cb)));
  const afterLogout = await step('session after logout', () => callback((cb) => QB.getSession(cb)));
  check(afterLogout.session.user_id === 0, 'logout leaves an application session', afterLogout);
  await step('destroy session', () => callback((cb) => QB.destroySession(cb)));
  let refused = null;
  await step('session is gone', () =>
    callback((cb) => QB.getSession(cb)).then(
      () => null,
      (error) => {
        refused = error;
      },
    ),
  );
  check(refused && refused.code === 401, 'a destroyed session is refused with 401', refused);

  return {
    vendor: 'quickblox',
    users: { ann: ann.id, bob: bob.id },
    logins: { ann: ann.login, bob: bob.login },
    password,
    class_name: className,
    dialogs: { group: group._id, private: direct._id },
    messages: sent.map((m) => m._id),
    unread: { before: unread, after: unreadAfter },
    file: { id: blob.id, uid: blob.uid, size: info.blob.size },
    records: { created: notes.map((n) => n._id), queried: found.items.map((r) => r._id), deleted: many.deleted },
  };
});
