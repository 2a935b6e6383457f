// The IPC handlers' logic (sender check → argument validation → call → envelope) and the preload
// that sits on the other side, run together. The preload is compiled exactly as the build does it
// and executed the way a sandboxed Electron preload is: as a function of
// (require, process, Buffer, global, setImmediate, clearImmediate, exports, module) whose `require`
// only knows 'electron', 'events', 'timers' and 'url'. Electron itself cannot run here, so
// `contextBridge`/`ipcRenderer` are small recorders that route invoke() into `answerCall`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { AppError, callNames, eventNames, type Api, type CallName } from '../../main/core/contract.ts';
import { bridgeArgument, bridgeSpec, EVENT_CHANNEL } from '../../main/electron/bridge-spec.ts';
import { answerCall, errorOf } from '../../main/electron/ipc-calls.ts';
import { APP_PAGE_URL } from '../../main/electron/security.ts';
// @ts-expect-error — a plain .mjs build script without type declarations
import { compilePreload } from '../../scripts/build-main.mjs';

/** An Api whose every call records its argument and answers from `answers`. */
function recordingApi(answers: Partial<Record<CallName, (args: any) => unknown>> = {}) {
  const seen: { name: CallName; args: unknown; self: unknown }[] = [];
  const api = {} as Record<CallName, (args: unknown) => Promise<unknown>>;
  for (const name of callNames) {
    api[name] = async function (this: unknown, args: unknown) {
      seen.push({ name, args, self: this });
      const answer = answers[name];
      return answer ? answer(args) : { name };
    };
  }
  return { api: api as unknown as Api, seen };
}

describe('answerCall', () => {
  it('runs a valid call from the app page and wraps the result', async () => {
    const { api, seen } = recordingApi({ 'search.text': (a) => ({ hits: [], total: 0, echo: a.text }) });
    const r = await answerCall(api, 'search.text', APP_PAGE_URL, { text: 'red car', limit: 5 });
    expect(r).toEqual({ ok: true, result: { hits: [], total: 0, echo: 'red car' } });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.self).toBe(api);
  });

  it('refuses any other sender before looking at the argument or calling the core', async () => {
    const { api, seen } = recordingApi();
    for (const url of [undefined, null, '', 'https://evil.example/', 'file:///tmp/x.html', 'app://evil/index.html']) {
      const r = await answerCall(api, 'folders.add', url, { path: '/home/me/Pictures' });
      expect(r).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    }
    expect(seen).toHaveLength(0);
  });

  it('validates arguments with the contract and never calls the core with bad ones', async () => {
    const { api, seen } = recordingApi();
    const bad: [CallName, unknown][] = [
      ['folders.add', { path: 42 }],
      ['folders.add', {}],
      ['folders.remove', { id: -1 }],
      ['photos.open', { id: '1; rm -rf /' }],
      ['photos.get', { id: 1.5 }],
      ['search.text', { text: 'x'.repeat(5000) }],
      ['search.text', { text: 'a', limit: 0 }],
      ['search.similar', {}],
      ['settings.set', { threads: 0 }],
      ['index.status', { extra: true }],
    ];
    for (const [name, args] of bad) {
      const r = await answerCall(api, name, APP_PAGE_URL, args);
      expect(r.ok, `${name} ${JSON.stringify(args)}`).toBe(false);
      if (!r.ok) {
        expect(r.error.code).toBe('invalid-argument');
        expect(r.error.message).toContain(name);
      }
    }
    expect(seen).toHaveLength(0);
  });

  it('passes AppError codes through and turns other failures into "failed" without a stack', async () => {
    const { api } = recordingApi({
      'photos.get': () => {
        throw new AppError('not-found', 'photo 9 is not in the library');
      },
      'index.pause': () => {
        throw new Error('disk full');
      },
      'index.resume': () => {
        throw 'weird';
      },
    });
    expect(await answerCall(api, 'photos.get', APP_PAGE_URL, { id: 9 })).toEqual({ ok: false, error: { code: 'not-found', message: 'photo 9 is not in the library' } });
    const r = await answerCall(api, 'index.pause', APP_PAGE_URL, undefined);
    expect(r).toEqual({ ok: false, error: { code: 'failed', message: 'disk full' } });
    expect(await answerCall(api, 'index.resume', APP_PAGE_URL, {})).toEqual({ ok: false, error: { code: 'failed', message: 'weird' } });
    expect(errorOf(new Error(''))).toEqual({ code: 'failed', message: 'unexpected error' });
  });

  it('waits for a core that is still starting, and reports one that failed to start', async () => {
    const { api, seen } = recordingApi();
    expect(await answerCall(Promise.resolve(api), 'folders.list', APP_PAGE_URL, {})).toEqual({ ok: true, result: { name: 'folders.list' } });
    const broken = Promise.reject(new AppError('failed', 'the database is locked by another program'));
    broken.catch(() => {});
    expect(await answerCall(broken, 'folders.list', APP_PAGE_URL, {})).toEqual({ ok: false, error: { code: 'failed', message: 'the database is locked by another program' } });
    expect(await answerCall(broken, 'folders.list', 'https://evil.example/', {})).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(seen).toHaveLength(1);
  });

  it('accepts an omitted argument for calls that take none', async () => {
    const { api } = recordingApi();
    for (const name of ['folders.list', 'index.status', 'models.list', 'settings.get'] as CallName[]) {
      expect((await answerCall(api, name, APP_PAGE_URL, undefined)).ok).toBe(true);
    }
  });
});

// --- the preload, run as Electron runs a sandboxed preload -----------------------------------

const preloadSource = readFileSync(join(import.meta.dirname, '..', '..', 'preload', 'index.ts'), 'utf8');

function runPreload(api: Api, opts: { argv?: string[]; senderUrl?: string } = {}) {
  const exposed = new Map<string, any>();
  const handlers = new Map<string, (e: unknown, ...a: unknown[]) => void>();
  const invoked: string[] = [];
  const spec = bridgeSpec();
  const channelToCall = new Map(spec.calls.map((c) => [c.channel, c.name]));
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, value: unknown) => exposed.set(key, value) },
    ipcRenderer: {
      // What main.ts registers for each call: ipcMain.handle(channel, (event, raw) => answerCall(...)).
      invoke: async (channel: string, raw: unknown) => {
        invoked.push(channel);
        const name = channelToCall.get(channel);
        if (!name) throw new Error(`No handler registered for '${channel}'`);
        return answerCall(api, name, opts.senderUrl ?? APP_PAGE_URL, structuredClone(raw));
      },
      on: (channel: string, fn: (e: unknown, ...a: unknown[]) => void) => handlers.set(channel, fn),
    },
  };
  const required: string[] = [];
  const sandboxRequire = (id: string) => {
    required.push(id);
    if (id === 'electron') return electron;
    if (['events', 'timers', 'url', 'node:events', 'node:timers', 'node:url'].includes(id)) return {};
    throw new Error(`module not found: ${id} (a sandboxed preload cannot load it)`);
  };
  const js = compilePreload(preloadSource) as string;
  const module = { exports: {} };
  const fn = vm.runInNewContext(`(function (require, process, Buffer, global, setImmediate, clearImmediate, exports, module) {${js}\n})`, {
    console,
  });
  const proc = { argv: opts.argv ?? ['/opt/LeanLens/leanlens', '--type=renderer', bridgeArgument()] };
  fn(sandboxRequire, proc, undefined, {}, setImmediate, clearImmediate, module.exports, module);
  const emit = (event: string, payload: unknown) => handlers.get(EVENT_CHANNEL)?.({}, { event, payload });
  return { exposed, required, invoked, emit, handlers };
}

describe('preload bridge', () => {
  it('exposes exactly one object, window.leanlens, with one function per contract call plus on()', () => {
    const { exposed, required } = runPreload(recordingApi().api);
    expect([...exposed.keys()]).toEqual(['leanlens']);
    const bridge = exposed.get('leanlens');
    expect(Object.keys(bridge).sort()).toEqual([...callNames, 'on'].sort());
    for (const key of Object.keys(bridge)) expect(typeof bridge[key]).toBe('function');
    expect(Object.isFrozen(bridge)).toBe(true);
    // Nothing generic leaks: no ipcRenderer, no invoke/send by channel name.
    for (const forbidden of ['ipcRenderer', 'invoke', 'send', 'sendSync', 'require']) expect(bridge).not.toHaveProperty(forbidden);
    expect(required).toEqual(['electron']);
  });

  it('sends each call on its own channel, validated by the main side, and unwraps the result', async () => {
    const { api, seen } = recordingApi({ 'search.text': (a) => ({ hits: [], total: 0, modelId: 'm', tookMs: 1, q: a.text }) });
    const { exposed, invoked } = runPreload(api);
    const bridge = exposed.get('leanlens');
    expect(await bridge['search.text']({ text: 'red' })).toMatchObject({ q: 'red' });
    expect(invoked).toEqual(['leanlens:call:search.text']);
    expect(seen.map((s) => s.name)).toEqual(['search.text']);
  });

  it('rejects with "<code>: <message>" so the code survives contextBridge', async () => {
    const { api, seen } = recordingApi({
      'photos.get': () => {
        throw new AppError('not-found', 'photo 3 is not in the library');
      },
    });
    const bridge = runPreload(api).exposed.get('leanlens');
    await expect(bridge['photos.get']({ id: 3 })).rejects.toThrow('not-found: photo 3 is not in the library');
    await expect(bridge['folders.add']({ path: 7 })).rejects.toThrow(/^invalid-argument: folders\.add/);
    expect(seen.map((s) => s.name)).toEqual(['photos.get']);
  });

  it('is refused end to end when the page is not the app', async () => {
    const bridge = runPreload(recordingApi().api, { senderUrl: 'https://evil.example/' }).exposed.get('leanlens');
    await expect(bridge['folders.list']()).rejects.toThrow(/^forbidden: /);
  });

  it('delivers contract events to their listeners only, and unsubscribes', () => {
    const { exposed, emit } = runPreload(recordingApi().api);
    const bridge = exposed.get('leanlens');
    const got: unknown[] = [];
    const off = bridge.on('index.progress', (p: unknown) => got.push(p));
    bridge.on('library.changed', () => got.push('wrong listener'));
    emit('index.progress', { done: 1 });
    emit('something.else', { done: 2 });
    off();
    emit('index.progress', { done: 3 });
    expect(got).toEqual([{ done: 1 }]);
    for (const e of eventNames) expect(() => bridge.on(e, () => {})).not.toThrow();
    expect(() => bridge.on('ipc.raw', () => {})).toThrow(/unknown event/);
    expect(() => bridge.on('index.progress', 'not a function')).toThrow(/listener/);
  });

  it('fails loudly when the main process did not pass the contract', () => {
    expect(() => runPreload(recordingApi().api, { argv: ['/opt/LeanLens/leanlens'] })).toThrow(/contract was not passed/);
  });
});
