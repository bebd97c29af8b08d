'use strict';
// The LeanCloud JS SDK (npm `leancloud-storage`) against an emulator: `node leancloud.js http://127.0.0.1:8183`.
//
// `serverURL` points every service (api, engine, push, stats, rtm) at the emulator, which also turns
// the app router off. Credentials: LC_APP_ID, LC_APP_KEY, LC_MASTER_KEY (the emulator's defaults
// otherwise). The master key is only used where the REST API demands it (the IM server API);
// the realtime (websocket) messaging SDK is not used.

const { baseUrl, check, run, sameSet, step } = require('./common');

const base = baseUrl('LC_API_SERVER');
const creds = {
  appId: process.env.LC_APP_ID || 'lc-app-id',
  appKey: process.env.LC_APP_KEY || 'lc-app-key',
  masterKey: process.env.LC_MASTER_KEY || 'lc-master-key',
};
const MASTER = { useMasterKey: true };

run(async () => {
  const AV = require('leancloud-storage');
  AV.init({ ...creds, serverURL: base.href.replace(/\/+$/, '') });
  const suffix = Date.now().toString(36);
  const password = 'secret-password-1';
  const className = `SdkNote${suffix}`;

  const signUp = async (name) => {
    const user = new AV.User();
    user.setUsername(`${name}_${suffix}`);
    user.setPassword(password);
    user.setEmail(`${name}.${suffix}@example.com`);
    user.set('nickname', name);
    await user.signUp();
    return user;
  };
  const ann = await step('sign up ann', () => signUp('ann'));
  check(typeof ann.id === 'string' && ann.id.length > 0, 'sign-up gave no objectId', ann.toJSON());
  check(typeof ann.getSessionToken() === 'string', 'sign-up gave no sessionToken', ann.toJSON());
  check(ann.createdAt instanceof Date && !Number.isNaN(ann.createdAt.getTime()), 'createdAt', ann.toJSON());
  check(AV.User.current() && AV.User.current().id === ann.id, 'sign-up makes the user current');
  const bob = await step('sign up bob', () => signUp('bob'));
  check(bob.id !== ann.id, 'second sign-up', bob.toJSON());

  await step('log out', () => AV.User.logOut());
  check(AV.User.current() === null, 'logOut clears the current user');
  const loggedIn = await step('log in ann', () => AV.User.logIn(`ann_${suffix}`, password));
  check(loggedIn.id === ann.id && loggedIn.getUsername() === `ann_${suffix}`, 'logIn', loggedIn.toJSON());
  check(loggedIn.get('nickname') === 'ann', 'custom user field', loggedIn.toJSON());
  const token = loggedIn.getSessionToken();

  await step('update user', async () => {
    loggedIn.set('nickname', 'Ann Updated');
    loggedIn.set('age', 30);
    await loggedIn.save();
  });
  const me = await step('users/me', () => AV.User.become(token));
  check(me.id === ann.id && me.get('nickname') === 'Ann Updated' && me.get('age') === 30, 'become', me.toJSON());
  const fetched = await step('fetch user', () => AV.Object.createWithoutData('_User', bob.id).fetch());
  check(fetched.get('username') === `bob_${suffix}`, 'fetch another user', fetched.toJSON());
  check(fetched.get('password') === undefined, 'password never returned', fetched.toJSON());
  const byName = await step('query users', () =>
    new AV.Query('_User').containedIn('username', [`ann_${suffix}`, `bob_${suffix}`]).ascending('username').find(),
  );
  check(
    JSON.stringify(byName.map((u) => u.id)) === JSON.stringify([ann.id, bob.id]),
    'users by username',
    byName.map((u) => u.toJSON()),
  );

  // Conversations are _Conversation objects; messages go through the IM server API.
  const conv = await step('create conversation', async () => {
    const made = new AV.Conversation('SDK flow');
    made.set('m', [ann.id, bob.id]);
    made.set('topic', 'sdk');
    await made.save();
    return made;
  });
  check(typeof conv.id === 'string' && conv.getName() === 'SDK flow', 'conversation', conv.toJSON());
  const convs = await step('list conversations', () =>
    new AV.Query('_Conversation').equalTo('m', bob.id).equalTo('topic', 'sdk').find(),
  );
  check(convs.length === 1 && convs[0].id === conv.id, 'conversations of bob', convs.map((c) => c.toJSON()));
  sameSet(convs[0].getMembers(), [ann.id, bob.id], 'members');
  for (const text of ['hello from the SDK', 'second message']) {
    await step(`send message "${text}"`, () => conv.send(ann.id, text, {}, MASTER));
  }
  const history = await step('list messages', () =>
    AV.request({
      method: 'GET',
      version: '1.2',
      path: `/rtm/conversations/${conv.id}/messages`,
      query: { limit: 10 },
      authOptions: MASTER,
    }),
  );
  check(Array.isArray(history), 'message history is a list', history);
  check(
    JSON.stringify(history.map((m) => m.data)) === JSON.stringify(['second message', 'hello from the SDK']),
    'message history, newest first',
    history,
  );
  check(history.every((m) => m.from === ann.id && m['conv-id'] === conv.id), 'message sender', history);
  const unread = await step('unread count', () =>
    AV.request({
      method: 'GET',
      version: '1.2',
      path: `/rtm/clients/${bob.id}/unread-count`,
      query: { conv_id: conv.id },
      authOptions: MASTER,
    }),
  );
  check(unread.count === 2, 'unread count for bob', unread);

  // Objects: create (one and a batch), query with filters, count, CQL, update, delete.
  const Note = AV.Object.extend(className);
  const alpha = await step('create object', () =>
    new Note({ title: 'alpha', score: 3, tags: ['sdk', 'alpha'], owner: AV.User.current() }).save(),
  );
  check(typeof alpha.id === 'string' && alpha.createdAt instanceof Date, 'object create', alpha.toJSON());
  const [beta, gamma] = await step('create objects (batch)', () =>
    AV.Object.saveAll([
      new Note({ title: 'beta', score: 7, tags: ['sdk', 'beta'] }),
      new Note({ title: 'gamma', score: 9, tags: ['sdk', 'gamma'] }),
    ]),
  );
  check(beta.id && gamma.id && beta.id !== gamma.id, 'batch create', [beta.toJSON(), gamma.toJSON()]);
  const notes = [alpha, beta, gamma];
  const secret = await step('create private object', () => {
    const acl = new AV.ACL();
    acl.setReadAccess(AV.User.current(), true);
    acl.setWriteAccess(AV.User.current(), true);
    const note = new Note({ title: 'secret', score: 100 });
    note.setACL(acl);
    return note.save();
  });

  const found = await step('query objects', () =>
    new AV.Query(className).greaterThan('score', 5).lessThan('score', 50).descending('score').find(),
  );
  check(
    JSON.stringify(found.map((o) => o.get('title'))) === JSON.stringify(['gamma', 'beta']),
    '5 < score < 50 sorted by score desc',
    found.map((o) => o.toJSON()),
  );
  const tagged = await step('query array field', () =>
    new AV.Query(className).containsAll('tags', ['sdk', 'alpha']).find(),
  );
  check(tagged.length === 1 && tagged[0].id === alpha.id, 'containsAll', tagged.map((o) => o.toJSON()));
  const withOwner = await step('query with include', () =>
    new AV.Query(className).equalTo('title', 'alpha').include('owner').first(),
  );
  check(withOwner.get('owner').get('username') === `ann_${suffix}`, 'include owner', withOwner.toJSON());
  const either = await step('or query', () =>
    AV.Query.or(
      new AV.Query(className).equalTo('title', 'alpha'),
      new AV.Query(className).startsWith('title', 'gam'),
    ).find(),
  );
  sameSet(either.map((o) => o.id), [alpha.id, gamma.id], 'or query');
  const counted = await step('count objects', () => new AV.Query(className).greaterThanOrEqualTo('score', 3).count());
  check(counted === 4, 'count sees the private object of its owner', counted);
  const cql = await step('CQL query', () =>
    AV.Query.doCloudQuery(`select * from ${className} where score > ? order by score`, [5]),
  );
  check(
    JSON.stringify(cql.results.map((o) => o.get('title'))) === JSON.stringify(['beta', 'gamma', 'secret']),
    'CQL results',
    cql.results.map((o) => o.toJSON()),
  );
  check(cql.className === className, 'CQL className', cql.className);

  const changed = await step('update object', () => {
    alpha.set('title', 'alpha2');
    alpha.increment('score', 10);
    alpha.addUnique('tags', 'updated');
    return alpha.save(null, { fetchWhenSave: true });
  });
  check(changed.get('score') === 13 && changed.get('title') === 'alpha2', 'update', changed.toJSON());
  sameSet(changed.get('tags'), ['sdk', 'alpha', 'updated'], 'addUnique');
  const reread = await step('get object', () => new AV.Query(className).get(alpha.id));
  check(reread.get('score') === 13 && reread.updatedAt >= reread.createdAt, 'get after update', reread.toJSON());

  await step('log in bob', () => AV.User.logIn(`bob_${suffix}`, password));
  const bobSees = await step('query as bob', () => new AV.Query(className).find());
  sameSet(bobSees.map((o) => o.id), notes.map((n) => n.id), 'the ACL hides the private object from bob');
  let refused = null;
  await step('delete as bob is refused', () =>
    secret.destroy().then(
      () => null,
      (error) => {
        refused = error;
      },
    ),
  );
  check(refused && refused.code === 403, 'bob cannot delete ann\'s private object: code 403', refused);
  await step('log in ann again', () => AV.User.logIn(`ann_${suffix}`, password));

  await step('delete object', () => beta.destroy());
  const afterOne = await step('query after delete', () => new AV.Query(className).equalTo('title', 'beta').find());
  check(afterOne.length === 0, 'deleted object still found', afterOne.map((o) => o.toJSON()));
  await step('delete objects (batch)', () => AV.Object.destroyAll([alpha, gamma, secret]));
  const left = await step('query after deletes', () => new AV.Query(className).count());
  check(left === 0, 'objects left', left);

  await step('log out', () => AV.User.logOut());
  let anonymous = null;
  await step('users/me without a session', () =>
    AV.request({ method: 'GET', path: '/users/me' }).then(
      () => null,
      (error) => {
        anonymous = error;
      },
    ),
  );
  check(anonymous && anonymous.code === 211, 'users/me without a session: code 211', anonymous);

  return {
    vendor: 'leancloud',
    users: { ann: ann.id, bob: bob.id },
    class_name: className,
    conversation: conv.id,
    messages: history.map((m) => m['msg-id']),
    unread: unread.count,
    objects: { created: notes.map((n) => n.id), queried: found.map((o) => o.id), private: secret.id },
  };
});
