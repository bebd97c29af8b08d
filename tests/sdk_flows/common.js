'use strict';
// Shared plumbing for the SDK flow scripts: the base URL, named steps, checks, the JSON report.
//
// Each flow prints one JSON object on stdout ({"ok": true, ...results}) and exits 0, or prints
// {"ok": false, "step": ..., "error": ...} and exits 1. The SDKs' own chatter goes to stderr.

const realLog = console.log;
console.log = (...args) => console.error(...args);
console.info = (...args) => console.error(...args);
console.debug = (...args) => console.error(...args);

class FlowError extends Error {}

function baseUrl(envName) {
  const given = process.argv[2] || process.env[envName] || process.env.EMULATOR_URL;
  if (!given) {
    fail('setup', new FlowError(`usage: node ${process.argv[1]} BASE_URL (or set ${envName})`));
  }
  return new URL(given.replace(/\/+$/, ''));
}

function check(condition, message, detail) {
  if (!condition) {
    const suffix = detail === undefined ? '' : `: ${JSON.stringify(detail)}`;
    throw new FlowError(message + suffix);
  }
}

function sameSet(actual, expected, message) {
  const a = [...actual].map(String).sort();
  const e = [...expected].map(String).sort();
  check(JSON.stringify(a) === JSON.stringify(e), `${message}: expected ${JSON.stringify(e)}`, a);
}

let current = 'setup';
const steps = [];

async function step(name, fn) {
  current = name;
  const started = Date.now();
  const value = await fn();
  steps.push({ name, ms: Date.now() - started });
  return value;
}

function describe(error) {
  if (error instanceof Error) {
    return error instanceof FlowError ? error.message : error.stack || error.message;
  }
  try {
    return JSON.stringify(error);
  } catch (_) {
    return String(error);
  }
}

function fail(name, error) {
  const report = { ok: false, step: name, error: describe(error), steps };
  realLog(JSON.stringify(report));
  console.error(`FAILED at step "${name}": ${report.error}`);
  process.exit(1);
}

async function run(flow) {
  const timer = setTimeout(() => fail(current, new Error('timed out after 60 s')), 60000);
  try {
    const result = await flow();
    clearTimeout(timer);
    realLog(JSON.stringify({ ok: true, ...result, steps }));
    process.exit(0);
  } catch (error) {
    fail(current, error);
  }
}

// A node-style callback call as a promise.
function callback(fn) {
  return new Promise((resolve, reject) => {
    fn((error, result) => (error ? reject(error) : resolve(result)));
  });
}

module.exports = { baseUrl, callback, check, run, sameSet, step, FlowError };
